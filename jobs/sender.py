"""The sender: claims due nudges on a lease, re-checks each, delivers it through the Notifier, settles it.

A crash loses nothing: a row leased by a dead sender is claimed again once its lease runs out, so a
nudge is sent at least once and at most one extra time per crash (if the crash fell between the
platform's answer and our commit). Each lease is renewed just before its send, so a slow batch never
races another sender for a row.

A 429 gates the workspace for every sender until Retry-After has passed; then one sender probes it
with a single nudge (see `storage.outbox`). Waiting on a rate limit or for working hours never uses
up one of a nudge's `MAX_ATTEMPTS`; 5xx answers and time-outs do, with a doubling back-off.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot import addresses, digest, nudges
from bot.links import Links
from bot.notify import Address, Notifier, PermanentFailure, RateLimited, TemporaryFailure
from bot.replies import Reply
from bot.services import Services
from storage import outbox
from storage.models import Nudge, NudgeStatus, Technician

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 8
BATCH = 20


@dataclass
class SendReport:
    """What one pass of the sender did."""

    claimed: int = 0
    sent: int = 0
    skipped: int = 0
    dead: int = 0
    retried: int = 0
    rate_limited: bool = False


@dataclass
class Pacer:
    """Spaces sends to each workspace so the platform never has to push back (a token bucket, wall-clock).

    Callers reserve their slot under the lock and sleep outside it, so threads sharing one pacer queue
    up fairly; a bucket may go below zero, which is the wait the next caller owes.
    """

    per_second: float = 5.0
    burst: int = 5
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[int, tuple[float, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, workspace_id: int) -> None:
        """Block until one more message may go to this workspace."""
        with self._lock:
            now = self.clock()
            tokens, last = self._buckets.get(workspace_id, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.per_second) - 1
            self._buckets[workspace_id] = (tokens, now)
        if tokens < 0:
            self.sleep(-tokens / self.per_second)


def backoff(attempts: int) -> timedelta:
    """How long to wait after a temporary failure: 30 s, 1 min, 2 min, … capped at an hour."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class _Prepared:
    nudge_id: int
    workspace_id: int
    attempts: int
    recipient: Address
    key: str
    reply: Reply


@dataclass(frozen=True)
class _NotSent:
    """Why a claimed nudge is not sent in this pass ("lost", "dead", "skipped", "retried", "gated")."""

    outcome: str
    workspace_id: int | None = None


def _prepare(
    services: Services,
    nudge_id: int,
    owner: str,
    now: datetime,
    claim: outbox.Claim,
    lease: timedelta,
    default_tz: ZoneInfo,
    links: Links | None = None,
) -> _Prepared | _NotSent:
    """Load a held nudge, renew its lease and compose it; or settle it here and say why it is not sent."""
    with services.sessions.begin() as session:
        # Renewed right before the send, so a slow batch never sends a nudge whose lease another sender
        # could already be claiming; only a crash (or a send longer than the lease) can send one twice.
        if not outbox.renew(session, nudge_id=nudge_id, owner=owner, until=services.real_now() + lease):
            return _NotSent("lost")
        nudge = session.get(Nudge, nudge_id)
        assert nudge is not None
        workspace_id = nudge.workspace_id
        gated = outbox.blocked_until(session, workspace_id=workspace_id) is not None
        if gated and workspace_id not in claim.probes:
            # Claimed before the platform pushed back: only a prober writes there now. Back in the queue as
            # due, for the gate (not this row) says when the workspace may be written to again.
            outbox.retry_later(
                session,
                nudge_ids=[nudge_id],
                owner=owner,
                at=now,
                reason="ratelimited",
                attempted=False,
            )
            return _NotSent("gated", workspace_id)
        if nudge.attempts > MAX_ATTEMPTS:
            outbox.settle(
                session, nudge_id=nudge_id, owner=owner, status=NudgeStatus.DEAD, reason="too_many_attempts"
            )
            return _NotSent("dead", workspace_id)
        technician = session.get(Technician, nudge.technician_id)
        assert technician is not None
        hours = nudges.working_hours(technician, default_tz)
        if not nudges.still_due(session, nudge, hours, now):
            outbox.settle(session, nudge_id=nudge_id, owner=owner, status=NudgeStatus.SKIPPED, reason="done")
            return _NotSent("skipped", workspace_id)
        if not hours.is_working(now):
            # Paused or out of hours since it was planned: hold it for the next working hour.
            outbox.retry_later(
                session,
                nudge_ids=[nudge_id],
                owner=owner,
                at=hours.next_open(now),
                reason="hours",
                attempted=False,
            )
            return _NotSent("retried", workspace_id)
        return _Prepared(
            nudge_id=nudge.id,
            workspace_id=workspace_id,
            attempts=nudge.attempts,
            recipient=addresses.of_technician(session, technician),
            key=f"{nudge.workspace_id}:{nudge.subject}:{nudge.kind}:{nudge.period}",
            reply=nudges.compose(session, nudge, hours, now, links),
        )


def send_due(
    services: Services,
    notifier: Notifier,
    *,
    owner: str,
    pacer: Pacer | None = None,
    batch: int = BATCH,
    lease: timedelta = LEASE,
) -> SendReport:
    """One pass: claim a batch, send what is still due, settle every row; returns what happened."""
    report = SendReport()
    now = services.clock()
    default_tz = ZoneInfo(services.settings.default_timezone)
    given = services.settings.require_links()
    links = Links(*given) if given is not None else None
    pacer = pacer or Pacer()
    with services.sessions.begin() as session:
        # Digests go out in parts, with their own progress and sender (jobs.digest): never claimed here.
        claim = outbox.claim_batch(
            session,
            owner=owner,
            now=now,
            real_now=services.real_now(),
            lease=lease,
            limit=batch,
            skip_kinds=(digest.KIND,),
        )
    report.claimed = len(claim.ids)
    for nudge_id in claim.ids:
        prepared = _prepare(services, nudge_id, owner, now, claim, lease, default_tz, links)
        if isinstance(prepared, _NotSent):
            report.skipped += prepared.outcome == "skipped"
            report.dead += prepared.outcome == "dead"
            report.retried += prepared.outcome in ("retried", "gated")
            if prepared.workspace_id in claim.probes:
                with services.sessions.begin() as session:
                    outbox.release_probe(
                        session,
                        workspace_id=prepared.workspace_id,
                        held_until=claim.until,
                        now=services.real_now(),
                    )
            continue
        _deliver(services, notifier, prepared, owner, claim, pacer, report)
    return report


def _deliver(
    services: Services,
    notifier: Notifier,
    prepared: _Prepared,
    owner: str,
    claim: outbox.Claim,
    pacer: Pacer,
    report: SendReport,
) -> None:
    """Send one prepared nudge and settle it by the answer; a probe's answer also settles the gate."""
    nudge_id, workspace_id = prepared.nudge_id, prepared.workspace_id
    pacer.wait(workspace_id)
    try:
        delivered = notifier.send(recipient=prepared.recipient, reply=prepared.reply, key=prepared.key)
    except RateLimited as limited:
        wait = timedelta(seconds=limited.retry_after)
        with services.sessions.begin() as session:
            if workspace_id in claim.probes:
                outbox.open_workspace(session, workspace_id=workspace_id, held_until=claim.until)
            # The platform's wait is real time; the nudge's next try is as of the rules' instant.
            outbox.block_workspace(session, workspace_id=workspace_id, until=services.real_now() + wait)
            # A refusal is not a failed attempt: a long storm must not wear the nudge out.
            outbox.retry_later(
                session,
                nudge_ids=[nudge_id],
                owner=owner,
                at=services.clock() + wait,
                reason="ratelimited",
                attempted=False,
            )
        report.rate_limited = True
        report.retried += 1
        logger.warning(
            "the chat platform asked us to wait %ss for workspace %s", limited.retry_after, workspace_id
        )
        return
    except (PermanentFailure, TemporaryFailure) as failure:
        permanent = isinstance(failure, PermanentFailure)
        with services.sessions.begin() as session:
            if workspace_id in claim.probes:
                outbox.open_workspace(session, workspace_id=workspace_id, held_until=claim.until)
            if permanent or prepared.attempts >= MAX_ATTEMPTS:
                outbox.settle(
                    session, nudge_id=nudge_id, owner=owner, status=NudgeStatus.DEAD, reason=failure.reason
                )
            else:
                outbox.retry_later(
                    session,
                    nudge_ids=[nudge_id],
                    owner=owner,
                    at=services.clock() + backoff(prepared.attempts),
                    reason=failure.reason,
                )
        if permanent or prepared.attempts >= MAX_ATTEMPTS:
            report.dead += 1
            logger.warning("nudge %s can't be delivered: %s", nudge_id, failure.reason)
        else:
            report.retried += 1
        return
    with services.sessions.begin() as session:
        if workspace_id in claim.probes:
            outbox.open_workspace(session, workspace_id=workspace_id, held_until=claim.until)
        if delivered.opened:
            # A 1:1 chat was opened for this message (Teams): the next one goes straight there.
            addresses.remember_opened(
                session,
                workspace_id=workspace_id,
                address=prepared.recipient,
                conversation_id=delivered.channel,
                now=services.clock(),
            )
        held = outbox.mark_sent(
            session,
            nudge_id=nudge_id,
            owner=owner,
            at=services.clock(),
            channel=delivered.channel,
            ts=delivered.ts,
        )
    if not held:
        logger.warning(
            "nudge %s was sent after its lease ran out; another sender may send it again", nudge_id
        )
    report.sent += 1
