"""The sender: claims due nudges on a lease, re-checks each, delivers it through the Notifier, settles it.

A crash loses nothing: a row leased by a dead sender is claimed again once its lease runs out, so a
nudge is sent at least once and at most one extra time per crash (if the crash fell between the
platform's answer and our commit).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot import nudges
from bot.notify import Notifier, PermanentFailure, RateLimited, TemporaryFailure
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
    """Spaces sends to each workspace so Slack never has to push back (a token bucket, wall-clock)."""

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
            tokens = min(float(self.burst), tokens + (now - last) * self.per_second)
            delay = 0.0 if tokens >= 1 else (1 - tokens) / self.per_second
            self._buckets[workspace_id] = (tokens - 1, now + delay)
        if delay > 0:
            self.sleep(delay)


def backoff(attempts: int) -> timedelta:
    """How long to wait after a temporary failure: 30 s, 1 min, 2 min, … capped at an hour."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class _Prepared:
    nudge_id: int
    workspace_id: int
    attempts: int
    recipient: str
    key: str
    reply: Reply


def _prepare(
    services: Services, nudge_id: int, owner: str, now: datetime, default_tz: ZoneInfo
) -> _Prepared | str:
    """Load a held nudge and compose it; a string says why it is not sent (and it is settled here)."""
    with services.sessions.begin() as session:
        nudge = session.get(Nudge, nudge_id)
        if nudge is None or nudge.lease_owner != owner or nudge.status is not NudgeStatus.SENDING:
            return "lost"
        if nudge.attempts > MAX_ATTEMPTS:
            outbox.settle(
                session, nudge_id=nudge_id, owner=owner, status=NudgeStatus.DEAD, reason="too_many_attempts"
            )
            return "dead"
        technician = session.get(Technician, nudge.technician_id)
        assert technician is not None
        hours = nudges.working_hours(technician, default_tz)
        if not nudges.still_due(session, nudge, hours, now):
            outbox.settle(session, nudge_id=nudge_id, owner=owner, status=NudgeStatus.SKIPPED, reason="done")
            return "skipped"
        if not hours.is_working(now):
            # Paused or out of hours since it was planned: hold it for the next working hour.
            outbox.retry_later(
                session, nudge_ids=[nudge_id], owner=owner, at=hours.next_open(now), reason="hours"
            )
            return "retried"
        return _Prepared(
            nudge_id=nudge.id,
            workspace_id=nudge.workspace_id,
            attempts=nudge.attempts,
            recipient=technician.slack_user_id,
            key=f"{nudge.workspace_id}:{nudge.subject}:{nudge.kind}:{nudge.period}",
            reply=nudges.compose(session, nudge, hours, now),
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
    pacer = pacer or Pacer()
    with services.sessions.begin() as session:
        claimed = outbox.claim(session, owner=owner, now=now, lease=lease, limit=batch)
    report.claimed = len(claimed)
    for index, nudge_id in enumerate(claimed):
        prepared = _prepare(services, nudge_id, owner, now, default_tz)
        if isinstance(prepared, str):
            report.skipped += prepared == "skipped"
            report.dead += prepared == "dead"
            report.retried += prepared == "retried"
            continue
        pacer.wait(prepared.workspace_id)
        try:
            delivered = notifier.send(recipient=prepared.recipient, reply=prepared.reply, key=prepared.key)
        except RateLimited as limited:
            until = services.clock() + timedelta(seconds=limited.retry_after)
            with services.sessions.begin() as session:
                outbox.block_workspace(session, workspace_id=prepared.workspace_id, until=until)
                outbox.retry_later(
                    session, nudge_ids=claimed[index:], owner=owner, at=until, reason="ratelimited"
                )
            report.rate_limited = True
            report.retried += len(claimed) - index
            logger.warning(
                "Slack asked us to wait %ss for workspace %s", limited.retry_after, prepared.workspace_id
            )
            break
        except PermanentFailure as failure:
            with services.sessions.begin() as session:
                outbox.settle(
                    session, nudge_id=nudge_id, owner=owner, status=NudgeStatus.DEAD, reason=failure.reason
                )
            report.dead += 1
            logger.warning("nudge %s can't be delivered: %s", nudge_id, failure.reason)
        except TemporaryFailure as failure:
            with services.sessions.begin() as session:
                if prepared.attempts >= MAX_ATTEMPTS:
                    outbox.settle(
                        session,
                        nudge_id=nudge_id,
                        owner=owner,
                        status=NudgeStatus.DEAD,
                        reason=failure.reason,
                    )
                    report.dead += 1
                else:
                    outbox.retry_later(
                        session,
                        nudge_ids=[nudge_id],
                        owner=owner,
                        at=services.clock() + backoff(prepared.attempts),
                        reason=failure.reason,
                    )
                    report.retried += 1
        else:
            with services.sessions.begin() as session:
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
    return report
