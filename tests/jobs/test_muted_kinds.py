"""App Home settings reach the nudges: the zone chosen sets the working hours, muted kinds stay quiet."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from bot.services import Services
from handlers.slack.standin import SlackStandIn
from tests.handlers.slack.test_home_settings import ALL_KINDS, submit_settings
from tests.harness import FrozenClock, SlackClient
from tests.reminders import BERLIN, Jobs, chicago, introduce, local, outbox


@pytest.fixture
def jobs(services: Services, fake_slack: SlackStandIn) -> Jobs:
    """The scheduler's jobs, run by hand."""
    return Jobs(services, fake_slack)


@pytest.fixture(autouse=True)
def ana_at_work(slack: SlackClient, session: Session, clock: FrozenClock) -> None:
    """Ana's profile says Chicago, and it is Monday 23 November, 9:00 there."""
    introduce(slack, session)
    clock.now = chicago(11, 23, 9)


def test_the_zone_chosen_on_the_home_sets_when_her_working_day_begins(
    slack: SlackClient, jobs: Jobs, session: Session
) -> None:
    assert submit_settings(slack, timezone="Europe/Berlin").status_code == 200
    answer = slack.command("plan Acme Dental Tuesday 10-11am").json()
    assert answer["text"] == "Planned Acme Dental for Tue 24 Nov, 10–11am"

    jobs.plan(local(BERLIN, 11, 24, 7, 59))
    assert outbox(session) == []
    jobs.plan(local(BERLIN, 11, 24, 8))

    assert outbox(session) == [("appointment:1", "appointment", "2026-11-24", "pending")]
    jobs.send(local(BERLIN, 11, 24, 8))
    assert jobs.texts("U111") == ["Today: Acme Dental Tue 24 Nov, 10–11am"]
    # 8:00 in Berlin is 1:00 in Chicago, where her profile says she is: the choice wins.
    assert local(BERLIN, 11, 24, 8) == chicago(11, 24, 1)


def test_a_muted_kind_is_not_planned_and_one_already_planned_is_skipped_not_sent(
    slack: SlackClient, jobs: Jobs, session: Session
) -> None:
    slack.command("Acme Dental 1h30 replaced fuser")
    slack.command("plan Acme Dental Tuesday 10-11am")
    slack.command("plan Acme Dental Wednesday 10-11am")
    jobs.plan(chicago(11, 24, 8))
    assert outbox(session) == [
        ("visit:1", "followup", "2026-11-24", "pending"),
        ("appointment:1", "appointment", "2026-11-24", "pending"),
    ]

    kinds = [kind for kind in ALL_KINDS if kind != "appointment"]
    assert submit_settings(slack, kinds=kinds).status_code == 200
    jobs.send(chicago(11, 24, 8))
    jobs.run(chicago(11, 25, 8))

    assert outbox(session) == [
        ("visit:1", "followup", "2026-11-24", "sent"),
        ("appointment:1", "appointment", "2026-11-24", "skipped"),
        ("visit:1", "followup", "2026-11-25", "sent"),
    ]
    assert jobs.texts("U111") == ["Follow-up to Acme Dental not sent yet"] * 2
