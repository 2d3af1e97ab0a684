"""The planners: one per kind of nudge, each writing the nudges due now into the outbox, once.

A technician's nudges are planned only while they are at work (their working hours, in their zone):
what came due at night or at a weekend is planned, and so delivered, at the next working hour, and
after downtime only the latest occurrence is sent, not every one that was missed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
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
    CLIENT_QUIET_SINCE,
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
# A rule takes its subject as an ORM object or as a row of the columns it reads (see `_subjects`).
Rule = Callable[[Any, WorkingHours, datetime], Due | None]
# A day's margin on each side, so a day boundary in any zone is never missed by a SQL filter.
_DAY = timedelta(days=1)

# What `nudges.working_hours` and `nudges.muted_kinds` read.
_TECHNICIAN_COLUMNS = (
    Technician.id,
    Technician.timezone_override,
    Technician.timezone,
    Technician.work_start_minute,
    Technician.work_end_minute,
    Technician.work_days,
    Technician.paused_until,
    Technician.muted_kinds,
)


class _Technicians:
    """Each technician's working hours and muted kinds, and whether they are at work now: read and
    worked out once per planning pass, for all of that technician's nudges together."""

    def __init__(self, session: Session, default_tz: ZoneInfo, now: datetime) -> None:
        self.session = session
        self.default_tz = default_tz
        self.now = now
        self.hours: dict[int, WorkingHours] = {}
        self.distinct: dict[WorkingHours, WorkingHours] = {}
        self.muted: dict[int, frozenset[str]] = {}
        self.at_work: set[int] = set()

    def load(self, technician_ids: set[int]) -> None:
        """Read every technician not yet known, in one query of plain columns."""
        missing = technician_ids - self.hours.keys()
        if not missing:
            return
        for technician in self.session.execute(
            select(*_TECHNICIAN_COLUMNS).where(Technician.id.in_(missing))
        ):
            # Technicians with the same hours share one `WorkingHours`, and so its days worked out.
            hours = nudges.working_hours(technician, self.default_tz)
            hours = self.distinct.setdefault(hours, hours)
            self.hours[technician.id] = hours
            self.muted[technician.id] = nudges.muted_kinds(technician)
            if hours.is_working(self.now):
                self.at_work.add(technician.id)


def _rows(
    items: Sequence[Any],
    recipient: Callable[[Any], int | None],
    rule: Rule,
    technicians: _Technicians,
    now: datetime,
) -> list[dict[str, Any]]:
    recipients = [recipient(item) for item in items]
    technicians.load({technician_id for technician_id in recipients if technician_id is not None})
    rows = []
    for item, technician_id in zip(items, recipients, strict=True):
        # Nothing is planned for someone off work, so their rules need not run.
        if technician_id not in technicians.at_work:
            continue
        due = rule(item, technicians.hours[technician_id], now)
        if due is None or due.kind in technicians.muted[technician_id]:
            continue
        rows.append(
            {
                "workspace_id": item.workspace_id,
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


def _subjects(session: Session, query: Select[Any]) -> Sequence[Any]:
    """Rows of plain columns, for the kinds that can be due by the thousand: their rules read only
    their subject's own columns, and loading each subject as an ORM object would cost more than its
    rule."""
    return session.execute(query).all()


def plan_followups(session: Session, technicians: _Technicians, now: datetime) -> list[dict[str, Any]]:
    """Visits whose summary e-mail is not marked sent, at least four working hours old."""
    query = select(
        Visit.id,
        Visit.workspace_id,
        Visit.technician_id,
        Visit.visited_at,
        Visit.followup_sent_at,
        Visit.followup_snoozed_until,
    ).where(Visit.followup_sent_at.is_(None), Visit.visited_at <= now - nudges.FIRST_FOLLOWUP_AFTER)
    return _rows(_subjects(session, query), lambda v: v.technician_id, nudges.followup_due, technicians, now)


def plan_calls(session: Session, technicians: _Technicians, now: datetime) -> list[dict[str, Any]]:
    """Cancelled appointments whose client has not been phoned."""
    query = select(
        Appointment.id,
        Appointment.workspace_id,
        Appointment.technician_id,
        Appointment.status,
        Appointment.cancelled_at,
        Appointment.call_logged_at,
    ).where(Appointment.status == AppointmentStatus.CANCELLED, Appointment.call_logged_at.is_(None))
    return _rows(_subjects(session, query), lambda a: a.technician_id, nudges.call_due, technicians, now)


def plan_promises(session: Session, technicians: _Technicians, now: datetime) -> list[dict[str, Any]]:
    """Open promises due within the next few days, or overdue."""
    # The working day before can be up to a week earlier (someone who works one or two days a week),
    # plus a day's margin for the zone.
    query = select(
        Promise.id, Promise.workspace_id, Promise.technician_id, Promise.due_at, Promise.done_at
    ).where(Promise.done_at.is_(None), Promise.due_at <= now + 8 * _DAY)
    return _rows(_subjects(session, query), lambda p: p.technician_id, nudges.promise_due, technicians, now)


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


def plan_checkins(session: Session, technicians: _Technicians, now: datetime) -> list[dict[str, Any]]:
    """Clients whose check-in cadence has run out since their last touch."""
    rows: list[dict[str, Any]] = []
    for cadence in _cadences(session):
        # One query per cadence keeps the filter plain SQL on both databases; the last touch and the
        # creation date are compared apart (not through coalesce) so that each can use its index.
        cutoff = now - timedelta(days=cadence)
        query = select(
            Client.id,
            Client.workspace_id,
            Client.owner_id,
            Client.checkin_cadence_days,
            Client.checkin_snoozed_until,
            Client.last_touch_at,
            Client.created_at,
            Client.archived_at,
        ).where(
            Client.checkin_cadence_days == cadence,
            Client.owner_id.is_not(None),
            Client.archived_at.is_(None),
            or_(
                and_(Client.last_touch_at.is_not(None), Client.last_touch_at <= cutoff),
                and_(Client.last_touch_at.is_(None), Client.created_at <= cutoff),
            ),
            or_(Client.checkin_snoozed_until.is_(None), Client.checkin_snoozed_until <= now),
        )
        rows += _rows(_subjects(session, query), lambda c: c.owner_id, nudges.checkin_due, technicians, now)
    return rows


def plan_appointments(session: Session, technicians: _Technicians, now: datetime) -> list[dict[str, Any]]:
    """Planned appointments starting within the day."""
    query = select(
        Appointment.id,
        Appointment.workspace_id,
        Appointment.technician_id,
        Appointment.status,
        Appointment.window_start,
    ).where(
        Appointment.status == AppointmentStatus.PLANNED,
        Appointment.window_start > now,
        Appointment.window_start < now + _DAY,
    )
    subjects = _subjects(session, query)
    return _rows(subjects, lambda a: a.technician_id, nudges.appointment_due, technicians, now)


def plan_notices(session: Session, technicians: _Technicians, now: datetime) -> list[dict[str, Any]]:
    """Change notices not acknowledged, whose window begins within the week."""
    # The working day before the window can be up to a week earlier, plus a day's margin for the zone.
    query = (
        select(Notice)
        .options(joinedload(Notice.client))
        .where(
            Notice.acknowledged_at.is_(None), Notice.window_start > now, Notice.window_start <= now + 8 * _DAY
        )
    )
    return _rows(_all(session, query), lambda n: n.technician_id, notices.notice_due, technicians, now)


def plan_risks(session: Session, technicians: _Technicians, now: datetime) -> list[dict[str, Any]]:
    """Unhappy clients with no repair logged: their owner, and the technician the unhappy word is about."""
    query = (
        select(Risk)
        .options(joinedload(Risk.client))
        .where(Risk.closed_at.is_(None), Risk.repaired_at.is_(None))
    )
    risks = _all(session, query)
    rows = _rows(risks, lambda r: r.client.owner_id, feedback.risk_due, technicians, now)
    rows += _rows(
        risks,
        lambda r: r.technician_id if r.technician_id != r.client.owner_id else None,
        nudges.risk_technician_due,
        technicians,
        now,
    )
    return rows


def quiet_clients(days: int, now: datetime) -> Select[tuple[Client]]:
    """The owned, open clients of the workspaces asking every `days` days, quiet for at least that long.

    `feedback.ask_due` then decides: a first asking waits a spread of days more. The filter is the
    expression `ix_clients_quiet_since` indexes, so this reads the quiet clients, not every client.
    """
    return (
        select(Client)
        .join(Workspace, Workspace.id == Client.workspace_id)
        .where(
            Workspace.feedback_every_days == days,
            Client.owner_id.is_not(None),
            Client.archived_at.is_(None),
            CLIENT_QUIET_SINCE <= now - timedelta(days=days),
        )
    )


def plan_asks(session: Session, technicians: _Technicians, now: datetime) -> list[dict[str, Any]]:
    """Clients who haven't told us how we are doing in their workspace's interval: their owner asks."""
    rows: list[dict[str, Any]] = []
    for days in session.scalars(select(Workspace.feedback_every_days).distinct()):
        quiet = _all(session, quiet_clients(days, now))
        rows += _rows(quiet, lambda c: c.owner_id, feedback.ask_due, technicians, now)
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
    technicians = _Technicians(session, default_tz, now)
    rows = [row for planner in PLANNERS for row in planner(session, technicians, now)]
    insert_nudges(session, rows)
    return len(rows)
