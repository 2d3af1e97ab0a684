"""Planning and sending through the real bot: commands over signed HTTP, the jobs at chosen instants, the DMs.

Ana works in Chicago, Bo in Berlin; the week is that of Monday 23 November 2026.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import texts
from bot.services import Services
from handlers.slack.standin import SlackStandIn
from storage.models import Nudge, NudgeStatus, Technician
from tests.harness import FrozenClock, SlackClient, button, text_of
from tests.reminders import BERLIN, CHICAGO, Jobs, chicago, introduce, local, outbox, sent_at, shown

CONTACT = 'contact "Acme Dental" Jane Roe jane@acme.example +1 555 0100'


@pytest.fixture
def jobs(services: Services, fake_slack: SlackStandIn) -> Jobs:
    """The scheduler's jobs, run by hand."""
    return Jobs(services, fake_slack)


@pytest.fixture(autouse=True)
def ana_at_work(slack: SlackClient, session: Session, clock: FrozenClock) -> None:
    """Ana's time zone is known, and it is Monday 9:00 in Chicago."""
    introduce(slack, session)
    clock.now = chicago(11, 23, 9)


def visit(slack: SlackClient, text: str, *, user: str = "U111") -> list[str]:
    response = slack.command(text, user=user)
    assert response.status_code == 200
    return shown(response.json())


def promise(slack: SlackClient, text: str) -> list[str]:
    response = slack.command(text, command="/promise")
    assert response.status_code == 200
    return shown(response.json())


def test_everything_due_at_one_instant_is_sent_once_however_often_the_jobs_run(
    slack: SlackClient, jobs: Jobs, session: Session
) -> None:
    visit(slack, CONTACT)
    visit(slack, "Acme Dental 1h30 replaced fuser; todo: order toner")
    visit(slack, "plan Acme Dental Wednesday 10-11am")
    visit(slack, "plan Acme Dental Tuesday 2-3pm")
    visit(slack, "cancel Acme Dental technician ill")
    promise(slack, "Acme Dental send the revised quote by Wednesday")
    visit(slack, 'contact "Northwind" Sam Lee +1 555 0199')
    visit(slack, "cadence Northwind 2")

    jobs.run(chicago(11, 25, 9))
    jobs.run(chicago(11, 25, 9))
    jobs.run(chicago(11, 25, 9, 5))

    assert jobs.texts() == [
        "Follow-up to Acme Dental not sent yet",
        "Please call Acme Dental about the cancellation",
        "Promise #1 to Acme Dental is due today",
        "Time to check in with Northwind",
        "Today: Acme Dental Wed 25 Nov, 10–11am",
    ]
    assert {call.params["channel"] for call in jobs.dms()} == {"U111"}
    followup, call, kept, checkin, today = (shown(dm.params) for dm in jobs.dms())
    assert followup[0] == (
        ":email: The follow-up e-mail for your visit to *Acme Dental* on Mon 23 Nov (1h30) hasn't gone out "
        "yet. Here it is again:"
    )
    assert "What is left: order toner" in followup
    assert followup[-2:] == ["Mark sent", "Snooze until tomorrow"]
    assert call == [
        ":telephone_receiver: You cancelled *Acme Dental* (Tue 24 Nov, 2–3pm). Please phone them: Jane Roe, "
        "+1 555 0100. A cancellation by e-mail alone leaves them waiting.",
        "Spoke to them",
        "Left voicemail",
    ]
    assert kept == [
        ":handshake: Promise #1 to *Acme Dental*: send the revised quote. It's due today.",
        "Kept",
        "Move",
        "Can't make it? Move it and tell the client the new date: /promise move 1 to &lt;date&gt;",
    ]
    assert checkin == [
        ":wave: Time to check in with *Northwind*: no touch logged yet. A short call keeps clients for "
        "years. Contact: Sam Lee, +1 555 0199.",
        "Log a call",
        "Log an e-mail",
        "Log a meeting",
        "Snooze 3 days",
    ]
    assert today == [
        ":calendar: Today you're at *Acme Dental*, Wed 25 Nov, 10–11am. Contact: Jane Roe, +1 555 0100.",
        "If you'll be late, phone them before the window starts (not an e-mail).",
        "Running late",
    ]
    assert outbox(session) == [
        ("visit:1", "followup", "2026-11-25", "sent"),
        ("appointment:2", "call", "call-10", "sent"),
        ("promise:1", "promise", "2026-11-25:2026-11-25", "sent"),
        ("client:2", "checkin", "2026-11-25:0", "sent"),
        ("appointment:1", "appointment", "2026-11-25", "sent"),
    ]


@pytest.mark.parametrize(("user", "tz"), [("U111", CHICAGO), ("U222", BERLIN)], ids=["chicago", "berlin"])
def test_what_falls_due_at_the_weekend_arrives_on_monday_at_8am_local(
    slack: SlackClient, jobs: Jobs, session: Session, clock: FrozenClock, user: str, tz: ZoneInfo
) -> None:
    introduce(slack, session, user)
    # Friday 14:00: four working hours later is Friday 18:00, the end of the day.
    clock.now = local(tz, 11, 27, 14)
    visit(slack, "Acme Dental 1h replaced the fuser", user=user)

    for moment in (
        local(tz, 11, 27, 18),
        local(tz, 11, 28, 12),
        local(tz, 11, 29, 20),
        local(tz, 11, 30, 7, 59),
    ):
        jobs.run(moment)
    assert jobs.dms() == []

    jobs.run(local(tz, 11, 30, 8))

    [dm] = jobs.dms()
    assert dm.params["channel"] == user
    nudge = session.scalars(select(Nudge)).one()
    assert (nudge.period, nudge.status, nudge.due_at, nudge.sent_at) == (
        "2026-11-30",
        NudgeStatus.SENT,
        local(tz, 11, 30, 8),
        local(tz, 11, 30, 8),
    )


@pytest.mark.parametrize(
    ("user", "tz", "friday", "monday", "friday_8am", "monday_8am"),
    [
        # Spring forward: 8am on Monday is an hour earlier in UTC than on the Friday before.
        ("U111", CHICAGO, (3, 6), (3, 9), (3, 6, 14), (3, 9, 13)),
        ("U222", BERLIN, (3, 27), (3, 30), (3, 27, 7), (3, 30, 6)),
        # Fall back: an hour later.
        ("U111", CHICAGO, (10, 30), (11, 2), (10, 30, 13), (11, 2, 14)),
        ("U222", BERLIN, (10, 23), (10, 26), (10, 23, 6), (10, 26, 7)),
    ],
    ids=["chicago-spring", "berlin-spring", "chicago-fall", "berlin-fall"],
)
def test_across_a_dst_change_the_8am_reminder_arrives_at_8am_local(
    slack: SlackClient,
    jobs: Jobs,
    session: Session,
    clock: FrozenClock,
    user: str,
    tz: ZoneInfo,
    friday: tuple[int, int],
    monday: tuple[int, int],
    friday_8am: tuple[int, int, int],
    monday_8am: tuple[int, int, int],
) -> None:
    introduce(slack, session, user)
    # The same local 8am, written out in UTC under each day's offset.
    before, after = datetime(2026, *friday_8am, tzinfo=UTC), datetime(2026, *monday_8am, tzinfo=UTC)
    assert (before, after) == (local(tz, *friday, 8), local(tz, *monday, 8))
    clock.now = before - timedelta(days=2)
    slack.command('"Acme Dental" send the revised quote by Monday', command="/promise", user=user)

    for moment in (before - timedelta(minutes=1), before, after - timedelta(minutes=1), after):
        jobs.run(moment)

    assert jobs.texts(user) == [
        f"Promise #1 to Acme Dental is due {texts.day(after, tz)}",
        "Promise #1 to Acme Dental is due today",
    ]
    assert [moment for _, moment in sent_at(session)] == [before, after]


def test_a_pause_holds_every_reminder_and_resume_brings_them_back(
    slack: SlackClient, jobs: Jobs, session: Session, clock: FrozenClock
) -> None:
    visit(slack, "Acme Dental 1h replaced the fuser")
    clock.now = chicago(11, 23, 9, 30)

    assert visit(slack, "pause until Monday") == [
        ":palm_tree: Reminders paused. The next ones arrive on Mon 30 Nov at 8am, with whatever fell due "
        "while you were away. Enjoy the break!",
        "Back early? /visit resume",
    ]
    assert session.scalars(select(Technician)).one().paused_until == date(2026, 11, 30)
    for moment in (chicago(11, 23, 13), chicago(11, 24, 9), chicago(11, 25, 9)):
        jobs.run(moment)
    assert jobs.dms() == []

    clock.now = chicago(11, 25, 10)
    assert visit(slack, "resume") == [
        ":bell: Welcome back! Reminders are on again now, with anything that fell due while they were paused."
    ]
    jobs.run(chicago(11, 25, 10))

    assert jobs.texts() == ["Follow-up to Acme Dental not sent yet"]
    assert session.scalars(select(Technician)).one().paused_until is None
    assert outbox(session) == [("visit:1", "followup", "2026-11-25", "sent")]
    assert visit(slack, "resume") == [
        ":bell: Your reminders aren't paused: they arrive Mon–Fri, 8am–6pm (America/Chicago)."
    ]


def test_a_pause_ends_on_its_date_with_one_reminder_about_what_fell_due(
    slack: SlackClient, jobs: Jobs, session: Session, clock: FrozenClock
) -> None:
    visit(slack, CONTACT)
    visit(slack, "plan Acme Dental Tuesday 2-3pm")
    visit(slack, "cancel Acme Dental")
    jobs.run(chicago(11, 23, 11))
    clock.now = chicago(11, 23, 11, 30)
    visit(slack, "pause until 2026-11-30")

    for moment in (chicago(11, 23, 13), chicago(11, 27, 17), chicago(11, 30, 7, 59)):
        jobs.run(moment)
    assert len(jobs.dms()) == 1
    jobs.run(chicago(11, 30, 8))
    jobs.run(chicago(11, 30, 8, 59))

    # Not Monday's second round again (call-2), nor silence until mid-afternoon: the latest round, at 8am.
    assert outbox(session) == [
        ("appointment:1", "call", "call-1", "sent"),
        ("appointment:1", "call", "call-24", "sent"),
    ]
    assert sent_at(session)[1] == ("call-24", chicago(11, 30, 8))


def test_a_reminder_held_overnight_is_replaced_by_the_mornings(
    slack: SlackClient, jobs: Jobs, session: Session, clock: FrozenClock
) -> None:
    promise(slack, '"Acme Dental" send the revised quote by Monday')
    # Planned a minute before Friday's end; by the time the sender runs, Ana has gone home.
    jobs.plan(chicago(11, 27, 17, 59))
    jobs.send(chicago(11, 27, 18, 0))
    assert jobs.dms() == []

    jobs.run(chicago(11, 30, 8))

    assert jobs.texts() == ["Promise #1 to Acme Dental is due today"]
    assert outbox(session) == [
        ("promise:1", "promise", "2026-11-30:2026-11-27", "skipped"),
        ("promise:1", "promise", "2026-11-30:2026-11-30", "sent"),
    ]


def test_a_snoozed_checkin_waits_and_then_starts_again(
    slack: SlackClient, jobs: Jobs, session: Session, clock: FrozenClock, fake_slack: SlackStandIn
) -> None:
    visit(slack, 'contact "Northwind" Sam Lee +1 555 0199')
    visit(slack, "cadence Northwind 1")
    jobs.run(chicago(11, 24, 9))
    [reminder] = jobs.dms()

    clock.now = chicago(11, 24, 9, 30)
    slack.press(button(reminder.params, "Snooze 3 days"), name="snooze")
    answer = text_of(fake_slack.wait_for_responses("snooze")[0].params)
    for moment in (chicago(11, 25, 9), chicago(11, 26, 9), chicago(11, 27, 9, 29)):
        jobs.run(moment)
    jobs.run(chicago(11, 27, 9, 30))
    for moment in (chicago(11, 30, 9), chicago(12, 1, 9)):
        jobs.run(moment)
    jobs.run(chicago(12, 2, 8))

    assert answer == ":zzz: I'll remind you about *Northwind* again on Fri 27 Nov."
    # Held until the snooze ended on Friday at 9:30, then every three working days from there.
    assert sent_at(session) == [
        ("2026-11-24:0", chicago(11, 24, 9)),
        ("2026-11-27:0", chicago(11, 27, 9, 30)),
        ("2026-11-27:1", chicago(12, 2, 8)),
    ]
    assert jobs.texts() == ["Time to check in with Northwind"] * 3


def test_a_cancellation_brings_call_reminders_every_two_working_hours_until_the_call_is_logged(
    slack: SlackClient, jobs: Jobs, session: Session, clock: FrozenClock
) -> None:
    visit(slack, CONTACT)
    visit(slack, "plan Acme Dental Wednesday 10-11am")
    visit(slack, "cancel Acme Dental technician ill")

    for moment in (
        chicago(11, 23, 10, 59),
        chicago(11, 23, 11),
        chicago(11, 23, 12, 30),
        chicago(11, 23, 13),
    ):
        jobs.run(moment)
    clock.now = chicago(11, 23, 14)
    visit(slack, "call Acme Dental spoke moved to next week")
    for moment in (chicago(11, 23, 15), chicago(11, 24, 9)):
        jobs.run(moment)

    assert jobs.texts() == ["Please call Acme Dental about the cancellation"] * 2
    assert shown(jobs.dms()[0].params)[0] == (
        ":telephone_receiver: You cancelled *Acme Dental* (Wed 25 Nov, 10–11am). Please phone them: "
        "Jane Roe, +1 555 0100. A cancellation by e-mail alone leaves them waiting."
    )
    assert [dm.params["channel"] for dm in jobs.dms()] == ["U111", "U111"]
    assert outbox(session) == [
        ("appointment:1", "call", "call-1", "sent"),
        ("appointment:1", "call", "call-2", "sent"),
    ]


def test_a_promise_is_reminded_the_working_day_before_on_the_day_and_daily_until_kept(
    slack: SlackClient, jobs: Jobs, session: Session, clock: FrozenClock
) -> None:
    promise(slack, '"Acme Dental" send the revised quote by Monday')

    for moment in (chicago(11, 26, 9), chicago(11, 27, 8), chicago(11, 27, 15), chicago(11, 28, 10)):
        jobs.run(moment)
    for moment in (chicago(11, 30, 8), chicago(12, 1, 8), chicago(12, 1, 9)):
        jobs.run(moment)
    clock.now = chicago(12, 1, 10)
    promise(slack, "done 1")
    jobs.run(chicago(12, 2, 8))

    assert jobs.texts() == [
        "Promise #1 to Acme Dental is due Mon 30 Nov",
        "Promise #1 to Acme Dental is due today",
        "Promise #1 to Acme Dental is overdue since Mon 30 Nov",
    ]
    assert sent_at(session) == [
        ("2026-11-30:2026-11-27", chicago(11, 27, 8)),
        ("2026-11-30:2026-11-30", chicago(11, 30, 8)),
        ("2026-11-30:2026-12-01", chicago(12, 1, 8)),
    ]
    assert shown(jobs.dms()[2].params)[0] == (
        ":handshake: Promise #1 to *Acme Dental*: send the revised quote. It's overdue since Mon 30 Nov."
    )


def test_a_moved_promise_is_reminded_about_its_new_date_only(
    slack: SlackClient, jobs: Jobs, session: Session, clock: FrozenClock
) -> None:
    promise(slack, '"Acme Dental" send the revised quote by Friday')
    jobs.run(chicago(11, 26, 8))
    clock.now = chicago(11, 26, 10)
    promise(slack, "move 1 to Tuesday")

    for moment in (chicago(11, 27, 8), chicago(11, 27, 12), chicago(11, 30, 8)):
        jobs.run(moment)

    assert jobs.texts() == [
        "Promise #1 to Acme Dental is due Fri 27 Nov",
        "Promise #1 to Acme Dental is due Tue 1 Dec",
    ]
    assert outbox(session) == [
        ("promise:1", "promise", "2026-11-27:2026-11-26", "sent"),
        ("promise:1", "promise", "2026-12-01:2026-11-30", "sent"),
    ]


def test_a_checkin_reminder_goes_to_the_clients_owner_whoever_set_the_cadence(
    slack: SlackClient, jobs: Jobs, session: Session, clock: FrozenClock
) -> None:
    introduce(slack, session, "U222")
    visit(slack, 'contact "Northwind" Sam Lee +1 555 0199')  # Ana adds the client: she owns it

    assert visit(slack, "cadence Northwind 7", user="U222") == [
        ":calendar: Check-ins with *Northwind* are now due every 7 days. Next check-in by Mon 30 Nov."
    ]
    jobs.run(chicago(11, 30, 8, 59))
    jobs.run(chicago(11, 30, 9))

    [dm] = jobs.dms()
    assert dm.params["channel"] == "U111"
    assert dm.params["text"] == "Time to check in with Northwind"
    assert outbox(session) == [("client:1", "checkin", "2026-11-30:0", "sent")]


def test_an_appointment_is_reminded_on_its_morning_with_the_window_and_the_contact(
    slack: SlackClient, jobs: Jobs, session: Session
) -> None:
    visit(slack, CONTACT)
    visit(slack, "plan Acme Dental Wednesday 10-11am")

    for moment in (chicago(11, 24, 9), chicago(11, 25, 7, 59), chicago(11, 25, 8), chicago(11, 25, 9)):
        jobs.run(moment)
    jobs.run(chicago(11, 26, 8))

    assert jobs.texts() == ["Today: Acme Dental Wed 25 Nov, 10–11am"]
    assert outbox(session) == [("appointment:1", "appointment", "2026-11-25", "sent")]
    assert sent_at(session) == [("2026-11-25", chicago(11, 25, 8))]


def done_followup(slack: SlackClient, fake_slack: SlackStandIn, visit_reply: dict[str, object]) -> None:
    slack.press(button(visit_reply, "Mark follow-up sent"), name="done")
    fake_slack.wait_for_responses("done")


# (what sets it up, when it is planned, what does it before the sender runs)
ALREADY_DONE: dict[str, tuple[list[tuple[str, str]], tuple[int, int, int], tuple[str, str]]] = {
    "followup": ([("/visit", "Acme Dental 1h replaced the fuser")], (11, 23, 13), ("press", "")),
    "call": (
        [
            ("/visit", CONTACT),
            ("/visit", "plan Acme Dental Wednesday 10-11am"),
            ("/visit", "cancel Acme Dental"),
        ],
        (11, 23, 11),
        ("/visit", "call Acme Dental voicemail"),
    ),
    "promise": (
        [("/promise", '"Acme Dental" send the quote by Friday')],
        (11, 26, 8),
        ("/promise", "done 1"),
    ),
    "checkin": (
        [("/visit", 'contact "Northwind" Sam Lee +1 555 0199'), ("/visit", "cadence Northwind 1")],
        (11, 24, 9),
        ("/visit", "call Northwind spoke"),
    ),
    "appointment": (
        [("/visit", CONTACT), ("/visit", "plan Acme Dental Wednesday 10-11am")],
        (11, 25, 8),
        ("/visit", "cancel Acme Dental running behind"),
    ),
}


@pytest.mark.parametrize("kind", list(ALREADY_DONE))
def test_no_reminder_is_sent_about_something_done_between_planning_and_sending(
    slack: SlackClient, jobs: Jobs, session: Session, clock: FrozenClock, fake_slack: SlackStandIn, kind: str
) -> None:
    setup, (month, day, hour), (command, text) = ALREADY_DONE[kind]
    replies = [slack.command(typed, command=name).json() for name, typed in setup]
    planned_at = chicago(month, day, hour)

    assert jobs.plan(planned_at) == 1
    clock.now = planned_at
    if command == "press":
        done_followup(slack, fake_slack, replies[0])
    else:
        slack.command(text, command=command)
    report = jobs.send(planned_at)

    assert jobs.dms() == []
    assert (report.claimed, report.sent, report.skipped) == (1, 0, 1)
    nudge = session.scalars(select(Nudge)).one()
    assert (nudge.kind, nudge.status, nudge.last_error) == (kind, NudgeStatus.SKIPPED, "done")


def test_a_followup_snoozed_after_planning_is_not_sent(
    slack: SlackClient, jobs: Jobs, session: Session, clock: FrozenClock, fake_slack: SlackStandIn
) -> None:
    visit(slack, "Acme Dental 1h replaced the fuser")
    jobs.run(chicago(11, 23, 13))
    [monday] = jobs.dms()
    jobs.plan(chicago(11, 24, 8))

    clock.now = chicago(11, 24, 8)
    slack.press(button(monday.params, "Snooze until tomorrow"), name="snooze")
    fake_slack.wait_for_responses("snooze")
    jobs.send(chicago(11, 24, 8))
    jobs.run(chicago(11, 24, 15))
    jobs.run(chicago(11, 25, 8))

    assert len(jobs.dms()) == 2
    assert outbox(session) == [
        ("visit:1", "followup", "first", "sent"),
        ("visit:1", "followup", "2026-11-24", "skipped"),
        ("visit:1", "followup", "2026-11-25", "sent"),
    ]


def test_reminders_keep_to_hours_set_with_the_command(
    slack: SlackClient, jobs: Jobs, session: Session, clock: FrozenClock
) -> None:
    visit(slack, CONTACT)
    visit(slack, "plan Acme Dental Friday 8-9am")
    assert visit(slack, "hours 7-15") == [
        ":clock8: Your working hours are now Mon–Fri, 7am–3pm (America/Chicago). Reminders arrive only then."
    ]
    clock.now = chicago(11, 23, 14)
    visit(slack, "cancel Acme Dental")

    # One working hour on Monday (14:00-15:00), the second on Tuesday from 7:00.
    for moment in (chicago(11, 23, 16), chicago(11, 23, 17), chicago(11, 24, 7, 59)):
        jobs.run(moment)
    assert jobs.dms() == []
    jobs.run(chicago(11, 24, 8))

    assert jobs.texts() == ["Please call Acme Dental about the cancellation"]
    assert outbox(session) == [("appointment:1", "call", "call-1", "sent")]


def test_someone_working_two_days_a_week_is_reminded_a_week_ahead(
    slack: SlackClient, jobs: Jobs, session: Session, clock: FrozenClock
) -> None:
    visit(slack, "hours 8-18 mon-tue")
    promise(slack, '"Acme Dental" send the revised quote by 2026-12-07')

    for moment in (chicago(11, 24, 8), chicago(12, 1, 8), chicago(12, 2, 8), chicago(12, 7, 8)):
        jobs.run(moment)

    assert jobs.texts() == [
        "Promise #1 to Acme Dental is due Mon 7 Dec",
        "Promise #1 to Acme Dental is due today",
    ]
    assert outbox(session) == [
        ("promise:1", "promise", "2026-12-07:2026-12-01", "sent"),
        ("promise:1", "promise", "2026-12-07:2026-12-07", "sent"),
    ]
