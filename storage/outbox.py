"""The nudge outbox: claiming due rows on a lease, and settling them (sent, dead, retry, skipped)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import Nudge, NudgeStatus, RateGate


def claim(session: Session, *, owner: str, now: datetime, lease: timedelta, limit: int) -> list[int]:
    """Take up to `limit` due nudges on a lease: pending ones due now, and ones whose lease ran out.

    On PostgreSQL, FOR UPDATE SKIP LOCKED lets several senders claim side by side without waiting on
    each other; on SQLite the engine's BEGIN IMMEDIATE serialises claims instead.
    """
    gated = select(RateGate.workspace_id).where(RateGate.blocked_until > now)
    due = (
        select(Nudge.id)
        .where(
            ((Nudge.status == NudgeStatus.PENDING) & (Nudge.next_attempt_at <= now))
            | ((Nudge.status == NudgeStatus.SENDING) & (Nudge.lease_until < now)),
            Nudge.workspace_id.not_in(gated),
        )
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
            lease_until=now + lease,
            attempts=Nudge.attempts + 1,
        )
        .returning(Nudge.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(result.scalars().all())


def _held(nudge_id: int, owner: str) -> ColumnElement[bool]:
    return and_(Nudge.id == nudge_id, Nudge.lease_owner == owner, Nudge.status == NudgeStatus.SENDING)


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


def retry_later(session: Session, *, nudge_ids: list[int], owner: str, at: datetime, reason: str) -> None:
    """Put held nudges back in the queue, to be tried again from `at`."""
    if not nudge_ids:
        return
    session.execute(
        update(Nudge)
        .where(Nudge.id.in_(nudge_ids), Nudge.lease_owner == owner, Nudge.status == NudgeStatus.SENDING)
        .values(status=NudgeStatus.PENDING, next_attempt_at=at, last_error=reason, lease_until=None)
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
