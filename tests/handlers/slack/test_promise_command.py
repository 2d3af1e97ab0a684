"""`/promise` through the real endpoint: add, done, move, list, help, and the refusals."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.slack.standin import SlackStandIn
from storage.models import Client, Promise, Technician
from storage.repositories import count_rows
from tests.harness import MONDAY_MORNING, FrozenClock, SlackClient, button, text_of

# The end of Friday 27 November 2026 in Chicago: what "by Friday" means for Ana.
END_OF_FRIDAY = datetime(2026, 11, 28, 5, 59, tzinfo=UTC)


@pytest.fixture(autouse=True)
def ana_is_known(slack: SlackClient, session: Session) -> None:
    """Ana's time zone is stored before the test, as after her first command."""
    slack.command("help", command="/promise")
    for _ in range(500):
        technician = session.scalars(select(Technician)).first()
        if technician is not None and technician.timezone == "America/Chicago":
            return
        time.sleep(0.01)
    raise AssertionError("the profile was not stored")


def promise(slack: SlackClient, text: str, **kwargs: str) -> dict[str, object]:
    response = slack.command(text, command="/promise", **kwargs)
    assert response.status_code == 200
    message: dict[str, object] = response.json()
    return message


def test_a_promise_is_stored_with_its_due_date(slack: SlackClient, session: Session) -> None:
    slack.command("Acme Dental 1h fixed printer")

    message = promise(slack, "Acme Dental send the revised quote by Friday")

    assert message["text"] == "Promise #1 to Acme Dental, due Fri 27 Nov"
    assert "Promise #1 to *Acme Dental*: send the revised quote. Due Fri 27 Nov." in text_of(message)
    assert "I'll remind you the working day before and on the day." in text_of(message)
    stored = session.scalars(select(Promise)).one()
    assert (stored.text, stored.due_at, stored.done_at, stored.times_moved) == (
        "send the revised quote",
        END_OF_FRIDAY,
        None,
        0,
    )


def test_a_due_time_is_kept_when_given(slack: SlackClient, session: Session) -> None:
    slack.command("Acme Dental 1h fixed printer")

    message = promise(slack, "Acme Dental call back tomorrow 5pm")

    assert "Due Tue 24 Nov, 5pm." in text_of(message)
    assert session.scalars(select(Promise)).one().due_at == datetime(2026, 11, 24, 23, 0, tzinfo=UTC)


def test_a_promise_without_a_due_date_asks_for_one(slack: SlackClient, session: Session) -> None:
    slack.command("Acme Dental 1h fixed printer")

    shown = text_of(promise(slack, "Acme Dental send the revised quote"))

    assert "By when? A promise to Acme Dental needs a due date" in shown
    assert "/promise Acme Dental send the revised quote by Friday" in shown
    assert count_rows(session, Promise) == 0


def test_a_due_date_in_the_past_is_refused(slack: SlackClient, session: Session) -> None:
    slack.command("Acme Dental 1h fixed printer")

    shown = text_of(promise(slack, "Acme Dental send the quote by 2026-11-20"))

    assert "That date is already past." in shown
    assert count_rows(session, Promise) == 0


def test_a_new_client_must_be_quoted(slack: SlackClient, session: Session) -> None:
    shown = text_of(promise(slack, "Northwind send the quote by Friday"))

    assert "A new client's name goes in quotes" in shown
    assert count_rows(session, Client) == 0
    promise(slack, '"Northwind" send the quote by Friday')
    assert [c.name for c in session.scalars(select(Client))] == ["Northwind"]
    assert session.scalars(select(Promise)).one().text == "send the quote"


def test_a_near_miss_client_asks_did_you_mean(
    slack: SlackClient, session: Session, fake_slack: SlackStandIn
) -> None:
    slack.command("Acme Dental 1h fixed printer")

    message = promise(slack, "Acme Dentl send the quote by Friday")

    assert "Did you mean *Acme Dental*?" in text_of(message)
    slack.press(button(message, "Acme Dental"), name="choice")
    fake_slack.wait_for_responses("choice")
    stored = session.scalars(select(Promise)).one()
    assert (stored.client.name, stored.text) == ("Acme Dental", "send the quote")


def test_done_marks_it_kept_on_time(slack: SlackClient, session: Session, clock: FrozenClock) -> None:
    slack.command("Acme Dental 1h fixed printer")
    promise(slack, "Acme Dental send the quote by Friday")
    clock.advance(days=2)

    shown = text_of(promise(slack, "done 1"))

    assert "#1 to *Acme Dental* (send the quote): kept, on time" in shown
    assert session.scalars(select(Promise)).one().done_at == MONDAY_MORNING + timedelta(days=2)
    assert "#1 was already marked kept on Wed 25 Nov." in text_of(promise(slack, "done #1"))


def test_kept_late_says_how_late(slack: SlackClient, clock: FrozenClock) -> None:
    slack.command("Acme Dental 1h fixed printer")
    promise(slack, "Acme Dental send the quote by Tuesday")
    clock.advance(days=3)

    assert "kept, 2 day(s) late" in text_of(promise(slack, "done 1"))


def test_the_kept_button_works_once(slack: SlackClient, session: Session, fake_slack: SlackStandIn) -> None:
    slack.command("Acme Dental 1h fixed printer")
    message = promise(slack, "Acme Dental send the quote by Friday")

    slack.press(button(message, "Kept"), name="kept")
    slack.press(button(message, "Kept"), name="again")

    assert "kept, on time" in text_of(fake_slack.wait_for_responses("kept")[0].params)
    assert "already marked kept" in text_of(fake_slack.wait_for_responses("again")[0].params)
    assert session.scalars(select(Promise)).one().done_at == MONDAY_MORNING


def test_move_changes_the_date_and_prompts_to_tell_the_client(slack: SlackClient, session: Session) -> None:
    slack.command('contact "Acme Dental" Jane Roe jane@acme.example +1 555 0100')
    promise(slack, "Acme Dental send the quote by Friday")

    shown = text_of(promise(slack, "move 1 to 2026-12-01"))

    assert "Moved #1 (send the quote) from Fri 27 Nov to Tue 1 Dec." in shown
    assert "Please tell Acme Dental now (Jane Roe, +1 555 0100)" in shown
    stored = session.scalars(select(Promise)).one()
    assert stored.times_moved == 1
    assert stored.due_at == datetime(2026, 12, 2, 5, 59, tzinfo=UTC)


def test_someone_elses_promise_cannot_be_kept_or_moved(slack: SlackClient, session: Session) -> None:
    slack.command("Acme Dental 1h fixed printer")
    promise(slack, "Acme Dental send the quote by Friday")

    assert "isn't one of yours" in text_of(promise(slack, "done 1", user="U222"))
    assert "isn't one of yours" in text_of(promise(slack, "move 1 to Monday", user="U222"))
    stored = session.scalars(select(Promise)).one()
    assert (stored.done_at, stored.times_moved, stored.due_at) == (None, 0, END_OF_FRIDAY)


def test_unknown_numbers_and_bad_moves_are_refused(slack: SlackClient) -> None:
    assert "There's no promise #9." in text_of(promise(slack, "done 9"))
    assert "isn't a promise number" in text_of(promise(slack, "done twelve"))
    assert "To which date?" in text_of(promise(slack, "move 1 to someday"))


def test_list_shows_open_promises_soonest_first_and_flags_overdue(
    slack: SlackClient, clock: FrozenClock
) -> None:
    slack.command("Acme Dental 1h fixed printer")
    slack.command('"Northwind" 1h new laptops')
    promise(slack, "Northwind order the switch by Friday")
    promise(slack, "Acme Dental send the quote by Tuesday")
    promise(slack, "Acme Dental call Jane by Wednesday")
    promise(slack, "done 3")
    clock.advance(days=2)

    message = promise(slack, "list")

    lines = [b["text"]["text"] for b in message["blocks"]]  # type: ignore[index, union-attr]
    assert lines == [
        "*Promises* (2 open)",
        "#2 *Acme Dental*: send the quote. Due Tue 24 Nov :warning: overdue",
        "#1 *Northwind*: order the switch. Due Fri 27 Nov",
    ]


def test_help(slack: SlackClient) -> None:
    shown = text_of(promise(slack, "help"))

    for example in (
        "/promise Acme Dental send the revised quote by Friday",
        "/promise done 12",
        "/promise list",
    ):
        assert example in shown
