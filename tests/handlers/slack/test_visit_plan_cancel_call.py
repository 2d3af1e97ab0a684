"""`/visit plan`, `cancel`, `call`, `contact` and `list` through the real endpoint, with the stored rows."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.slack.standin import SlackStandIn
from storage.models import Appointment, AppointmentStatus, CallOutcome, Client, Technician, Touch, TouchKind
from storage.repositories import count_rows
from tests.harness import MONDAY_MORNING, FrozenClock, SlackClient, button, text_of

# 8am on Friday 27 November 2026 in Chicago, Ana's zone once her profile has been fetched.
FRIDAY_8AM = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def ana_is_known(slack: SlackClient, session: Session, fake_slack: SlackStandIn) -> None:
    """Ana's first command makes the bot fetch her profile; wait until her time zone is stored."""
    slack.command("help")
    _wait_for_timezone(session, "America/Chicago")


def _with_contact(slack: SlackClient) -> None:
    slack.command('contact "Acme Dental" Jane Roe jane@acme.example +1 555 0100')


def _wait_for_timezone(session: Session, zone: str) -> None:
    for _ in range(500):
        technician = session.scalars(select(Technician)).first()
        if technician is not None and technician.timezone == zone:
            return
        time.sleep(0.01)
    raise AssertionError("the profile was not stored")


def test_plan_confirms_the_window_in_the_technicians_zone_and_stores_it(
    slack: SlackClient, session: Session
) -> None:
    message = slack.command("plan Acme Dental Friday 8-9am").json()

    assert message["text"] == "Planned Acme Dental for Fri 27 Nov, 8–9am"
    assert "Planned *Acme Dental* for Fri 27 Nov, 8–9am (America/Chicago)." in text_of(message)
    assert "On the morning of the visit I'll remind you" in text_of(message)
    appointment = session.scalars(select(Appointment)).one()
    assert (appointment.window_start, appointment.window_end) == (FRIDAY_8AM, FRIDAY_8AM + timedelta(hours=1))
    assert appointment.status is AppointmentStatus.PLANNED


def test_a_new_technician_is_told_which_zone_was_assumed(
    slack: SlackClient, session: Session, fake_slack: SlackStandIn
) -> None:
    fake_slack.delay("users.info", 2)

    message = slack.command("plan Acme Dental Friday 8-9am", user="U222").json()

    assert "I don't know your time zone yet, so I used UTC. Check the time above." in text_of(message)
    appointments = session.scalars(select(Appointment).order_by(Appointment.id)).all()
    assert appointments[-1].window_start == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def test_a_wide_window_draws_a_nudge_and_the_button_narrows_it(
    slack: SlackClient, session: Session, fake_slack: SlackStandIn
) -> None:
    message = slack.command("plan Acme Dental Friday 8-12").json()

    shown = text_of(message)
    assert "A window of 4 hours is a long wait for the client." in shown
    assert "“8–9am”, not “8–12”" in shown
    slack.press(button(message, "Make it 8–9am"), name="narrow")
    [answer] = fake_slack.wait_for_responses("narrow")
    assert "now Fri 27 Nov, 8–9am" in text_of(answer.params)
    appointment = session.scalars(select(Appointment)).one()
    assert appointment.window_end - appointment.window_start == timedelta(hours=1)


def test_planning_the_same_client_and_day_again_moves_the_appointment(
    slack: SlackClient, session: Session
) -> None:
    slack.command("plan Acme Dental Friday 8-12")
    message = slack.command("plan Acme Dental Friday 10-11am").json()

    assert message["text"] == "Moved Acme Dental for Fri 27 Nov, 10–11am"
    appointment = session.scalars(select(Appointment)).one()
    assert appointment.window_start == FRIDAY_8AM + timedelta(hours=2)


def test_plan_refusals_store_nothing(slack: SlackClient, session: Session) -> None:
    for text, expected in [
        ("plan Acme Dental", "I need a day and an arrival window"),
        ("plan Acme Dental Friday", "I need a day and an arrival window"),
        ("plan Acme Dental yesterday 8-9am", "That window is already over"),
        ("plan Acme Dental Friday 9-8am", "the window ends before it starts"),
        ("plan Acme Dental Friday 25-26", "has an hour that doesn't exist"),
    ]:
        message = slack.command(text).json()
        assert expected.lower() in text_of(message).lower(), text
        assert "/visit plan Acme Dental Friday 8-9am" in text_of(message)
    assert count_rows(session, Appointment) == 0
    assert count_rows(session, Client) == 0


def test_cancel_asks_for_a_phone_call_with_the_contacts_number(
    slack: SlackClient, session: Session, clock: FrozenClock
) -> None:
    _with_contact(slack)
    slack.command("plan Acme Dental Friday 8-9am")
    clock.advance(hours=2)

    message = slack.command("cancel Acme Dental technician ill").json()

    shown = text_of(message)
    assert "Cancelled your appointment with *Acme Dental* on Fri 27 Nov, 8–9am." in shown
    assert "Please phone Jane Roe now on +1 555 0100" in shown
    assert "An e-mail alone isn't enough to cancel" in shown
    appointment = session.scalars(select(Appointment)).one()
    assert appointment.status is AppointmentStatus.CANCELLED
    assert appointment.cancelled_at == MONDAY_MORNING + timedelta(hours=2)
    assert appointment.cancel_reason == "technician ill"
    assert appointment.call_logged_at is None
    assert [b["text"]["text"] for b in message["blocks"][2]["elements"]] == [
        "Spoke to them",
        "Left voicemail",
    ]


def test_cancel_without_a_number_says_how_to_add_one(slack: SlackClient) -> None:
    slack.command("plan Acme Dental Friday 8-9am")

    shown = text_of(slack.command("cancel Acme Dental").json())

    assert "I don't have their number: add it with /visit contact Acme Dental" in shown


def test_cancel_with_nothing_planned_is_refused(slack: SlackClient, session: Session) -> None:
    slack.command("Acme Dental 1h fixed printer")

    shown = text_of(slack.command("cancel Acme Dental").json())

    assert "You have no upcoming appointment with Acme Dental to cancel." in shown
    assert count_rows(session, Appointment) == 0


def test_cancel_of_an_unknown_client_suggests_the_near_one(slack: SlackClient, session: Session) -> None:
    slack.command("plan Acme Dental Friday 8-9am")

    message = slack.command("cancel Acme Dentl flu").json()

    assert "Did you mean *Acme Dental*?" in text_of(message)
    assert session.scalars(select(Appointment)).one().status is AppointmentStatus.PLANNED


def test_the_call_button_closes_the_task_once(
    slack: SlackClient, session: Session, fake_slack: SlackStandIn, clock: FrozenClock
) -> None:
    _with_contact(slack)
    slack.command("plan Acme Dental Friday 8-9am")
    message = slack.command("cancel Acme Dental").json()
    clock.advance(minutes=10)

    slack.press(button(message, "Left voicemail"), name="call")
    slack.press(button(message, "Spoke to them"), name="again")

    [first] = fake_slack.wait_for_responses("call")
    assert "Logged a call to *Acme Dental* (left a voicemail)" in text_of(first.params)
    assert "That closes the call about the cancelled appointment" in text_of(first.params)
    [second] = fake_slack.wait_for_responses("again")
    assert "was logged on Mon 23 Nov. All done." in text_of(second.params)
    calls = session.scalars(select(Touch).where(Touch.kind == TouchKind.CALL)).all()
    assert [(t.outcome, t.touched_at) for t in calls] == [
        (CallOutcome.VOICEMAIL, MONDAY_MORNING + timedelta(minutes=10))
    ]
    assert session.scalars(select(Appointment)).one().call_logged_at == MONDAY_MORNING + timedelta(minutes=10)


def test_visit_call_logs_a_touch_and_closes_the_task(
    slack: SlackClient, session: Session, clock: FrozenClock
) -> None:
    slack.command("plan Acme Dental Friday 8-9am")
    slack.command("cancel Acme Dental")
    clock.advance(hours=1)

    message = slack.command("call Acme Dental spoke moved to Tuesday").json()

    assert "Logged a call to *Acme Dental* (spoke to them)." in text_of(message)
    assert "That closes the call" in text_of(message)
    touch = session.scalars(select(Touch).where(Touch.kind == TouchKind.CALL)).one()
    assert (touch.outcome, touch.note) == (CallOutcome.SPOKE, "moved to Tuesday")
    assert session.scalars(select(Client)).one().last_touch_at == MONDAY_MORNING + timedelta(hours=1)
    assert session.scalars(select(Appointment)).one().call_logged_at == MONDAY_MORNING + timedelta(hours=1)


def test_another_technicians_call_button_changes_nothing(
    slack: SlackClient, session: Session, fake_slack: SlackStandIn
) -> None:
    slack.command("plan Acme Dental Friday 8-9am")
    message = slack.command("cancel Acme Dental").json()

    slack.press(button(message, "Spoke to them"), user="U222", name="intruder")

    [answer] = fake_slack.wait_for_responses("intruder")
    assert "isn't one of yours" in text_of(answer.params)
    assert session.scalars(select(Appointment)).one().call_logged_at is None
    assert count_rows(session, Touch) == 0


def test_contact_is_set_in_parts(slack: SlackClient, session: Session) -> None:
    slack.command('contact "Acme Dental" Jane Roe jane@acme.example')
    message = slack.command("contact acme dental +1 555 0100").json()

    assert "Saved the contact for *Acme Dental*: Jane Roe · jane@acme.example · +1 555 0100" in text_of(
        message
    )
    client = session.scalars(select(Client)).one()
    assert (client.contact_name, client.contact_email, client.contact_phone) == (
        "Jane Roe",
        "jane@acme.example",
        "+1 555 0100",
    )


def test_contact_for_an_unknown_unquoted_client_asks_for_quotes(slack: SlackClient, session: Session) -> None:
    message = slack.command("contact Acme Dental Jane Roe jane@acme.example").json()

    assert "A new client's name goes in quotes" in text_of(message)
    assert '/visit contact "Acme Dental" Jane Roe jane@acme.example +1 555 0100' in text_of(message)
    assert count_rows(session, Client) == 0


def test_list_shows_what_is_open_with_buttons(slack: SlackClient, clock: FrozenClock) -> None:
    _with_contact(slack)
    slack.command("Acme Dental 1h fixed printer")
    slack.command("plan Acme Dental Friday 8-9am")
    slack.command("plan Acme Dental Thursday 8-9am")
    slack.command("cancel Acme Dental")
    slack.command("Acme Dental send the quote by Wednesday", command="/promise")

    message = slack.command("list").json()

    shown = text_of(message)
    assert "*Follow-up e-mails to send* (1)" in shown
    assert "*Acme Dental*, Mon 23 Nov: fixed printer (1h)" in shown
    assert "*Calls to make about cancellations* (1)" in shown
    assert "*Acme Dental* (+1 555 0100): cancelled Thu 26 Nov, 8–9am" in shown
    assert "*Appointments coming up* (1)" in shown
    assert "*Acme Dental*: Fri 27 Nov, 8–9am" in shown
    assert "#1 *Acme Dental*: send the quote. Due Wed 25 Nov" in shown
    assert [b["text"]["text"] for b in _accessories(message)] == ["Mark sent", "Spoke to them", "Kept"]


def _accessories(message: dict[str, object]) -> list[dict[str, dict[str, str]]]:
    return [b["accessory"] for b in message["blocks"] if "accessory" in b]  # type: ignore[index, union-attr, operator]


def test_list_for_one_client_shows_its_contact_and_last_touch(slack: SlackClient, clock: FrozenClock) -> None:
    _with_contact(slack)
    slack.command("Acme Dental 1h fixed printer")
    slack.command("Northwind 1h new laptops")
    clock.advance(days=3)

    shown = text_of(slack.command("list acme dental").json())

    assert "*Acme Dental*: last touch Mon 23 Nov (3 days ago); check in every 30 days." in shown
    assert "Contact: Jane Roe · jane@acme.example · +1 555 0100" in shown
    assert "Northwind" not in shown


def test_list_with_nothing_open(slack: SlackClient) -> None:
    shown = text_of(slack.command("list").json())

    assert "Nothing open: no follow-ups, calls or promises waiting." in shown


def test_help_lists_every_subcommand(slack: SlackClient) -> None:
    shown = text_of(slack.command("help").json())

    for example in (
        "/visit Acme Dental 1h30 replaced fuser; todo: order toner",
        "/visit plan Acme Dental Friday 8-9am",
        "/visit cancel Acme Dental",
        "/visit call Acme Dental",
        "/visit contact Acme Dental Jane Roe jane@acme.example +1 555 0100",
        "/visit list",
    ):
        assert example in shown
