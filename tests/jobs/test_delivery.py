"""Planning and sending end to end: commands via the bot, `run_once` at chosen instants, DMs on the fake."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services import Services
from bot.wiring import build_notifier
from handlers.slack.standin import SlackStandIn
from jobs.scheduler import run_once
from storage.models import Nudge, NudgeStatus, Technician
from tests.harness import FrozenClock, SlackClient, button, text_of

# Ana works in Chicago; Monday 23 November 2026.
MONDAY_1PM = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
MONDAY_9PM = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
TUESDAY_8AM = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
TUESDAY_9AM = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def ana_is_known(slack: SlackClient, session: Session) -> None:
    """Ana's zone is stored before the test, as after her first command."""
    slack.command("help")
    for _ in range(500):
        technician = session.scalars(select(Technician)).first()
        if technician is not None and technician.timezone == "America/Chicago":
            return
        time.sleep(0.01)
    raise AssertionError("the profile was not stored")


def dms(fake: SlackStandIn) -> list[str]:
    return [text_of(call.params) for call in fake.calls("chat.postMessage")]


def test_an_unsent_followup_is_dmed_four_working_hours_later_once(
    slack: SlackClient, services: Services, fake_slack: SlackStandIn, session: Session
) -> None:
    slack.command("Acme Dental 1h30 replaced fuser; todo: order toner")  # Monday 9am Chicago
    notifier = build_notifier(services.settings)

    run_once(services, notifier, at=datetime(2026, 11, 23, 18, 59, tzinfo=UTC))
    assert dms(fake_slack) == []
    run_once(services, notifier, at=MONDAY_1PM)
    run_once(services, notifier, at=MONDAY_1PM)

    [dm] = fake_slack.calls("chat.postMessage")
    assert dm.params["channel"] == "U111"
    assert "The follow-up e-mail for your visit to *Acme Dental* on Mon 23 Nov (1h30)" in text_of(dm.params)
    assert "What is left: order toner" in text_of(dm.params)
    assert dm.params["metadata"]["event_payload"]["key"].endswith(":visit:1:followup:first")
    nudge = session.scalars(select(Nudge)).one()
    assert (nudge.status, nudge.sent_at, nudge.channel) == (NudgeStatus.SENT, MONDAY_1PM, "DU111")


def test_at_night_nothing_is_sent_and_the_morning_brings_one_reminder(
    slack: SlackClient, services: Services, fake_slack: SlackStandIn
) -> None:
    slack.command("Acme Dental 1h30 replaced fuser")
    notifier = build_notifier(services.settings)

    run_once(services, notifier, at=MONDAY_9PM)
    assert dms(fake_slack) == []
    run_once(services, notifier, at=TUESDAY_8AM)
    run_once(services, notifier, at=TUESDAY_9AM)

    assert len(dms(fake_slack)) == 1


def test_marking_the_followup_sent_stops_the_reminders(
    slack: SlackClient, services: Services, fake_slack: SlackStandIn, session: Session
) -> None:
    message = slack.command("Acme Dental 1h30 replaced fuser").json()
    notifier = build_notifier(services.settings)
    run_once(services, notifier, at=MONDAY_1PM)
    [reminder] = fake_slack.calls("chat.postMessage")

    slack.press(button(reminder.params, "Mark sent"), name="sent")
    fake_slack.wait_for_responses("sent")
    run_once(services, notifier, at=TUESDAY_9AM)

    assert len(dms(fake_slack)) == 1
    assert button(message, "Mark follow-up sent")["value"] == button(reminder.params, "Mark sent")["value"]


def test_a_permanent_slack_error_marks_the_nudge_dead_with_the_reason(
    slack: SlackClient, services: Services, fake_slack: SlackStandIn, session: Session
) -> None:
    slack.command("Acme Dental 1h30 replaced fuser")
    fake_slack.fail("chat.postMessage", error="account_inactive")

    run_once(services, build_notifier(services.settings), at=MONDAY_1PM)

    nudge = session.scalars(select(Nudge)).one()
    assert (nudge.status, nudge.last_error) == (NudgeStatus.DEAD, "account_inactive")


def test_a_429_puts_the_nudge_back_until_retry_after(
    slack: SlackClient, services: Services, fake_slack: SlackStandIn, session: Session, clock: FrozenClock
) -> None:
    slack.command("Acme Dental 1h30 replaced fuser")
    fake_slack.fail("chat.postMessage", status=429, retry_after=30)
    notifier = build_notifier(services.settings)

    report = run_once(services, notifier, at=MONDAY_1PM)

    assert report.rate_limited
    nudge = session.scalars(select(Nudge)).one()
    assert (nudge.status, nudge.last_error) == (NudgeStatus.PENDING, "ratelimited")
    assert (nudge.next_attempt_at - MONDAY_1PM).total_seconds() == 30
    run_once(services, notifier, at=datetime(2026, 11, 23, 19, 0, 29, tzinfo=UTC))
    assert len(fake_slack.calls("chat.postMessage")) == 1
    # Retry-After is real time: the workspace's gate lifts when 30 real seconds have passed.
    clock.advance(seconds=31)
    run_once(services, notifier, at=datetime(2026, 11, 23, 19, 0, 31, tzinfo=UTC))
    assert session.scalars(select(Nudge)).one().status is NudgeStatus.SENT
    assert len(fake_slack.calls("chat.postMessage")) == 2
