"""The weekly digest through the outbox: planned once a week, posted in parts to the fake Slack, resumable."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import digest
from bot.notify import Delivered, Notifier
from bot.replies import Attachment, Reply
from bot.services import Services
from bot.settings import Settings
from handlers.slack.notifier import SlackNotifier
from handlers.slack.standin import RecordedRequest, SlackStandIn
from jobs.digest import plan_digests, send_digests
from jobs.scheduler import plan_nudges, run_once
from jobs.sender import LEASE, MAX_ATTEMPTS, SendReport, backoff, send_due
from jobs.status import outbox_status
from storage.models import Nudge, NudgeStatus, RateGate
from tests.bot.test_digest import Seed, at
from tests.harness import BOT_TOKEN, FrozenClock, text_of

CHANNEL = "C0DIGEST"
# Monday 23 November 2026, 09:00 UTC is a slot of the default schedule ("mon 09:00", UTC here).
SLOT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test settings with a managers' channel and one manager."""
    return settings.model_copy(update={"digest_channel": CHANNEL, "manager_ids": "U111"})


@pytest.fixture
def notifier(fake_slack: SlackStandIn) -> SlackNotifier:
    """The real Slack notifier on the fake."""
    return SlackNotifier(token=BOT_TOKEN, base_url=fake_slack.base_url, timeout=2)


@pytest.fixture
def seed(services: Services) -> Seed:
    """A workspace since June, with a week worth a summary and a thread."""
    seed = Seed(services)
    ana = seed.technician("U111", "Ana")
    acme = seed.client("Acme Dental", ana)
    seed.visit(ana, acme, at(17), sent=at(17, 15))
    seed.visit(ana, acme, at(18))
    seed.promise(ana, acme, "send the revised quote", at(19, 17))
    return seed


class Crash(Exception):
    """The process died here."""


class CrashingNotifier:
    """The real notifier, except that the process dies on the `crash_on`-th post (counting from 1)."""

    def __init__(self, inner: Notifier, crash_on: int) -> None:
        self.inner = inner
        self.crash_on = crash_on
        self.posts = 0

    def send(self, *, recipient: str, reply: Reply, key: str) -> Delivered:
        return self.inner.send(recipient=recipient, reply=reply, key=key)

    def post(self, *, channel: str, reply: Reply, key: str, thread: str | None = None) -> Delivered:
        self.posts += 1
        if self.posts == self.crash_on:
            raise Crash(key)
        return self.inner.post(channel=channel, reply=reply, key=key, thread=thread)

    def upload(self, *, channel: str, file: Attachment, thread: str | None = None) -> None:
        self.inner.upload(channel=channel, file=file, thread=thread)


def at_time(services: Services, now: datetime) -> Services:
    return replace(services, clock=lambda: now)


def digests(session: Session) -> list[Nudge]:
    return list(session.scalars(select(Nudge).where(Nudge.kind == digest.KIND).order_by(Nudge.id)))


def posts(fake: SlackStandIn) -> list[RecordedRequest]:
    return [call for call in fake.calls("chat.postMessage") if call.fault is None]


def summaries(fake: SlackStandIn, channel: str = CHANNEL) -> list[RecordedRequest]:
    """Messages posted at the top of a channel (not in a thread)."""
    return [
        call for call in posts(fake) if call.params["channel"] == channel and "thread_ts" not in call.params
    ]


def plan_digest(services: Services) -> int:
    """Only the digest's planning (no reminders), so a failure the fake serves hits the digest."""
    with services.sessions.begin() as session:
        return plan_digests(session, now=services.clock(), settings=services.settings)


def test_planning_twice_and_two_run_onces_post_one_summary_its_thread_and_the_chart(
    services: Services, notifier: SlackNotifier, fake_slack: SlackStandIn, session: Session, seed: Seed
) -> None:
    run_once(services, notifier, at=SLOT + timedelta(minutes=3))
    run_once(services, notifier, at=SLOT + timedelta(minutes=8))
    plan_nudges(at_time(services, SLOT + timedelta(minutes=13)))

    [summary] = summaries(fake_slack)
    assert text_of(summary.params).startswith("Team digest · Mon 16 Nov – Mon 23 Nov\n*This week*: 2 visits")
    [row] = digests(session)
    assert (row.subject, row.period, row.due_at, row.technician_id) == (
        f"workspace:{seed.workspace_id}",
        "2026-11-23",
        SLOT,
        None,
    )
    assert (row.status, row.parts_sent, row.channel, row.attempts) == (NudgeStatus.SENT, 3, CHANNEL, 1)
    ts = row.message_ts
    assert ts is not None
    thread = [call for call in posts(fake_slack) if call.params.get("thread_ts") == ts]
    assert [call.params["channel"] for call in thread] == [CHANNEL]
    assert "*Each technician this week*" in text_of(thread[0].params)
    assert fake_slack.duplicates() == {}
    [shared] = fake_slack.shared_files()
    assert (shared.channel, shared.thread_ts) == (CHANNEL, ts)
    assert shared.filename == "nudgebot-8-weeks-2026-11-23.png"
    assert shared.content.startswith(b"\x89PNG")
    assert len(shared.content) > 10_000


def test_two_senders_post_one_summary(
    services: Services, notifier: SlackNotifier, fake_slack: SlackStandIn, session: Session, seed: Seed
) -> None:
    now = SLOT + timedelta(minutes=1)
    plan_nudges(at_time(services, now))
    plan_nudges(at_time(services, now))

    first = send_digests(at_time(services, now), notifier, owner="sender-a")
    second = send_digests(at_time(services, now), notifier, owner="sender-b")

    assert (first.claimed, first.sent, second.claimed) == (1, 1, 0)
    assert len(summaries(fake_slack)) == 1
    assert len(fake_slack.shared_files()) == 1


def test_two_senders_at_the_same_moment_post_one_summary(
    services: Services, notifier: SlackNotifier, fake_slack: SlackStandIn, session: Session, seed: Seed
) -> None:
    now = at_time(services, SLOT + timedelta(minutes=1))
    plan_digest(now)
    start = threading.Barrier(2)

    def sender(name: str) -> SendReport:
        start.wait()
        return send_digests(now, notifier, owner=name)

    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(sender, ["sender-a", "sender-b"]))

    assert sorted((report.claimed, report.sent) for report in reports) == [(0, 0), (1, 1)]
    assert len(summaries(fake_slack)) == 1
    assert len(fake_slack.shared_files()) == 1
    assert fake_slack.duplicates() == {}


def test_the_reminder_sender_never_claims_a_digest(
    services: Services, notifier: SlackNotifier, fake_slack: SlackStandIn, session: Session, seed: Seed
) -> None:
    now = SLOT + timedelta(minutes=1)
    plan_nudges(at_time(services, now))
    with services.sessions.begin() as writer:
        for nudge in writer.scalars(select(Nudge).where(Nudge.kind != digest.KIND)):
            writer.delete(nudge)

    report = send_due(at_time(services, now), notifier, owner="sender-a")

    assert report.claimed == 0
    assert [(row.status, row.attempts) for row in digests(session)] == [(NudgeStatus.PENDING, 0)]


def test_a_crash_after_the_summary_resumes_in_its_thread_without_posting_it_again(
    services: Services,
    notifier: SlackNotifier,
    fake_slack: SlackStandIn,
    session: Session,
    clock: FrozenClock,
    seed: Seed,
) -> None:
    clock.now = SLOT + timedelta(minutes=1)
    plan_nudges(services)

    with pytest.raises(Crash):
        send_digests(services, CrashingNotifier(notifier, crash_on=2), owner="crashed")
    [row] = digests(session)
    assert (row.status, row.parts_sent, row.message_ts) == (NudgeStatus.SENDING, 1, "1700000000.000100")
    # While the dead sender's lease runs, nobody takes the digest over.
    assert send_digests(services, notifier, owner="other").claimed == 0

    clock.advance(seconds=LEASE.total_seconds() + 1)
    report = send_digests(services, notifier, owner="other")

    assert (report.claimed, report.sent) == (1, 1)
    assert len(summaries(fake_slack)) == 1
    assert [call.params.get("thread_ts") for call in posts(fake_slack)] == [None, "1700000000.000100"]
    [shared] = fake_slack.shared_files()
    assert shared.thread_ts == "1700000000.000100"
    [row] = digests(session)
    assert (row.status, row.parts_sent, row.attempts) == (NudgeStatus.SENT, 3, 2)


def test_after_a_missed_monday_the_latest_week_is_caught_up_and_never_an_older_one(
    services: Services, notifier: SlackNotifier, fake_slack: SlackStandIn, session: Session, seed: Seed
) -> None:
    # Down from before Monday 23 November until Wednesday 2 December: two slots were missed.
    run_once(services, notifier, at=datetime(2026, 12, 2, 14, 0, tzinfo=UTC))

    assert [(row.period, row.status) for row in digests(session)] == [("2026-11-30", NudgeStatus.SENT)]
    [summary] = summaries(fake_slack)
    assert text_of(summary.params).startswith("Team digest · Mon 23 Nov – Mon 30 Nov")


def test_no_digest_for_a_week_before_the_workspace_existed(
    services: Services, notifier: SlackNotifier, fake_slack: SlackStandIn, session: Session
) -> None:
    # Installed on Tuesday 24 November: the Monday before is not its week.
    Seed(services, created=datetime(2026, 11, 24, 16, 0, tzinfo=UTC))

    run_once(services, notifier, at=datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    assert digests(session) == []

    run_once(services, notifier, at=datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    assert [row.period for row in digests(session)] == ["2026-11-30"]
    assert len(summaries(fake_slack)) == 1


def test_the_schedule_is_read_in_the_digest_zone_across_a_dst_change(
    services: Services, notifier: SlackNotifier, session: Session, seed: Seed
) -> None:
    berlin = services.settings.model_copy(update={"digest_timezone": "Europe/Berlin"})
    # Monday 26 October 2026 09:30 in Berlin, the day after the clocks went back.
    plan_nudges(replace(services, settings=berlin, clock=lambda: datetime(2026, 10, 26, 8, 30, tzinfo=UTC)))

    [row] = digests(session)
    assert (row.period, row.due_at) == ("2026-10-26", datetime(2026, 10, 26, 8, 0, tzinfo=UTC))


def test_without_a_digest_channel_nothing_is_planned_and_the_log_says_so_once(
    services: Services,
    notifier: SlackNotifier,
    session: Session,
    seed: Seed,
    caplog: pytest.LogCaptureFixture,
) -> None:
    off = replace(services, settings=services.settings.model_copy(update={"digest_channel": None}))
    caplog.set_level(logging.INFO, logger="jobs.digest")

    run_once(off, notifier, at=SLOT + timedelta(minutes=1))

    assert digests(session) == []
    said = [r for r in caplog.records if r.name == "jobs.digest" and "DIGEST_CHANNEL" in r.getMessage()]
    assert [r.levelname for r in said] == ["INFO"]


def test_a_channel_the_bot_is_not_in_kills_the_digest_and_tells_the_operator_to_invite_it(
    services: Services,
    notifier: SlackNotifier,
    fake_slack: SlackStandIn,
    session: Session,
    seed: Seed,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_slack.fail("chat.postMessage", error="not_in_channel")
    caplog.set_level(logging.WARNING, logger="jobs.digest")
    now = at_time(services, SLOT + timedelta(minutes=1))
    plan_digest(now)

    report = send_digests(now, notifier, owner="sender")

    assert report.dead == 1
    [row] = digests(session)
    assert (row.status, row.last_error, row.parts_sent) == (NudgeStatus.DEAD, "not_in_channel", 0)
    [warning] = [r.getMessage() for r in caplog.records if r.name == "jobs.digest"]
    assert "invite Nudgebot to that channel (/invite @Nudgebot in the channel)" in warning
    assert f"#{row.id} digest workspace:{seed.workspace_id} to {CHANNEL}: not_in_channel" in outbox_status(
        services
    )


def test_a_rate_limit_waits_without_using_an_attempt_and_a_5xx_backs_off(
    services: Services,
    notifier: SlackNotifier,
    fake_slack: SlackStandIn,
    session: Session,
    clock: FrozenClock,
    seed: Seed,
) -> None:
    clock.now = SLOT + timedelta(minutes=1)
    plan_digest(services)
    fake_slack.fail("chat.postMessage", status=429, retry_after=30)

    limited = send_digests(services, notifier, owner="sender-a")

    [row] = digests(session)
    assert (limited.rate_limited, row.status, row.attempts, row.last_error) == (
        True,
        NudgeStatus.PENDING,
        0,
        "ratelimited",
    )
    assert row.next_attempt_at == clock.now + timedelta(seconds=30)
    assert session.get(RateGate, seed.workspace_id) is not None

    # The gate stays until the reminder sender's probe finds nothing else to send, and drops it.
    clock.advance(seconds=30)
    fake_slack.fail("chat.postMessage", status=503)
    assert send_digests(services, notifier, owner="sender-b").claimed == 0
    assert send_due(services, notifier, owner="sender-b").claimed == 0
    failed = send_digests(services, notifier, owner="sender-b")

    [row] = digests(session)
    assert (failed.retried, row.status, row.attempts, row.last_error) == (
        1,
        NudgeStatus.PENDING,
        1,
        "http_503",
    )
    assert row.next_attempt_at == clock.now + backoff(1)
    assert summaries(fake_slack) == []

    clock.advance(seconds=backoff(1).total_seconds())
    send_digests(services, notifier, owner="sender-c")
    [row] = digests(session)
    assert (row.status, row.parts_sent) == (NudgeStatus.SENT, 3)
    assert len(summaries(fake_slack)) == 1


def test_a_digest_failing_every_time_is_given_up_after_the_last_attempt(
    services: Services,
    notifier: SlackNotifier,
    fake_slack: SlackStandIn,
    session: Session,
    clock: FrozenClock,
    seed: Seed,
) -> None:
    clock.now = SLOT + timedelta(minutes=1)
    plan_digest(services)
    fake_slack.fail("chat.postMessage", status=500, times=None)

    for _ in range(MAX_ATTEMPTS):
        send_digests(services, notifier, owner="sender")
        clock.advance(hours=1)

    [row] = digests(session)
    assert (row.status, row.attempts, row.last_error) == (NudgeStatus.DEAD, MAX_ATTEMPTS, "http_500")
