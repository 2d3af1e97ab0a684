"""`run-once --at` moves what is due, not real time: leases, gates and retention keep the wall clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.notify import Address, Delivered, Notifier
from bot.replies import Attachment, Reply
from bot.services import Services
from handlers.slack.notifier import SlackNotifier
from handlers.slack.standin import SlackStandIn
from jobs.planners import plan
from jobs.scheduler import run_once
from jobs.sender import LEASE, send_due
from storage import outbox
from storage.models import Nudge, NudgeStatus, ProcessedRequest, RateGate, Visit
from storage.repositories import claim_request
from tests.harness import BOT_TOKEN, BotServer, FrozenClock, SlackClient, text_of
from tests.jobs.test_sender import add_technician, add_visits


class WorkerAlongside:
    """A notifier that, mid-send, lets a live worker (on the real clock) try to claim the same nudges."""

    def __init__(self, live: Services, inner: Notifier) -> None:
        self.live = live
        self.inner = inner
        self.live_claims: list[int] = []

    def send(self, *, recipient: Address, reply: Reply, key: str) -> Delivered:
        """Send through the real notifier, after the live worker had its chance."""
        self.live_claims.append(send_due(self.live, self.inner, owner="live-worker").claimed)
        return self.inner.send(recipient=recipient, reply=reply, key=key)

    def post(self, *, channel: Address, reply: Reply, key: str, thread: str | None = None) -> Delivered:
        """Not used here."""
        raise AssertionError("no channel posts in this test")

    def upload(self, *, channel: Address, file: Attachment, thread: str | None = None) -> None:
        """Not used here."""
        raise AssertionError("no uploads in this test")


def test_a_run_as_of_an_hour_ago_beside_a_live_worker_sends_each_reminder_once(
    services: Services, clock: FrozenClock, fake_slack: SlackStandIn, session: Session
) -> None:
    # The follow-ups of Friday's visits are due on Monday morning, and still were an hour ago.
    clock.advance(hours=1)
    ana = add_technician(services)
    add_visits(services, ana, 3)
    notifier = SlackNotifier(token=BOT_TOKEN, base_url=fake_slack.base_url, timeout=1)
    alongside = WorkerAlongside(services, notifier)

    report = run_once(services, alongside, at=clock.now - timedelta(hours=1))

    # Its leases run from real now, so the live worker found every one of them held.
    assert report.sent == 3
    assert alongside.live_claims == [0, 0, 0]
    assert len(fake_slack.keys()) == 3
    leases = session.scalars(select(Nudge.status)).all()
    assert leases == [NudgeStatus.SENT] * 3


def test_a_claim_as_of_an_hour_ago_holds_its_lease_until_a_lease_after_real_now(
    services: Services, clock: FrozenClock, session: Session
) -> None:
    clock.advance(hours=1)
    ana = add_technician(services)
    add_visits(services, ana, 1)
    an_hour_ago = clock.now - timedelta(hours=1)
    with services.sessions.begin() as writer:
        plan(writer, now=an_hour_ago, default_tz=ZoneInfo("UTC"))

    with services.sessions.begin() as writer:
        claim = outbox.claim_batch(
            writer, owner="as-of", now=an_hour_ago, real_now=clock.now, lease=LEASE, limit=5
        )
    with services.sessions.begin() as writer:
        live = outbox.claim_batch(writer, owner="live", now=clock.now, lease=LEASE, limit=5)

    assert len(claim.ids) == 1
    assert claim.until == clock.now + LEASE
    assert live.ids == []


def test_a_rate_limit_met_as_of_another_instant_gates_the_workspace_in_real_time(
    services: Services, clock: FrozenClock, fake_slack: SlackStandIn, session: Session
) -> None:
    clock.advance(hours=1)
    ana = add_technician(services)
    add_visits(services, ana, 1)
    fake_slack.fail("chat.postMessage", status=429, retry_after=30, times=1)
    notifier = SlackNotifier(token=BOT_TOKEN, base_url=fake_slack.base_url, timeout=1)

    run_once(services, notifier, at=clock.now - timedelta(hours=1))

    gate = session.scalars(select(RateGate.blocked_until)).one()
    assert gate == clock.now + timedelta(seconds=30)


def test_a_run_as_of_two_days_ahead_keeps_replay_keys_of_commands_minutes_old(
    services: Services, clock: FrozenClock, fake_slack: SlackStandIn, session: Session
) -> None:
    with services.sessions.begin() as writer:
        assert claim_request(writer, key="command:fresh", now=clock.now - timedelta(minutes=5))
        assert claim_request(writer, key="command:old", now=clock.now - timedelta(days=2))
    notifier = SlackNotifier(token=BOT_TOKEN, base_url=fake_slack.base_url, timeout=1)

    run_once(services, notifier, at=clock.now + timedelta(days=2))

    # Retention is real time: only the key that is really two days old goes.
    assert session.scalars(select(ProcessedRequest.key)).all() == ["command:fresh"]


def test_a_command_handled_as_of_a_month_ago_keeps_its_replay_key_in_real_time(
    services: Services, clock: FrozenClock, fake_slack: SlackStandIn, session: Session
) -> None:
    # The sandbox's way: what happens follows a clock a month behind; the wall clock stays the real one.
    behind = replace(services, clock=FrozenClock(clock.now - timedelta(days=30)), real_clock=clock)
    bot = BotServer(behind).start()
    slack = SlackClient(bot.url, fake_slack)
    try:
        body = slack.command_body("Acme Dental 1h fixed the printer", trigger_id="trigger-as-of")
        assert "Logged 1h" in text_of(slack.post(body).json())
        run_once(behind, SlackNotifier(token=BOT_TOKEN, base_url=fake_slack.base_url, timeout=1))
        replayed = slack.post(body)
    finally:
        slack.close()
        bot.stop()

    # The key was stamped with the real time, so the purge kept it and Slack's retry is still refused.
    assert "already acted on that" in text_of(replayed.json())
    visit = session.scalars(select(Visit)).one()
    assert visit.visited_at == clock.now - timedelta(days=30)
    assert session.scalars(select(ProcessedRequest.received_at)).one() == clock.now
