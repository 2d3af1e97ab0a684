"""The sender against the fake Slack, through the real Slack notifier: rate limits, failures and leases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services import Services
from handlers.slack.notifier import SlackNotifier
from handlers.slack.standin import SlackStandIn
from jobs.planners import plan
from jobs.sender import LEASE, MAX_ATTEMPTS, Pacer, backoff, send_due
from storage import outbox
from storage.models import Client, Nudge, NudgeStatus, RateGate, Technician, Visit, Workspace
from tests.harness import BOT_TOKEN, FrozenClock

# Friday 20 November 2026, 10:00 in Chicago: by Monday morning the follow-up e-mail is overdue.
FRIDAY_VISIT = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
PERIOD = "2026-11-23"


def add_technician(services: Services, *, team: str = "T111", user: str = "U111") -> Technician:
    """A technician in Chicago working the default hours (Monday to Friday, 08:00-18:00)."""
    with services.sessions.begin() as writer:
        workspace = writer.scalar(select(Workspace).where(Workspace.external_id == team))
        if workspace is None:
            workspace = Workspace(external_id=team, created_at=FRIDAY_VISIT)
            writer.add(workspace)
            writer.flush()
        technician = Technician(
            workspace_id=workspace.id,
            user_id=user,
            display_name=user,
            timezone="America/Chicago",
            created_at=FRIDAY_VISIT,
        )
        writer.add(technician)
    return technician


def add_visits(services: Services, technician: Technician, count: int) -> list[int]:
    """`count` visits on Friday whose follow-up e-mail was never marked sent; returns their ids."""
    with services.sessions.begin() as writer:
        visits = []
        for number in range(count):
            client = Client(
                workspace_id=technician.workspace_id,
                name=f"Client {technician.user_id} {number}",
                match_key=f"client {technician.user_id.lower()} {number}",
                owner_id=technician.id,
                created_at=FRIDAY_VISIT,
                last_touch_at=FRIDAY_VISIT,
            )
            visit = Visit(
                workspace_id=technician.workspace_id,
                client=client,
                technician_id=technician.id,
                visited_at=FRIDAY_VISIT,
                minutes=90,
                work_done="replaced fuser",
                remaining="order toner",
                created_at=FRIDAY_VISIT,
            )
            writer.add(visit)
            visits.append(visit)
        writer.flush()
        return [visit.id for visit in visits]


def plan_now(services: Services) -> int:
    with services.sessions.begin() as writer:
        return plan(writer, now=services.clock(), default_tz=ZoneInfo("UTC"))


def key(workspace_id: int, visit_id: int) -> str:
    return f"{workspace_id}:visit:{visit_id}:followup:{PERIOD}"


def nudges(session: Session) -> list[Nudge]:
    return list(session.scalars(select(Nudge).order_by(Nudge.id)))


@pytest.fixture
def notifier(fake_slack: SlackStandIn) -> SlackNotifier:
    """The real Slack notifier on the fake, giving up on an answer after a second."""
    return SlackNotifier(token=BOT_TOKEN, base_url=fake_slack.base_url, timeout=1)


@pytest.fixture
def ana(services: Services) -> Technician:
    return add_technician(services)


def test_a_due_nudge_is_sent_once_tagged_with_its_key(
    services: Services, notifier: SlackNotifier, fake_slack: SlackStandIn, session: Session, ana: Technician
) -> None:
    [visit] = add_visits(services, ana, 1)
    assert plan_now(services) == 1

    first = send_due(services, notifier, owner="sender-a")
    second = send_due(services, notifier, owner="sender-b")

    assert (first.claimed, first.sent, second.claimed) == (1, 1, 0)
    assert fake_slack.keys() == [key(ana.workspace_id, visit)]
    [nudge] = nudges(session)
    assert (nudge.status, nudge.attempts, nudge.lease_owner, nudge.channel) == (
        NudgeStatus.SENT,
        1,
        "sender-a",
        "DU111",
    )


def test_a_429_puts_the_nudges_back_until_retry_after_and_gates_only_that_workspace(
    services: Services,
    clock: FrozenClock,
    notifier: SlackNotifier,
    fake_slack: SlackStandIn,
    session: Session,
    ana: Technician,
) -> None:
    add_visits(services, ana, 3)
    bo = add_technician(services, team="T222", user="U222")
    [bo_visit] = add_visits(services, bo, 1)
    plan_now(services)
    fake_slack.fail("chat.postMessage", status=429, retry_after=30)
    refused_at = clock.now

    report = send_due(services, notifier, owner="sender-a", batch=3)

    assert (report.claimed, report.sent, report.retried, report.rate_limited) == (3, 0, 3, True)
    assert len(fake_slack.calls("chat.postMessage")) == 1
    ana_nudges = [n for n in nudges(session) if n.workspace_id == ana.workspace_id]
    assert [(n.status, n.attempts, n.last_error) for n in ana_nudges] == [
        (NudgeStatus.PENDING, 0, "ratelimited")
    ] * 3
    # The refused one waits out Retry-After; the two behind it wait on the gate alone.
    assert [n.next_attempt_at - refused_at for n in ana_nudges] == [timedelta(seconds=s) for s in (30, 0, 0)]
    assert session.get(RateGate, ana.workspace_id).blocked_until == refused_at + timedelta(seconds=30)  # type: ignore[union-attr]

    # Until then other senders take nothing of Ana's workspace, but Bo's goes out.
    clock.advance(seconds=29)
    other = send_due(services, notifier, owner="sender-b")
    assert (other.claimed, other.sent) == (1, 1)
    assert fake_slack.keys() == [key(bo.workspace_id, bo_visit)]

    # Then one sender probes with one nudge; Slack takes it, the gate goes and the rest follow.
    clock.advance(seconds=1)
    probe = send_due(services, notifier, owner="sender-b")
    assert (probe.claimed, probe.sent) == (1, 1)
    assert session.get(RateGate, ana.workspace_id) is None
    rest = send_due(services, notifier, owner="sender-c")
    assert (rest.claimed, rest.sent) == (2, 2)
    assert fake_slack.duplicates() == {}
    assert len(fake_slack.keys()) == 4
    assert [n.status for n in nudges(session)] == [NudgeStatus.SENT] * 4


def test_after_the_wait_only_one_sender_probes_and_a_refused_probe_closes_the_gate_again(
    services: Services,
    clock: FrozenClock,
    notifier: SlackNotifier,
    fake_slack: SlackStandIn,
    session: Session,
    ana: Technician,
) -> None:
    add_visits(services, ana, 3)
    plan_now(services)
    fake_slack.fail("chat.postMessage", status=429, retry_after=5, times=2)
    send_due(services, notifier, owner="sender-a")
    clock.advance(seconds=5)

    with services.sessions.begin() as writer:
        first = outbox.claim_batch(writer, owner="sender-b", now=clock.now, lease=LEASE, limit=20)
    with services.sessions.begin() as writer:
        second = outbox.claim_batch(writer, owner="sender-c", now=clock.now, lease=LEASE, limit=20)
    assert (len(first.ids), first.probes, second.ids) == (1, {ana.workspace_id}, [])

    # The probe's owner lets it go unanswered (here: its lease runs out); a new probe follows.
    clock.advance(seconds=LEASE.total_seconds() + 1)
    refused = send_due(services, notifier, owner="sender-c")
    assert (refused.claimed, refused.sent, refused.rate_limited) == (1, 0, True)
    assert session.get(RateGate, ana.workspace_id).blocked_until == clock.now + timedelta(seconds=5)  # type: ignore[union-attr]
    assert send_due(services, notifier, owner="sender-d").claimed == 0

    clock.advance(seconds=5)
    while send_due(services, notifier, owner="sender-d").claimed:
        pass
    assert [c.fault for c in fake_slack.calls("chat.postMessage")] == ["ratelimited"] * 2 + [None] * 3
    assert [n.status for n in nudges(session)] == [NudgeStatus.SENT] * 3


def test_a_long_run_of_429s_never_wears_a_nudge_out(
    services: Services,
    clock: FrozenClock,
    notifier: SlackNotifier,
    fake_slack: SlackStandIn,
    session: Session,
    ana: Technician,
) -> None:
    add_visits(services, ana, 1)
    plan_now(services)
    fake_slack.fail("chat.postMessage", status=429, retry_after=1, times=3 * MAX_ATTEMPTS)

    for _ in range(3 * MAX_ATTEMPTS + 1):
        send_due(services, notifier, owner="sender-a")
        clock.advance(seconds=1)

    [nudge] = nudges(session)
    assert (nudge.status, nudge.attempts) == (NudgeStatus.SENT, 1)
    assert len(fake_slack.keys()) == 1


@pytest.mark.parametrize("failure", ["http_500", "http_503", "timeout"])
def test_server_errors_and_time_outs_are_retried_later_with_back_off(
    failure: str,
    services: Services,
    clock: FrozenClock,
    notifier: SlackNotifier,
    fake_slack: SlackStandIn,
    session: Session,
    ana: Technician,
) -> None:
    [visit] = add_visits(services, ana, 1)
    plan_now(services)
    if failure == "timeout":
        # Slack got it but we never heard back: it counts as not sent, and a duplicate is possible.
        fake_slack.delay("chat.postMessage", 3)
    else:
        fake_slack.fail("chat.postMessage", status=int(failure[-3:]))
    failed_at = clock.now

    report = send_due(services, notifier, owner="sender-a")

    assert (report.sent, report.retried, report.dead) == (0, 1, 0)
    [nudge] = nudges(session)
    assert (nudge.status, nudge.attempts) == (NudgeStatus.PENDING, 1)
    assert nudge.next_attempt_at == failed_at + backoff(1) == failed_at + timedelta(seconds=30)
    # What a manager sees as the reason: the status, not slack_sdk's sentence about a non-JSON body.
    assert nudge.last_error == ("network: TimeoutError" if failure == "timeout" else failure)
    assert session.get(RateGate, ana.workspace_id) is None

    fake_slack.clear_faults()
    clock.advance(seconds=29)
    assert send_due(services, notifier, owner="sender-a").claimed == 0
    clock.advance(seconds=1)
    assert send_due(services, notifier, owner="sender-a").sent == 1
    [nudge] = nudges(session)
    assert (nudge.status, nudge.attempts) == (NudgeStatus.SENT, 2)
    expected = 2 if failure == "timeout" else 1
    assert fake_slack.keys() == [key(ana.workspace_id, visit)] * expected


def test_temporary_failures_back_off_longer_each_time_and_stop_at_max_attempts(
    services: Services,
    clock: FrozenClock,
    notifier: SlackNotifier,
    fake_slack: SlackStandIn,
    session: Session,
    ana: Technician,
) -> None:
    add_visits(services, ana, 1)
    plan_now(services)
    fake_slack.fail("chat.postMessage", status=503, times=None)
    waits = []

    for _ in range(MAX_ATTEMPTS):
        before = clock.now
        assert send_due(services, notifier, owner="sender-a").claimed == 1
        [nudge] = nudges(session)
        if nudge.status is NudgeStatus.PENDING:
            waits.append((nudge.next_attempt_at - before).total_seconds())
            clock.now = nudge.next_attempt_at

    [nudge] = nudges(session)
    assert waits == [30, 60, 120, 240, 480, 960, 1920]
    assert (nudge.status, nudge.attempts) == (NudgeStatus.DEAD, MAX_ATTEMPTS)
    assert nudge.last_error is not None
    assert len(fake_slack.calls("chat.postMessage")) == MAX_ATTEMPTS
    clock.advance(hours=1)
    assert send_due(services, notifier, owner="sender-a").claimed == 0


@pytest.mark.parametrize(
    "error", ["channel_not_found", "user_not_found", "account_inactive", "token_revoked", "invalid_auth"]
)
def test_permanent_errors_mark_the_nudge_dead_with_the_reason(
    error: str,
    services: Services,
    clock: FrozenClock,
    notifier: SlackNotifier,
    fake_slack: SlackStandIn,
    session: Session,
    ana: Technician,
) -> None:
    add_visits(services, ana, 1)
    plan_now(services)
    fake_slack.fail("chat.postMessage", error=error)

    report = send_due(services, notifier, owner="sender-a")

    assert (report.sent, report.dead, report.retried) == (0, 1, 0)
    [nudge] = nudges(session)
    assert (nudge.status, nudge.last_error, nudge.attempts) == (NudgeStatus.DEAD, error, 1)
    clock.advance(days=1)
    assert send_due(services, notifier, owner="sender-a").claimed == 0
    assert len(fake_slack.calls("chat.postMessage")) == 1


def test_a_lease_held_by_a_dead_sender_is_taken_over_once_it_runs_out(
    services: Services,
    clock: FrozenClock,
    notifier: SlackNotifier,
    fake_slack: SlackStandIn,
    session: Session,
    ana: Technician,
) -> None:
    [visit] = add_visits(services, ana, 1)
    plan_now(services)
    with services.sessions.begin() as writer:
        taken = outbox.claim(writer, owner="crashed", now=clock.now, lease=LEASE, limit=20)
    assert len(taken) == 1

    clock.advance(seconds=LEASE.total_seconds() - 1)
    assert send_due(services, notifier, owner="survivor").claimed == 0
    clock.advance(seconds=2)
    report = send_due(services, notifier, owner="survivor")

    assert (report.claimed, report.sent) == (1, 1)
    [nudge] = nudges(session)
    assert (nudge.status, nudge.lease_owner, nudge.attempts) == (NudgeStatus.SENT, "survivor", 2)
    assert fake_slack.keys() == [key(ana.workspace_id, visit)]


def test_mark_sent_by_a_sender_that_lost_its_lease_changes_nothing(
    services: Services, clock: FrozenClock, session: Session, ana: Technician
) -> None:
    add_visits(services, ana, 1)
    plan_now(services)
    with services.sessions.begin() as writer:
        [nudge_id] = outbox.claim(writer, owner="slow", now=clock.now, lease=LEASE, limit=20)
    clock.advance(seconds=LEASE.total_seconds() + 1)
    with services.sessions.begin() as writer:
        assert outbox.claim(writer, owner="fast", now=clock.now, lease=LEASE, limit=20) == [nudge_id]

    with services.sessions.begin() as writer:
        late = outbox.mark_sent(writer, nudge_id=nudge_id, owner="slow", at=clock.now, channel="D1", ts="1.1")
        renewed = outbox.renew(writer, nudge_id=nudge_id, owner="slow", until=clock.now + LEASE)
    with services.sessions.begin() as writer:
        held = outbox.mark_sent(writer, nudge_id=nudge_id, owner="fast", at=clock.now, channel="D1", ts="2.2")

    assert (late, renewed, held) == (False, False, True)
    [nudge] = nudges(session)
    assert (nudge.status, nudge.lease_owner, nudge.message_ts) == (NudgeStatus.SENT, "fast", "2.2")


def test_a_nudge_out_of_hours_waits_for_the_next_working_hour_without_using_an_attempt(
    services: Services,
    clock: FrozenClock,
    notifier: SlackNotifier,
    fake_slack: SlackStandIn,
    session: Session,
    ana: Technician,
) -> None:
    add_visits(services, ana, 1)
    plan_now(services)
    clock.now = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 21:00 in Chicago

    report = send_due(services, notifier, owner="sender-a")

    assert (report.claimed, report.retried, report.sent) == (1, 1, 0)
    [nudge] = nudges(session)
    assert (nudge.status, nudge.attempts, nudge.last_error) == (NudgeStatus.PENDING, 0, "hours")
    assert nudge.next_attempt_at == datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # 08:00 in Chicago
    assert fake_slack.calls("chat.postMessage") == []


class FakeTime:
    """A clock and a sleep that move together, for pacing without waiting."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_pacer_holds_its_rate_however_long_it_runs() -> None:
    time = FakeTime()
    pacer = Pacer(per_second=50, burst=10, sleep=time.sleep, clock=time.clock)

    for _ in range(1000):
        pacer.wait(1)
        time.now += 0.005  # the send itself

    # The burst goes at once, then one every 1/50 s: 990 / 50 s (plus the last send's 5 ms).
    assert time.now == pytest.approx(990 / 50 + 0.005)


def test_the_pacer_lets_a_slow_sender_go_unhindered_and_keeps_workspaces_apart() -> None:
    time = FakeTime()
    pacer = Pacer(per_second=10, burst=2, sleep=time.sleep, clock=time.clock)

    for _ in range(20):
        pacer.wait(1)
        time.now += 0.2
    slow = time.now
    for _ in range(2):
        pacer.wait(2)

    assert slow == pytest.approx(4.0)
    assert time.now == pytest.approx(slow)
