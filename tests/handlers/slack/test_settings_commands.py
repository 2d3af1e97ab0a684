"""`/visit cadence`, `pause`, `resume` and `hours` through the real endpoint; bad input stores nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.slack.standin import SlackStandIn
from storage.models import Client, Technician, Visit
from tests.harness import FrozenClock, SlackClient, button
from tests.reminders import chicago, introduce, shown


@pytest.fixture(autouse=True)
def ana_at_work(slack: SlackClient, session: Session, clock: FrozenClock) -> None:
    """Ana's time zone is known, and it is Monday 23 November, 9:00 in Chicago."""
    introduce(slack, session)
    clock.now = chicago(11, 23, 9)


def visit(slack: SlackClient, text: str, *, user: str = "U111") -> list[str]:
    response = slack.command(text, user=user)
    assert response.status_code == 200
    return shown(response.json())


def technician(session: Session, user: str = "U111") -> Technician:
    return session.scalars(select(Technician).where(Technician.user_id == user)).one()


def cadence(session: Session) -> int:
    return session.scalars(select(Client)).one().checkin_cadence_days


def test_any_technician_sets_a_clients_cadence(slack: SlackClient, session: Session) -> None:
    visit(slack, "Acme Dental 1h replaced the fuser")
    introduce(slack, session, "U222")

    assert visit(slack, "cadence Acme Dental 14") == [
        ":calendar: Check-ins with *Acme Dental* are now due every 14 days. Next check-in by Mon 7 Dec."
    ]
    assert cadence(session) == 14
    assert visit(slack, "cadence acme dental every 2 weeks", user="U222") == [
        ":calendar: Check-ins with *Acme Dental* are now due every 14 days. Next check-in by Mon 7 Dec."
    ]
    assert visit(slack, "cadence Acme Dental 1") == [
        ":calendar: Check-ins with *Acme Dental* are now due every day. Next check-in by Tue 24 Nov."
    ]
    assert cadence(session) == 1


def test_a_shorter_cadence_can_make_a_checkin_due_now(
    slack: SlackClient, session: Session, clock: FrozenClock
) -> None:
    visit(slack, "Acme Dental 1h replaced the fuser")
    clock.now = chicago(12, 4, 10)

    assert visit(slack, "cadence Acme Dental 7") == [
        ":calendar: Check-ins with *Acme Dental* are now due every 7 days. A check-in is due now: the last "
        "touch was Mon 23 Nov."
    ]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("cadence Acme Dental 0", ":warning: A check-in cadence is a whole number of days from 1 to 365."),
        ("cadence Acme Dental 400", ":warning: A check-in cadence is a whole number of days from 1 to 365."),
        (
            "cadence Acme Dental often",
            ":warning: How often? Put the number of days (1 to 365) after the client's name.",
        ),
        ("cadence Globex 14", ":warning: I don't know a client called “Globex”."),
        ('cadence "Globex" 14', ":warning: I don't know a client called “Globex” yet."),
    ],
)
def test_a_bad_cadence_is_refused_with_an_example_and_stores_nothing(
    slack: SlackClient, session: Session, text: str, said: str
) -> None:
    visit(slack, "Acme Dental 1h replaced the fuser")

    assert visit(slack, text) == [said, "For example:", "/visit cadence Acme Dental 14"]
    assert [(c.name, c.checkin_cadence_days) for c in session.scalars(select(Client))] == [
        ("Acme Dental", 30)
    ]


def test_a_mistyped_client_asks_did_you_mean_and_the_answer_sets_the_cadence(
    slack: SlackClient, session: Session, fake_slack: SlackStandIn
) -> None:
    visit(slack, "Acme Dental 1h replaced the fuser")
    message = slack.command("cadence Acme Dentl 14").json()

    assert shown(message)[0] == "I don't know a client called “Acme Dentl”. Did you mean *Acme Dental*?"
    assert cadence(session) == 30
    slack.press(button(message, "Acme Dental"), name="choice")
    fake_slack.wait_for_responses("choice")
    assert cadence(session) == 14


def test_pause_until_a_date_and_resume(slack: SlackClient, session: Session, clock: FrozenClock) -> None:
    assert visit(slack, "pause until 2026-12-07") == [
        ":palm_tree: Reminders paused. The next ones arrive on Mon 7 Dec at 8am, with whatever fell due "
        "while you were away. Enjoy the break!",
        "Back early? /visit resume",
    ]
    assert technician(session).paused_until == date(2026, 12, 7)
    assert visit(slack, "hours")[:2] == [
        ":clock8: Your working hours: Mon–Fri, 8am–6pm (America/Chicago).",
        ":palm_tree: Reminders are paused until Mon 7 Dec (/visit resume ends the pause).",
    ]
    assert (
        visit(slack, "list")[-1] == "Your reminders are paused until Mon 7 Dec: /visit resume ends the pause."
    )

    clock.now = chicago(11, 28, 11)  # a Saturday: back on Monday morning
    assert visit(slack, "resume") == [
        ":bell: Welcome back! Reminders are on again from Mon 30 Nov at 8am, with anything that fell due "
        "while they were paused."
    ]
    assert technician(session).paused_until is None
    assert "paused" not in " ".join(visit(slack, "list"))


def test_a_pause_ending_on_a_weekend_names_the_monday(slack: SlackClient, session: Session) -> None:
    assert visit(slack, "pause until Saturday")[0] == (
        ":palm_tree: Reminders paused. The next ones arrive on Mon 30 Nov at 8am, with whatever fell due "
        "while you were away. Enjoy the break!"
    )
    assert technician(session).paused_until == date(2026, 11, 28)


@pytest.mark.parametrize(
    ("text", "said", "example"),
    [
        (
            "pause",
            ":warning: Until when? Give the day your reminders should start again.",
            "/visit pause until Monday",
        ),
        (
            "pause until today",
            ":warning: Pick a day after today: your reminders start again that morning.",
            "/visit pause until Monday",
        ),
        ("pause until 2028-01-01", ":warning: A pause can last up to a year.", "/visit pause until Monday"),
        (
            "pause until someday",
            ":warning: I can't tell which day “someday” is.",
            "/visit pause until Monday",
        ),
        (
            "resume please",
            ":warning: “resume” needs nothing after it: it ends your pause now.",
            "/visit resume",
        ),
    ],
)
def test_a_bad_pause_is_refused_and_stores_nothing(
    slack: SlackClient, session: Session, text: str, said: str, example: str
) -> None:
    visit(slack, "pause until 2026-12-07")

    assert visit(slack, text) == [said, "For example:", example]
    assert technician(session).paused_until == date(2026, 12, 7)


def test_hours_and_days_are_stored_for_the_technician(slack: SlackClient, session: Session) -> None:
    assert visit(slack, "hours 7:30-16") == [
        ":clock8: Your working hours are now Mon–Fri, 7:30am–4pm (America/Chicago). "
        "Reminders arrive only then."
    ]
    stored = technician(session)
    assert (stored.work_start_minute, stored.work_end_minute, stored.work_days) == (450, 960, "01234")

    assert visit(slack, "hours 8-18 mon-sat")[0] == (
        ":clock8: Your working hours are now Mon–Sat, 8am–6pm (America/Chicago). Reminders arrive only then."
    )
    assert visit(slack, "hours sun-thu")[0] == (
        ":clock8: Your working hours are now Sun–Thu, 8am–6pm (America/Chicago). Reminders arrive only then."
    )
    stored = technician(session)
    assert (stored.work_start_minute, stored.work_end_minute, stored.work_days) == (480, 1080, "01236")
    assert visit(slack, "hours") == [
        ":clock8: Your working hours: Sun–Thu, 8am–6pm (America/Chicago).",
        "Change them with /visit hours 7:30-16 mon-fri",
    ]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("hours 25-26", ":warning: Working hours fit in one day, from 0:00 to 23:59."),
        ("hours 22-6", ":warning: Working hours end after they start, on the same day."),
        ("hours 8-8:30", ":warning: A working day is at least an hour long."),
        ("hours 8-18 someday", ":warning: I can't read “someday” as days of the week."),
        ("hours nine to five", ":warning: I can't read “nine to five” as days of the week."),
    ],
)
def test_bad_hours_are_refused_with_an_example_and_store_nothing(
    slack: SlackClient, session: Session, text: str, said: str
) -> None:
    visit(slack, "hours 7-15 mon-sat")

    assert visit(slack, text) == [said, "For example:", "/visit hours 7:30-16 mon-fri"]
    stored = technician(session)
    assert (stored.work_start_minute, stored.work_end_minute, stored.work_days) == (420, 900, "012345")


def test_before_the_time_zone_is_known_the_reply_says_which_was_used(
    slack: SlackClient, session: Session
) -> None:
    # U333 is not in the fake's directory, so the profile never arrives.
    assert visit(slack, "hours 7-15", user="U333") == [
        ":clock8: Your working hours are now Mon–Fri, 7am–3pm (UTC). Reminders arrive only then.",
        "I don't know your time zone yet, so I used UTC; it's updated from your profile.",
    ]


def test_a_client_named_like_a_settings_word_still_gets_visits_logged(
    slack: SlackClient, session: Session
) -> None:
    visit(slack, '"Hours Plus" 1h new router')

    assert (
        visit(slack, "Hours Plus 30m fixed the printer")[0]
        == ":white_check_mark: Logged 30m at *Hours Plus*."
    )
    assert [v.work_done for v in session.scalars(select(Visit).order_by(Visit.id))] == [
        "new router",
        "fixed the printer",
    ]


def test_help_shows_the_settings_commands(slack: SlackClient) -> None:
    shown_help = "\n".join(visit(slack, "help"))

    for example in (
        "/visit cadence Acme Dental 14",
        "/visit pause until 2026-12-07",
        "/visit pause until Monday",
        "/visit resume",
        "/visit hours 7:30-16",
        "/visit hours 8-18 mon-sat",
    ):
        assert example in shown_help
