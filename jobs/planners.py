"""The planners: one per kind of nudge, each writing the nudges due now into the outbox, once.

A technician's nudges are planned only while they are at work (their working hours, in their zone):
what came due at night or at a weekend is planned, and so delivered, at the next working hour, and
after downtime only the latest occurrence is sent, not every one that was missed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from bot import feedback, notices, nudges
from bot.due import Due
from bot.hours import WorkingHours
from storage.models import (
    Appointment,
    AppointmentStatus,
    Client,
    Notice,
    Nudge,
    NudgeStatus,
    Promise,
    Risk,
    Technician,
    Visit,
    Workspace,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")
Rule = Callable[[Any, WorkingHours, datetime], Due | None]
# A day's margin on each side, so a day boundary in any zone is never missed by a SQL filter.
_DAY = timedelta(days=1)


class _Hours:
    """Working hours (and the kinds of nudge turned off) by technician id, built once per planning pass."""

    def __init__(self, session: Session, default_tz: ZoneInfo) -> None:
        self.session = session
        self.default_tz = default_tz
        self.known: dict[int, WorkingHours] = {}
        self.muted: dict[int, frozenset[str]] = {}

    def _remember(self, technician: Technician) -> WorkingHours:
        hours = nudges.working_hours(technician, self.default_tz)
        self.known[technician.id] = hours
        self.muted[technician.id] = nudges.muted_kinds(technician)
        return hours

    def load(self, technician_ids: set[int]) -> None:
        """Fetch the hours of every technician not yet known, in one query rather than one each."""
        missing = technician_ids - self.known.keys()
        if missing:
            for technician in self.session.scalars(select(Technician).where(Technician.id.in_(missing))):
                self._remember(technician)

    def of(self, technician_id: int) -> WorkingHours:
        hours = self.known.get(technician_id)
        if hours is None:
            technician = self.session.get(Technician, technician_id)
            assert technician is not None
            hours = self._remember(technician)
        return hours

    def wants(self, technician_id: int, kind: str) -> bool:
        """False when the technician turned this kind of nudge off on App Home."""
        self.of(technician_id)
        return kind not in self.muted[technician_id]


def _rows(
    items: Iterable[T],
    recipient: Callable[[T], int | None],
    rule: Rule,
    hours: _Hours,
    now: datetime,
) -> list[dict[str, Any]]:
    items = list(items)
    hours.load({technician_id for item in items if (technician_id := recipient(item)) is not None})
    rows = []
    for item in items:
        technician_id = recipient(item)
        if technician_id is None:
            continue
        working = hours.of(technician_id)
        if not working.is_working(now):
            continue
        due = rule(item, working, now)
        if due is None or not hours.wants(technician_id, due.kind):
            continue
        rows.append(
            {
                "workspace_id": item.workspace_id,  # type: ignore[attr-defined]
                "technician_id": technician_id,
                "subject": due.subject,
                "kind": due.kind,
                "period": due.period,
                "status": NudgeStatus.PENDING,
                "due_at": due.slot,
                "next_attempt_at": now,
                "attempts": 0,
                "created_at": now,
            }
        )
    return rows


def _all(session: Session, query: Select[tuple[T]]) -> Sequence[T]:
    return session.scalars(query).unique().all()


def plan_followups(session: Session, hours: _Hours, now: datetime) -> list[dict[str, Any]]:
    """Visits whose summary e-mail is not marked sent, at least four working hours old."""
    query = (
        select(Visit)
        .options(joinedload(Visit.client))
        .where(Visit.followup_sent_at.is_(None), Visit.visited_at <= now - nudges.FIRST_FOLLOWUP_AFTER)
    )
    return _rows(_all(session, query), lambda v: v.technician_id, nudges.followup_due, hours, now)


def plan_calls(session: Session, hours: _Hours, now: datetime) -> list[dict[str, Any]]:
    """Cancelled appointments whose client has not been phoned."""
    query = select(Appointment).where(
        Appointment.status == AppointmentStatus.CANCELLED, Appointment.call_logged_at.is_(None)
    )
    return _rows(_all(session, query), lambda a: a.technician_id, nudges.call_due, hours, now)


def plan_promises(session: Session, hours: _Hours, now: datetime) -> list[dict[str, Any]]:
    """Open promises due within the next few days, or overdue."""
    # The working day before can be up to a week earlier (someone who works one or two days a week),
    # plus a day's margin for the zone.
    query = select(Promise).where(Promise.done_at.is_(None), Promise.due_at <= now + 8 * _DAY)
    return _rows(_all(session, query), lambda p: p.technician_id, nudges.promise_due, hours, now)


def _cadences(session: Session) -> list[int]:
    """The distinct check-in cadences, by a skip scan: one index probe per cadence, not a full scan."""
    found = select(func.min(Client.checkin_cadence_days).label("days")).cte("cadences", recursive=True)
    following = (
        select(Client.checkin_cadence_days)
        .where(Client.checkin_cadence_days > found.c.days)
        .order_by(Client.checkin_cadence_days)
        .limit(1)
        .scalar_subquery()
    )
    found = found.union_all(select(following).where(found.c.days.is_not(None)))
    return [days for days in session.scalars(select(found.c.days)) if days is not None]


def plan_checkins(session: Session, hours: _Hours, now: datetime) -> list[dict[str, Any]]:
    """Clients whose check-in cadence has run out since their last touch."""
    rows: list[dict[str, Any]] = []
    for cadence in _cadences(session):
        # One query per cadence keeps the filter plain SQL on both databases; the last touch and the
        # creation date are compared apart (not through coalesce) so that each can use its index.
        cutoff = now - timedelta(days=cadence)
        query = select(Client).where(
            Client.checkin_cadence_days == cadence,
            Client.owner_id.is_not(None),
            Client.archived_at.is_(None),
            or_(
                and_(Client.last_touch_at.is_not(None), Client.last_touch_at <= cutoff),
                and_(Client.last_touch_at.is_(None), Client.created_at <= cutoff),
            ),
            or_(Client.checkin_snoozed_until.is_(None), Client.checkin_snoozed_until <= now),
        )
        rows += _rows(_all(session, query), lambda c: c.owner_id, nudges.checkin_due, hours, now)
    return rows


def plan_appointments(session: Session, hours: _Hours, now: datetime) -> list[dict[str, Any]]:
    """Planned appointments starting within the day."""
    query = select(Appointment).where(
        Appointment.status == AppointmentStatus.PLANNED,
        Appointment.window_start > now,
        Appointment.window_start < now + _DAY,
    )
    return _rows(_all(session, query), lambda a: a.technician_id, nudges.appointment_due, hours, now)


def plan_notices(session: Session, hours: _Hours, now: datetime) -> list[dict[str, Any]]:
    """Change notices not acknowledged, whose window begins within the week."""
    # The working day before the window can be up to a week earlier, plus a day's margin for the zone.
    query = (
        select(Notice)
        .options(joinedload(Notice.client))
        .where(
            Notice.acknowledged_at.is_(None), Notice.window_start > now, Notice.window_start <= now + 8 * _DAY
        )
    )
    return _rows(_all(session, query), lambda n: n.technician_id, notices.notice_due, hours, now)


def plan_risks(session: Session, hours: _Hours, now: datetime) -> list[dict[str, Any]]:
    """Unhappy clients with no repair logged: their owner, and the technician the unhappy word is about."""
    query = (
        select(Risk)
        .options(joinedload(Risk.client))
        .where(Risk.closed_at.is_(None), Risk.repaired_at.is_(None))
    )
    risks = _all(session, query)
    rows = _rows(risks, lambda r: r.client.owner_id, feedback.risk_due, hours, now)
    rows += _rows(
        risks,
        lambda r: r.technician_id if r.technician_id != r.client.owner_id else None,
        nudges.risk_technician_due,
        hours,
        now,
    )
    return rows


def plan_asks(session: Session, hours: _Hours, now: datetime) -> list[dict[str, Any]]:
    """Clients who haven't told us how we are doing in their workspace's interval: their owner asks."""
    rows: list[dict[str, Any]] = []
    for days in session.scalars(select(Workspace.feedback_every_days).distinct()):
        cutoff = now - timedelta(days=days)
        query = (
            select(Client)
            .join(Workspace, Workspace.id == Client.workspace_id)
            .where(
                Workspace.feedback_every_days == days,
                Client.owner_id.is_not(None),
                Client.archived_at.is_(None),
                Client.created_at <= cutoff,
                or_(Client.last_feedback_at.is_(None), Client.last_feedback_at <= cutoff),
                or_(Client.feedback_asked_at.is_(None), Client.feedback_asked_at <= cutoff),
            )
        )
        rows += _rows(_all(session, query), lambda c: c.owner_id, feedback.ask_due, hours, now)
    return rows


PLANNERS = (
    plan_followups,
    plan_calls,
    plan_promises,
    plan_checkins,
    plan_appointments,
    plan_notices,
    plan_risks,
    plan_asks,
)


def insert_nudges(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert-or-ignore on (workspace, subject, kind, period): planning twice inserts nothing new."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = dialect_insert(Nudge).on_conflict_do_nothing(
        index_elements=["workspace_id", "subject", "kind", "period"]
    )
    session.connection().execute(statement, rows)


def plan(session: Session, *, now: datetime, default_tz: ZoneInfo) -> int:
    """Run every planner at `now`; returns how many nudges were due (new or already planned)."""
    hours = _Hours(session, default_tz)
    rows = [row for planner in PLANNERS for row in planner(session, hours, now)]
    insert_nudges(session, rows)
    return len(rows)
