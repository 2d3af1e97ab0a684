"""The buttons on reminder DMs, pressed through signed block_actions requests to the real endpoint.

Each reminder is produced the real way (commands, then the jobs at an instant) and its buttons are taken
from the DM the fake Slack received. A press updates the message in place, a second press changes nothing
more, a press by another technician changes nothing, and the reminders stop where they should.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.nudge_actions import TOUCH_WORDS
from bot.services import Services
from handlers.slack.standin import RecordedRequest, SlackStandIn
from storage.models import Appointment, CallOutcome, Client, Promise, Touch, TouchKind, Visit
from tests.harness import FrozenClock, SlackClient, button
from tests.reminders import Jobs, chicago, introduce, shown

CONTACT = 'contact "Acme Dental" Jane Roe jane@acme.example +1 555 0100'


@pytest.fixture
def jobs(services: Services, fake_slack: SlackStandIn) -> Jobs:
    """The scheduler's jobs, run by hand."""
    return Jobs(services, fake_slack)


@pytest.fixture(autouse=True)
def ana_at_work(slack: SlackClient, session: Session, clock: FrozenClock) -> None:
    """Ana's time zone is known, and it is Monday 23 November, 9:00 in Chicago."""
    introduce(slack, session)
    clock.now = chicago(11, 23, 9)


class Pressing:
    """Presses buttons on a reminder as a given technician at a given instant, and reads the answer."""

    def __init__(self, slack: SlackClient, fake: SlackStandIn, clock: FrozenClock) -> None:
        self.slack, self.fake, self.clock = slack, fake, clock
        self.count = 0

    def __call__(
        self, reminder: RecordedRequest, label: str, *, at: datetime, user: str = "U111"
    ) -> dict[str, Any]:
        self.clock.now = at
        self.count += 1
        name = f"press-{self.count}"
        response = self.slack.press(button(reminder.params, label), user=user, name=name)
        assert response.status_code == 200
        [answer] = self.fake.wait_for_responses(name)
        params: dict[str, Any] = answer.params
        return params


@pytest.fixture
def press(slack: SlackClient, fake_slack: SlackStandIn, clock: FrozenClock) -> Pressing:
    """Press a button on a reminder DM."""
    return Pressing(slack, fake_slack, clock)


def followup_reminder(slack: SlackClient, jobs: Jobs) -> RecordedRequest:
    slack.command("Acme Dental 1h30 replaced fuser; todo: order toner")
    jobs.run(chicago(11, 23, 13))
    [reminder] = jobs.dms()
    return reminder


def call_reminder(slack: SlackClient, jobs: Jobs) -> RecordedRequest:
    slack.command(CONTACT)
    slack.command("plan Acme Dental Wednesday 10-11am")
    slack.command("cancel Acme Dental technician ill")
    jobs.run(chicago(11, 23, 11))
    [reminder] = jobs.dms()
    return reminder


def promise_reminder(slack: SlackClient, jobs: Jobs) -> RecordedRequest:
    slack.command(CONTACT)
    slack.command("Acme Dental send the quote by Friday", command="/promise")
    jobs.run(chicago(11, 26, 8))
    [reminder] = jobs.dms()
    return reminder


def checkin_reminder(slack: SlackClient, jobs: Jobs) -> RecordedRequest:
    slack.command('contact "Northwind" Sam Lee +1 555 0199')
    slack.command("cadence Northwind 7")
    jobs.run(chicago(11, 30, 9))
    [reminder] = jobs.dms()
    return reminder


def appointment_reminder(slack: SlackClient, jobs: Jobs) -> RecordedRequest:
    slack.command(CONTACT)
    slack.command("plan Acme Dental Wednesday 10-11am")
    jobs.run(chicago(11, 25, 8))
    [reminder] = jobs.dms()
    return reminder


def in_place(answer: dict[str, Any]) -> list[str]:
    """What replaced the reminder: the answer must replace the original message, not add one."""
    assert answer["replace_original"] is True
    return shown(answer)


def snapshot(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Everything a button could change."""
    return {
        "visits": [
            (v.id, v.followup_sent_at, v.followup_snoozed_until) for v in session.scalars(select(Visit))
        ],
        "appointments": [
            (a.id, a.status, a.window_start, a.window_end, a.call_logged_at)
            for a in session.scalars(select(Appointment))
        ],
        "promises": [(p.id, p.due_at, p.done_at, p.times_moved) for p in session.scalars(select(Promise))],
        "clients": [
            (c.id, c.last_touch_at, c.checkin_snoozed_until, c.checkin_cadence_days)
            for c in session.scalars(select(Client))
        ],
        "touches": [(t.id, t.kind, t.outcome) for t in session.scalars(select(Touch))],
    }


def test_mark_sent_closes_the_followup_once(
    press: Pressing, slack: SlackClient, jobs: Jobs, session: Session
) -> None:
    reminder = followup_reminder(slack, jobs)

    first = in_place(press(reminder, "Mark sent", at=chicago(11, 23, 13, 30)))
    after_first = snapshot(session)
    second = in_place(press(reminder, "Mark sent", at=chicago(11, 23, 14)))
    for moment in (chicago(11, 24, 8), chicago(11, 25, 8)):
        jobs.run(moment)

    assert first == [
        ":email: Follow-up to *Acme Dental* marked sent. Thank you: that's what clients remember."
    ]
    assert second == [":email: The follow-up to *Acme Dental* was marked sent on Mon 23 Nov. All done."]
    assert snapshot(session) == after_first
    assert session.scalars(select(Visit)).one().followup_sent_at == chicago(11, 23, 13, 30)
    assert len(jobs.dms()) == 1


def test_snooze_until_tomorrow_holds_the_followup_until_the_next_working_morning(
    press: Pressing, slack: SlackClient, jobs: Jobs, session: Session
) -> None:
    reminder = followup_reminder(slack, jobs)

    first = in_place(press(reminder, "Snooze until tomorrow", at=chicago(11, 23, 13, 30)))
    after_first = snapshot(session)
    second = in_place(press(reminder, "Snooze until tomorrow", at=chicago(11, 23, 16)))
    jobs.run(chicago(11, 23, 17))
    assert len(jobs.dms()) == 1
    jobs.run(chicago(11, 24, 8))

    assert first == [":zzz: I'll remind you about the follow-up to *Acme Dental* again on Tue 24 Nov."]
    assert second == [":zzz: The follow-up to *Acme Dental* is already snoozed until Tue 24 Nov."]
    assert snapshot(session) == after_first
    assert session.scalars(select(Visit)).one().followup_snoozed_until == chicago(11, 24, 8)
    assert jobs.texts() == ["Follow-up to Acme Dental not sent yet"] * 2


def test_snoozing_on_friday_means_monday(
    press: Pressing, slack: SlackClient, jobs: Jobs, session: Session
) -> None:
    slack.command("Acme Dental 1h replaced the fuser")
    jobs.run(chicago(11, 27, 8))
    [reminder] = jobs.dms()

    answer = in_place(press(reminder, "Snooze until tomorrow", at=chicago(11, 27, 9)))

    assert answer == [":zzz: I'll remind you about the follow-up to *Acme Dental* again on Mon 30 Nov."]
    assert session.scalars(select(Visit)).one().followup_snoozed_until == chicago(11, 30, 8)


@pytest.mark.parametrize(
    ("label", "outcome", "said"),
    [
        ("Spoke to them", CallOutcome.SPOKE, "spoke to them"),
        ("Left voicemail", CallOutcome.VOICEMAIL, "left a voicemail"),
    ],
)
def test_logging_the_call_closes_the_task_and_stops_the_reminders(
    press: Pressing,
    slack: SlackClient,
    jobs: Jobs,
    session: Session,
    label: str,
    outcome: CallOutcome,
    said: str,
) -> None:
    reminder = call_reminder(slack, jobs)

    first = in_place(press(reminder, label, at=chicago(11, 23, 11, 30)))
    after_first = snapshot(session)
    second = in_place(press(reminder, label, at=chicago(11, 23, 11, 45)))
    for moment in (chicago(11, 23, 13), chicago(11, 24, 9)):
        jobs.run(moment)

    assert first == [
        f":telephone_receiver: Logged a call to *Acme Dental* ({said}).",
        "That closes the call about the cancelled appointment. Thank you!",
    ]
    assert second == [":telephone_receiver: The call to *Acme Dental* was logged on Mon 23 Nov. All done."]
    assert snapshot(session) == after_first
    assert session.scalars(select(Appointment)).one().call_logged_at == chicago(11, 23, 11, 30)
    touch = session.scalars(select(Touch).where(Touch.kind == TouchKind.CALL)).one()
    assert (touch.outcome, touch.touched_at) == (outcome, chicago(11, 23, 11, 30))
    assert len(jobs.dms()) == 1


def test_kept_keeps_the_promise_once_and_stops_its_reminders(
    press: Pressing, slack: SlackClient, jobs: Jobs, session: Session
) -> None:
    reminder = promise_reminder(slack, jobs)

    first = in_place(press(reminder, "Kept", at=chicago(11, 26, 8, 30)))
    after_first = snapshot(session)
    second = in_place(press(reminder, "Kept", at=chicago(11, 26, 9)))
    for moment in (chicago(11, 27, 8), chicago(11, 30, 8)):
        jobs.run(moment)

    assert first == [":white_check_mark: #1 to *Acme Dental* (send the quote): kept, on time :tada:"]
    assert second == [":white_check_mark: #1 was already marked kept on Thu 26 Nov."]
    assert snapshot(session) == after_first
    assert session.scalars(select(Promise)).one().done_at == chicago(11, 26, 8, 30)
    assert len(jobs.dms()) == 1


def test_move_says_how_and_changes_nothing_until_the_promise_is_moved(
    press: Pressing, slack: SlackClient, jobs: Jobs, session: Session, clock: FrozenClock
) -> None:
    reminder = promise_reminder(slack, jobs)
    before = snapshot(session)

    first = in_place(press(reminder, "Move", at=chicago(11, 26, 8, 30)))
    second = in_place(press(reminder, "Move", at=chicago(11, 26, 8, 31)))
    assert snapshot(session) == before
    clock.now = chicago(11, 26, 9)
    slack.command("move 1 to Tuesday", command="/promise")
    for moment in (chicago(11, 27, 8), chicago(11, 30, 8)):
        jobs.run(moment)

    hint = (
        "Type /promise move 1 to &lt;date&gt; (for example: /promise move 1 to Friday), then tell "
        "*Acme Dental* the new date."
    )
    assert first == second == [hint]
    # Friday's reminders stopped with the move; the new date's came the working day before it.
    assert jobs.texts() == [
        "Promise #1 to Acme Dental is due Fri 27 Nov",
        "Promise #1 to Acme Dental is due Tue 1 Dec",
    ]


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        ("Log a call", TouchKind.CALL),
        ("Log an e-mail", TouchKind.EMAIL),
        ("Log a meeting", TouchKind.MEETING),
    ],
)
def test_logging_the_checkin_restarts_the_clock_once(
    press: Pressing, slack: SlackClient, jobs: Jobs, session: Session, label: str, kind: TouchKind
) -> None:
    reminder = checkin_reminder(slack, jobs)

    first = in_place(press(reminder, label, at=chicago(11, 30, 9, 30)))
    after_first = snapshot(session)
    second = in_place(press(reminder, label, at=chicago(11, 30, 10)))
    for moment in (chicago(12, 3, 9), chicago(12, 7, 9)):
        jobs.run(moment)

    assert first == [
        f":white_check_mark: Logged {TOUCH_WORDS[kind]} with *Northwind*. Next check-in by Mon 7 Dec."
    ]
    assert second == [":white_check_mark: *Northwind* was last touched Mon 30 Nov."]
    assert snapshot(session) == after_first
    touch = session.scalars(select(Touch)).one()
    assert (touch.kind, touch.touched_at) == (kind, chicago(11, 30, 9, 30))
    assert session.scalars(select(Client)).one().last_touch_at == chicago(11, 30, 9, 30)
    # The next check-in is a week after the touch, at 9:30: not on Thursday's round, not at 9:00 on Monday.
    assert len(jobs.dms()) == 1
    jobs.run(chicago(12, 7, 9, 30))
    assert len(jobs.dms()) == 2


def test_snooze_three_days_holds_the_checkin_once(
    press: Pressing, slack: SlackClient, jobs: Jobs, session: Session
) -> None:
    reminder = checkin_reminder(slack, jobs)

    first = in_place(press(reminder, "Snooze 3 days", at=chicago(11, 30, 9, 30)))
    after_first = snapshot(session)
    second = in_place(press(reminder, "Snooze 3 days", at=chicago(12, 1, 9)))
    for moment in (chicago(12, 1, 10), chicago(12, 2, 10), chicago(12, 3, 9, 29)):
        jobs.run(moment)
    assert len(jobs.dms()) == 1
    jobs.run(chicago(12, 3, 9, 30))

    assert first == [":zzz: I'll remind you about *Northwind* again on Thu 3 Dec."]
    assert second == [":zzz: *Northwind* is already snoozed: I'll remind you again on Thu 3 Dec."]
    assert snapshot(session) == after_first
    assert session.scalars(select(Client)).one().checkin_snoozed_until == chicago(12, 3, 9, 30)
    assert jobs.texts() == ["Time to check in with Northwind"] * 2


def test_snoozing_a_checkin_over_the_weekend_names_monday(
    press: Pressing, slack: SlackClient, jobs: Jobs, session: Session
) -> None:
    slack.command('contact "Northwind" Sam Lee +1 555 0199')
    slack.command("cadence Northwind 3")
    jobs.run(chicago(11, 26, 9))
    [reminder] = jobs.dms()

    answer = in_place(press(reminder, "Snooze 3 days", at=chicago(11, 26, 10)))
    for moment in (chicago(11, 27, 10), chicago(11, 29, 10)):
        jobs.run(moment)
    jobs.run(chicago(11, 30, 8))

    assert answer == [":zzz: I'll remind you about *Northwind* again on Mon 30 Nov."]
    assert len(jobs.dms()) == 2


def test_running_late_says_whom_to_phone_and_changes_nothing(
    press: Pressing, slack: SlackClient, jobs: Jobs, session: Session
) -> None:
    reminder = appointment_reminder(slack, jobs)
    before = snapshot(session)

    first = in_place(press(reminder, "Running late", at=chicago(11, 25, 9, 30)))
    second = in_place(press(reminder, "Running late", at=chicago(11, 25, 9, 35)))

    phone = (
        ":telephone_receiver: Phone Jane Roe at *Acme Dental* now on +1 555 0100, say you're running late "
        "and give a new arrival time you can keep. A call, not an e-mail: they are waiting."
    )
    assert first == second == [phone]
    assert snapshot(session) == before


Reminder = Callable[[SlackClient, Jobs], RecordedRequest]


@pytest.mark.parametrize(
    ("make", "label", "at", "refusal"),
    [
        (
            followup_reminder,
            "Mark sent",
            (11, 23, 14),
            "That visit isn't one of yours, so I can't mark its follow-up.",
        ),
        (followup_reminder, "Snooze until tomorrow", (11, 23, 14), "That visit isn't one of yours."),
        (call_reminder, "Spoke to them", (11, 23, 12), "That appointment isn't one of yours."),
        (call_reminder, "Left voicemail", (11, 23, 12), "That appointment isn't one of yours."),
        (promise_reminder, "Kept", (11, 26, 9), "Promise #1 isn't one of yours."),
        (promise_reminder, "Move", (11, 26, 9), "That promise isn't one of yours."),
        (
            checkin_reminder,
            "Log a call",
            (11, 30, 10),
            "That client's check-ins are looked after by someone else.",
        ),
        (
            checkin_reminder,
            "Log an e-mail",
            (11, 30, 10),
            "That client's check-ins are looked after by someone else.",
        ),
        (
            checkin_reminder,
            "Log a meeting",
            (11, 30, 10),
            "That client's check-ins are looked after by someone else.",
        ),
        (
            checkin_reminder,
            "Snooze 3 days",
            (11, 30, 10),
            "That client's check-ins are looked after by someone else.",
        ),
        (appointment_reminder, "Running late", (11, 25, 9), "That appointment isn't one of yours."),
    ],
)
def test_another_technician_pressing_changes_nothing(
    press: Pressing,
    slack: SlackClient,
    jobs: Jobs,
    session: Session,
    make: Reminder,
    label: str,
    at: tuple[int, int, int],
    refusal: str,
) -> None:
    reminder = make(slack, jobs)
    before = snapshot(session)

    answer = in_place(press(reminder, label, at=chicago(*at), user="U222"))

    assert answer[0] == f":warning: {refusal}"
    assert snapshot(session) == before
