"""The managers' digest in the outbox: planned once a week per workspace, delivered in parts.

Planning writes one row per workspace and week (insert-or-ignore on the slot's local date), so two
schedulers, planning twice or a restart plan it once; after downtime the latest slot is planned when
the process is back, never older ones, and never a slot from before the workspace existed.

Delivery posts the summary in the channel, then the details in its thread, then the chart into the
thread, recording after each part how far it got (under the lease). A crash resumes at the next part:
at most one part is posted twice per crash, and the summary is never posted again once recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot import addresses, chart, digest
from bot.notify import Address, Delivered, Notifier, PermanentFailure, RateLimited, TemporaryFailure
from bot.people import SLACK
from bot.services import Services
from bot.settings import Settings
from jobs.planners import insert_nudges
from jobs.sender import LEASE, MAX_ATTEMPTS, Pacer, SendReport, backoff
from storage import outbox
from storage import repositories as repo
from storage.models import Nudge, NudgeStatus, Workspace

logger = logging.getLogger(__name__)

BATCH = 5
# Reasons that mean the bot is not (or can no longer be) in the digest's channel.
NOT_IN_CHANNEL = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "conversation_not_found",
        "blocked",
        "no_channel",
        "bot_not_in_team",
    }
)


def digest_channel(workspace: Workspace, settings: Settings) -> str | None:
    """Where a workspace's weekly digest goes: the channel chosen from chat ("digest here"), else, on
    Slack, the DIGEST_CHANNEL setting."""
    if workspace.digest_channel:
        return workspace.digest_channel
    return settings.digest_channel if workspace.platform == SLACK else None


def plan_digests(session: Session, *, now: datetime, settings: Settings) -> int:
    """Write the digest of the latest weekly slot for each workspace; returns how many were due."""
    weekday, at = settings.digest_at
    tz = ZoneInfo(settings.digest_zone)
    slot = digest.latest_slot(now, weekday=weekday, at=at, tz=tz)
    period = slot.astimezone(tz).date().isoformat()
    rows = [
        digest.digest_row(workspace_id=workspace.id, period=period, due_at=slot, channel=channel, now=now)
        for workspace in repo.all_workspaces(session)
        # A fresh install waits for its first slot rather than posting an empty week at once.
        if workspace.created_at <= slot and (channel := digest_channel(workspace, settings))
    ]
    insert_nudges(session, rows)
    return len(rows)


def explain_off(settings: Settings) -> None:
    """Say once, at start, where weekly digests go when no DIGEST_CHANNEL is set."""
    if not settings.digest_channel:
        logger.info(
            "DIGEST_CHANNEL is not set: no weekly managers' digest will be posted on Slack "
            "(managers can still ask for one with /visit digest); on Teams a manager chooses the "
            "channel by typing @Nudgebot digest here in it"
        )


@dataclass(frozen=True)
class _Job:
    """A claimed digest, composed: where it goes and what is left to post."""

    nudge_id: int
    workspace_id: int
    attempts: int
    key: str
    parts_sent: int
    # Where the summary goes (a channel id, or a manager's user id for their DM) until it is posted,
    # then where it landed; `ts` is the summary's, once posted. `address` is how to reach `channel`.
    channel: str
    ts: str | None
    composed: digest.Digest
    address: Address


def send_digests(
    services: Services,
    notifier: Notifier,
    *,
    owner: str,
    pacer: Pacer | None = None,
    batch: int = BATCH,
    lease: timedelta = LEASE,
) -> SendReport:
    """One pass: claim due digests and post what is left of each; returns what happened."""
    report = SendReport()
    pacer = pacer or Pacer()
    with services.sessions.begin() as session:
        ids = outbox.claim_kind(
            session,
            kind=digest.KIND,
            owner=owner,
            now=services.clock(),
            real_now=services.real_now(),
            lease=lease,
            limit=batch,
        )
    report.claimed = len(ids)
    for nudge_id in ids:
        job = _compose(services, nudge_id, owner, lease, report)
        if job is not None:
            _deliver(services, notifier, job, owner, lease, pacer, report)
    return report


def _compose(
    services: Services, nudge_id: int, owner: str, lease: timedelta, report: SendReport
) -> _Job | None:
    """Renew the lease and compose the digest as of its window's end; None when it is not ours to send."""
    with services.sessions.begin() as session:
        if not outbox.renew(session, nudge_id=nudge_id, owner=owner, until=services.real_now() + lease):
            return None
        nudge = session.get(Nudge, nudge_id)
        assert nudge is not None
        if nudge.attempts > MAX_ATTEMPTS:
            outbox.settle(
                session, nudge_id=nudge_id, owner=owner, status=NudgeStatus.DEAD, reason="too_many_attempts"
            )
            report.dead += 1
            logger.warning("the digest %s gave up after %s attempts", nudge.period, MAX_ATTEMPTS)
            return None
        if not nudge.channel:
            outbox.settle(
                session, nudge_id=nudge_id, owner=owner, status=NudgeStatus.DEAD, reason="no_channel"
            )
            report.dead += 1
            return None
        tz = ZoneInfo(services.settings.digest_zone)
        snapshot = digest.gather(session, workspace_id=nudge.workspace_id, end=nudge.due_at, tz=tz)
        return _Job(
            nudge_id=nudge.id,
            workspace_id=nudge.workspace_id,
            attempts=nudge.attempts,
            key=f"{nudge.workspace_id}:{nudge.subject}:{nudge.kind}:{nudge.period}",
            parts_sent=nudge.parts_sent,
            channel=nudge.channel,
            ts=nudge.message_ts,
            composed=digest.compose(snapshot),
            address=addresses.of_channel(session, nudge.workspace_id, nudge.channel),
        )


def _parts(job: _Job, notifier: Notifier) -> list[Callable[[Address, str | None], Delivered | None]]:
    """Each part as a call taking the address and the summary's ts: the summary, the details, the chart."""
    composed = job.composed

    def summary(channel: Address, _: str | None) -> Delivered:
        return notifier.post(channel=channel, reply=composed.summary, key=f"{job.key}:0")

    def detail(number: int) -> Callable[[Address, str | None], Delivered | None]:
        def post(channel: Address, ts: str | None) -> None:
            reply = composed.details[number - 1]
            notifier.post(channel=channel, reply=reply, key=f"{job.key}:{number}", thread=ts)

        return post

    def picture(channel: Address, ts: str | None) -> None:
        # Drawn only when its turn comes, so a digest resumed after the chart costs no drawing.
        png = chart.eight_weeks(composed.weeks, end_day=composed.end_day, tz=composed.tz)
        notifier.upload(channel=channel, file=png, thread=ts)

    return [summary, *(detail(number) for number in range(1, len(composed.details) + 1)), picture]


def _deliver(
    services: Services,
    notifier: Notifier,
    job: _Job,
    owner: str,
    lease: timedelta,
    pacer: Pacer,
    report: SendReport,
) -> None:
    """Post the parts not yet posted, recording each; settle the row by the platform's answer."""
    parts = _parts(job, notifier)
    channel, ts, address = job.channel, job.ts, job.address
    for number in range(job.parts_sent, len(parts)):
        if not _still_ours(services, job, owner, lease, report):
            return
        pacer.wait(job.workspace_id)
        try:
            delivered = parts[number](address, ts)
        except RateLimited as limited:
            _rate_limited(services, job, owner, limited, report)
            return
        except (PermanentFailure, TemporaryFailure) as failure:
            _failed(services, job, owner, failure, report)
            return
        if number == 0:
            assert delivered is not None
            channel, ts = delivered.channel, delivered.ts
            # The rest of the parts go where the summary landed (a DM opened for it, on Slack).
            address = replace(address, target=channel)
        with services.sessions.begin() as session:
            if number == 0 and delivered is not None and delivered.opened:
                addresses.remember_opened(
                    session,
                    workspace_id=job.workspace_id,
                    address=job.address,
                    conversation_id=channel,
                    now=services.clock(),
                )
            held = outbox.record_part(
                session,
                nudge_id=job.nudge_id,
                owner=owner,
                parts_sent=number + 1,
                channel=channel if number == 0 else None,
                ts=ts if number == 0 else None,
            )
        if not held:
            logger.warning("digest %s: part %s was posted after its lease ran out", job.key, number)
            return
    with services.sessions.begin() as session:
        held = outbox.mark_sent(
            session, nudge_id=job.nudge_id, owner=owner, at=services.clock(), channel=channel, ts=ts or ""
        )
    if held:
        report.sent += 1
        logger.info("digest %s posted to %s in %s parts", job.key, channel, len(parts))


def _still_ours(services: Services, job: _Job, owner: str, lease: timedelta, report: SendReport) -> bool:
    """Renew the lease before a part; give the row back when the platform has since asked us to wait."""
    with services.sessions.begin() as session:
        if not outbox.renew(session, nudge_id=job.nudge_id, owner=owner, until=services.real_now() + lease):
            return False
        gated = outbox.blocked_until(session, workspace_id=job.workspace_id)
        if gated is None:
            return True
        # Another sender was told to slow down: the gate (lifted by that sender's probe) decides when.
        outbox.retry_later(
            session,
            nudge_ids=[job.nudge_id],
            owner=owner,
            at=services.clock(),
            reason="ratelimited",
            attempted=False,
        )
    report.retried += 1
    return False


def _rate_limited(
    services: Services, job: _Job, owner: str, limited: RateLimited, report: SendReport
) -> None:
    wait = timedelta(seconds=limited.retry_after)
    with services.sessions.begin() as session:
        outbox.block_workspace(session, workspace_id=job.workspace_id, until=services.real_now() + wait)
        # Waiting is not a failed attempt: a long storm must not wear the digest out.
        outbox.retry_later(
            session,
            nudge_ids=[job.nudge_id],
            owner=owner,
            at=services.clock() + wait,
            reason="ratelimited",
            attempted=False,
        )
    report.rate_limited = True
    report.retried += 1
    logger.warning(
        "the chat platform asked us to wait %ss for workspace %s", limited.retry_after, job.workspace_id
    )


def _failed(
    services: Services,
    job: _Job,
    owner: str,
    failure: PermanentFailure | TemporaryFailure,
    report: SendReport,
) -> None:
    dead = isinstance(failure, PermanentFailure) or job.attempts >= MAX_ATTEMPTS
    with services.sessions.begin() as session:
        if dead:
            outbox.settle(
                session, nudge_id=job.nudge_id, owner=owner, status=NudgeStatus.DEAD, reason=failure.reason
            )
        else:
            outbox.retry_later(
                session,
                nudge_ids=[job.nudge_id],
                owner=owner,
                at=services.clock() + backoff(job.attempts),
                reason=failure.reason,
            )
    if not dead:
        report.retried += 1
        return
    report.dead += 1
    if failure.reason in NOT_IN_CHANNEL and job.address.platform == SLACK:
        logger.warning(
            "the managers' digest can't be posted to %s (%s): invite Nudgebot to that channel "
            "(/invite @Nudgebot in the channel) or set DIGEST_CHANNEL to a channel it is in",
            job.channel,
            failure.reason,
        )
    elif failure.reason in NOT_IN_CHANNEL:
        logger.warning(
            "the managers' digest can't be posted to %s (%s): add Nudgebot to the managers' team and "
            "type @Nudgebot digest here in the channel again",
            job.channel,
            failure.reason,
        )
    else:
        logger.warning("the managers' digest can't be delivered to %s: %s", job.channel, failure.reason)
