"""The nudge outbox: claiming due rows on a lease, and settling them (sent, dead, retry, skipped).

A workspace Slack has told to wait (HTTP 429) is gated in `rate_gates` until its Retry-After has run
out; then exactly one sender takes a single nudge of it as a probe and holds the gate until Slack has
answered that one, so a workspace under a rate limit gets one request per Retry-After window, however
many senders there are.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import Nudge, NudgeStatus, RateGate


@dataclass(frozen=True)
class Claim:
    """What one claim took: nudge ids, and the gated workspaces this sender now probes (one nudge each)."""

    ids: list[int]
    probes: frozenset[int]
    # When this claim's leases (and its hold on the probed workspaces' gates) run out.
    until: datetime


def _due(now: datetime, real_now: datetime) -> ColumnElement[bool]:
    # What is due follows the as-of instant; whether a lease has run out, the wall clock.
    return ((Nudge.status == NudgeStatus.PENDING) & (Nudge.next_attempt_at <= now)) | (
        (Nudge.status == NudgeStatus.SENDING) & (Nudge.lease_until < real_now)
    )


def _of_kind(kinds: Collection[str] | None, skip_kinds: Collection[str]) -> ColumnElement[bool]:
    """Which kinds a claim may take: only `kinds` when given, never `skip_kinds`."""
    condition: ColumnElement[bool] = true()
    if kinds is not None:
        condition = and_(condition, Nudge.kind.in_(list(kinds)))
    if skip_kinds:
        condition = and_(condition, Nudge.kind.not_in(list(skip_kinds)))
    return condition


def _take(
    session: Session,
    *,
    owner: str,
    now: datetime,
    real_now: datetime,
    until: datetime,
    limit: int,
    among: ColumnElement[bool],
    kinds: ColumnElement[bool],
) -> list[int]:
    due = (
        select(Nudge.id)
        .where(_due(now, real_now), among, kinds)
        .order_by(Nudge.next_attempt_at, Nudge.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    result = session.execute(
        update(Nudge)
        .where(Nudge.id.in_(due.scalar_subquery()))
        .values(
            status=NudgeStatus.SENDING,
            lease_owner=owner,
            lease_until=until,
            attempts=Nudge.attempts + 1,
        )
        .returning(Nudge.id)
        .execution_options(synchronize_session=False)
    )
    return list(result.scalars())


def claim_batch(
    session: Session,
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    skip_kinds: Collection[str] = (),
    real_now: datetime | None = None,
) -> Claim:
    """Take up to `limit` due nudges on a lease: pending ones due `now`, and ones whose lease ran out.

    Leases and gates run on `real_now` (the wall clock; `now` when not given), whatever instant `now` is.

    Kinds in `skip_kinds` are left to their own sender (the digest, posted in parts). Gated workspaces
    are left alone; one whose gate has run out yields a single nudge, the probe, and
    its gate is held until the lease ends so that no other sender writes to it meanwhile. On PostgreSQL,
    FOR UPDATE SKIP LOCKED lets several senders claim side by side without waiting on each other; on
    SQLite the engine's BEGIN IMMEDIATE serialises claims instead.
    """
    real_now = real_now or now
    until = real_now + lease
    kinds = _of_kind(None, skip_kinds)
    expired = (
        select(RateGate.workspace_id)
        .where(RateGate.blocked_until <= real_now)
        .order_by(RateGate.workspace_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    reopening = session.scalars(
        update(RateGate)
        .where(RateGate.workspace_id.in_(expired.scalar_subquery()))
        .values(blocked_until=until)
        .returning(RateGate.workspace_id)
        .execution_options(synchronize_session=False)
    ).all()
    ids: list[int] = []
    probes: set[int] = set()
    for workspace_id in sorted(reopening):
        probe = _take(
            session,
            owner=owner,
            now=now,
            real_now=real_now,
            until=until,
            limit=1,
            among=Nudge.workspace_id == workspace_id,
            kinds=kinds,
        )
        if probe:
            ids += probe
            probes.add(workspace_id)
        else:
            # Nothing waits for that workspace: no probe is needed, the gate can go.
            session.execute(delete(RateGate).where(RateGate.workspace_id == workspace_id))
    if len(ids) < limit:
        # Every gated workspace is left out, also one whose gate has run out: it waits for its probe.
        # (Excluding only live gates would let a claim that skipped a gate row locked by a concurrent
        # prober see that workspace as open.)
        gated = select(RateGate.workspace_id)
        ids += _take(
            session,
            owner=owner,
            now=now,
            real_now=real_now,
            until=until,
            limit=limit - len(ids),
            among=Nudge.workspace_id.not_in(gated),
            kinds=kinds,
        )
    return Claim(ids=sorted(ids), probes=frozenset(probes), until=until)


def claim(session: Session, *, owner: str, now: datetime, lease: timedelta, limit: int) -> list[int]:
    """Take up to `limit` due nudges on a lease (see `claim_batch`, which also says which are probes)."""
    return claim_batch(session, owner=owner, now=now, lease=lease, limit=limit).ids


def claim_kind(
    session: Session,
    *,
    kind: str,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    real_now: datetime | None = None,
) -> list[int]:
    """Take up to `limit` due nudges of one kind on a lease, leaving every gated workspace alone.

    Such a claim never probes a gate: the general sender's probe reopens the workspace (or drops a gate
    nothing else waits on), so one sender alone decides when a rate-limited workspace is written to.
    """
    real_now = real_now or now
    return _take(
        session,
        owner=owner,
        now=now,
        real_now=real_now,
        until=real_now + lease,
        limit=limit,
        among=Nudge.workspace_id.not_in(select(RateGate.workspace_id)),
        kinds=_of_kind([kind], ()),
    )


def record_part(
    session: Session,
    *,
    nudge_id: int,
    owner: str,
    parts_sent: int,
    channel: str | None = None,
    ts: str | None = None,
) -> bool:
    """Record how many parts of a nudge went out (and where the first landed), only under the lease."""
    values: dict[str, object] = {"parts_sent": parts_sent}
    if channel is not None and ts is not None:
        values.update(channel=channel, message_ts=ts)
    result = session.execute(
        update(Nudge)
        .where(_held(nudge_id, owner))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _held(nudge_id: int, owner: str) -> ColumnElement[bool]:
    return and_(Nudge.id == nudge_id, Nudge.lease_owner == owner, Nudge.status == NudgeStatus.SENDING)


def renew(session: Session, *, nudge_id: int, owner: str, until: datetime) -> bool:
    """Extend a held lease to `until` just before sending; False means another sender took the nudge over."""
    result = session.execute(
        update(Nudge)
        .where(_held(nudge_id, owner))
        .values(lease_until=until)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_sent(session: Session, *, nudge_id: int, owner: str, at: datetime, channel: str, ts: str) -> bool:
    """Record delivery, only while still holding the lease; False means another sender took it over."""
    result = session.execute(
        update(Nudge)
        .where(_held(nudge_id, owner))
        .values(status=NudgeStatus.SENT, sent_at=at, channel=channel, message_ts=ts, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def settle(
    session: Session, *, nudge_id: int, owner: str, status: NudgeStatus, reason: str | None = None
) -> None:
    """Close a held nudge as dead (with why) or skipped (no longer needed)."""
    session.execute(
        update(Nudge)
        .where(_held(nudge_id, owner))
        .values(status=status, last_error=reason, lease_until=None)
        .execution_options(synchronize_session=False)
    )


def retry_later(
    session: Session,
    *,
    nudge_ids: list[int],
    owner: str,
    at: datetime,
    reason: str,
    attempted: bool = True,
) -> None:
    """Put held nudges back in the queue, to be tried again from `at`.

    `attempted=False` gives back the attempt the claim counted: the nudge was not tried (a rate limit,
    out of hours), so waiting never brings it nearer to being given up as undeliverable.
    """
    if not nudge_ids:
        return
    attempts = Nudge.attempts if attempted else Nudge.attempts - 1
    session.execute(
        update(Nudge)
        .where(Nudge.id.in_(nudge_ids), Nudge.lease_owner == owner, Nudge.status == NudgeStatus.SENDING)
        .values(
            status=NudgeStatus.PENDING,
            next_attempt_at=at,
            last_error=reason,
            lease_until=None,
            attempts=attempts,
        )
        .execution_options(synchronize_session=False)
    )


def block_workspace(session: Session, *, workspace_id: int, until: datetime) -> None:
    """Tell every sender to leave a workspace alone until `until` (the later of any two such orders)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(RateGate).values(workspace_id=workspace_id, blocked_until=until)
    statement = statement.on_conflict_do_update(
        index_elements=["workspace_id"],
        set_={"blocked_until": until},
        where=RateGate.blocked_until < until,
    )
    session.execute(statement)


def blocked_until(session: Session, *, workspace_id: int) -> datetime | None:
    """When the workspace's gate opens, or None when it has none."""
    return session.scalar(select(RateGate.blocked_until).where(RateGate.workspace_id == workspace_id))


def open_workspace(session: Session, *, workspace_id: int, held_until: datetime) -> None:
    """Slack answered the probe without pushing back: lift the gate, unless a sender raised it since."""
    session.execute(
        delete(RateGate).where(RateGate.workspace_id == workspace_id, RateGate.blocked_until <= held_until)
    )


def release_probe(session: Session, *, workspace_id: int, held_until: datetime, now: datetime) -> None:
    """The probe was not sent after all (done, out of hours): let the next claim take a probe at once."""
    session.execute(
        update(RateGate)
        .where(RateGate.workspace_id == workspace_id, RateGate.blocked_until <= held_until)
        .values(blocked_until=now)
        .execution_options(synchronize_session=False)
    )
