"""Queries and writes; each takes the caller's session and never commits."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal_column, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from storage.models import (
    Appointment,
    AppointmentStatus,
    Base,
    CallOutcome,
    Client,
    ProcessedRequest,
    Promise,
    Technician,
    Touch,
    TouchKind,
    Visit,
    Workspace,
)


def insert_ignore(session: Session, model: type[Base], values: dict[str, Any], keys: Sequence[str]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING on `keys`; True when a row was inserted."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # Values go in as parameters, not into the statement, so its compiled form is cached and reused.
    # rowcount is -1 here under psycopg 3, so ask for a row back instead: one comes only if inserted.
    statement: Executable = (
        insert(model).on_conflict_do_nothing(index_elements=list(keys)).returning(literal_column("1"))
    )
    return session.connection().execute(statement, values).first() is not None


def claim_request(session: Session, *, key: str, now: datetime) -> bool:
    """Record that a request is being handled; False when it was handled before (a replay)."""
    return insert_ignore(session, ProcessedRequest, {"key": key, "received_at": now}, ["key"])


def ensure_workspace(session: Session, *, team_id: str, now: datetime) -> Workspace:
    """The workspace row for a team id, created on first sight (safe under concurrent first requests)."""
    query = select(Workspace).where(Workspace.slack_team_id == team_id)
    workspace = session.scalars(query).one_or_none()
    if workspace is None:
        insert_ignore(session, Workspace, {"slack_team_id": team_id, "created_at": now}, ["slack_team_id"])
        workspace = session.scalars(query).one()
    return workspace


def ensure_technician(session: Session, *, workspace_id: int, user_id: str, now: datetime) -> Technician:
    """The technician row for a user id, created on first sight."""
    query = select(Technician).where(
        Technician.workspace_id == workspace_id, Technician.slack_user_id == user_id
    )
    technician = session.scalars(query).one_or_none()
    if technician is None:
        insert_ignore(
            session,
            Technician,
            {"workspace_id": workspace_id, "slack_user_id": user_id, "created_at": now},
            ["workspace_id", "slack_user_id"],
        )
        technician = session.scalars(query).one()
    return technician


def find_technician(session: Session, *, team_id: str, user_id: str) -> Technician | None:
    """The technician for a platform user, if they have used the bot."""
    return session.scalars(
        select(Technician)
        .join(Workspace, Workspace.id == Technician.workspace_id)
        .where(Workspace.slack_team_id == team_id, Technician.slack_user_id == user_id)
    ).one_or_none()


def clients_by_keys(session: Session, *, workspace_id: int, keys: Collection[str]) -> dict[str, Client]:
    """The clients whose match keys are among `keys`, by key."""
    if not keys:
        return {}
    rows = session.scalars(
        select(Client).where(Client.workspace_id == workspace_id, Client.match_key.in_(list(keys)))
    )
    return {client.match_key: client for client in rows}


def client_by_key(session: Session, *, workspace_id: int, key: str) -> Client | None:
    """The client with this match key."""
    return session.scalars(
        select(Client).where(Client.workspace_id == workspace_id, Client.match_key == key)
    ).one_or_none()


def client_names(session: Session, *, workspace_id: int) -> dict[str, str]:
    """Every client's match key and name, for "did you mean" suggestions."""
    rows = session.execute(select(Client.match_key, Client.name).where(Client.workspace_id == workspace_id))
    return {str(key): str(name) for key, name in rows.tuples()}


def add_client(
    session: Session, *, workspace_id: int, name: str, key: str, owner_id: int, now: datetime
) -> Client:
    """Create a client (or return the one a concurrent request just created under the same key)."""
    insert_ignore(
        session,
        Client,
        {
            "workspace_id": workspace_id,
            "name": name,
            "match_key": key,
            "owner_id": owner_id,
            "checkin_cadence_days": 30,
            "created_at": now,
        },
        ["workspace_id", "match_key"],
    )
    client = client_by_key(session, workspace_id=workspace_id, key=key)
    assert client is not None
    return client


def _touch(client: Client, technician_id: int, kind: TouchKind, at: datetime, **details: Any) -> Touch:
    """A new touch; it restarts the client's check-in clock."""
    if client.last_touch_at is None or client.last_touch_at < at:
        client.last_touch_at = at
    return Touch(
        workspace_id=client.workspace_id,
        client_id=client.id,
        technician_id=technician_id,
        kind=kind,
        touched_at=at,
        **details,
    )


def add_touch(
    session: Session,
    *,
    client: Client,
    technician_id: int,
    kind: TouchKind,
    at: datetime,
    outcome: CallOutcome | None = None,
    note: str | None = None,
) -> Touch:
    """Record a touch (a call, an e-mail, a meeting)."""
    touch = _touch(client, technician_id, kind, at, outcome=outcome, note=note)
    session.add(touch)
    session.flush()
    return touch


def add_visit(
    session: Session,
    *,
    client: Client,
    technician_id: int,
    at: datetime,
    minutes: int,
    work_done: str,
    remaining: str | None,
) -> Visit:
    """Record a visit and its touch."""
    visit = Visit(
        workspace_id=client.workspace_id,
        client_id=client.id,
        technician_id=technician_id,
        visited_at=at,
        minutes=minutes,
        work_done=work_done,
        remaining=remaining,
        created_at=at,
    )
    # One flush writes both rows; the touch gets the visit's id through the relationship.
    session.add_all([visit, _touch(client, technician_id, TouchKind.VISIT, at, visit=visit)])
    session.flush()
    return visit


def planned_on_day(
    session: Session, *, client_id: int, technician_id: int, day_start: datetime, day_end: datetime
) -> Appointment | None:
    """The technician's planned appointment with the client that starts within a day, if any."""
    return session.scalars(
        select(Appointment)
        .where(
            Appointment.client_id == client_id,
            Appointment.technician_id == technician_id,
            Appointment.status == AppointmentStatus.PLANNED,
            Appointment.window_start >= day_start,
            Appointment.window_start < day_end,
        )
        .order_by(Appointment.window_start)
        .limit(1)
    ).first()


def next_planned(
    session: Session, *, client_id: int, technician_id: int, now: datetime
) -> Appointment | None:
    """The technician's next planned appointment with the client that has not ended."""
    return session.scalars(
        select(Appointment)
        .where(
            Appointment.client_id == client_id,
            Appointment.technician_id == technician_id,
            Appointment.status == AppointmentStatus.PLANNED,
            Appointment.window_end > now,
        )
        .order_by(Appointment.window_start)
        .limit(1)
    ).first()


def open_call_tasks(
    session: Session, *, technician_id: int, client_id: int | None = None
) -> Sequence[Appointment]:
    """Cancelled appointments whose client has not been phoned yet."""
    query = select(Appointment).where(
        Appointment.technician_id == technician_id,
        Appointment.status == AppointmentStatus.CANCELLED,
        Appointment.call_logged_at.is_(None),
    )
    if client_id is not None:
        query = query.where(Appointment.client_id == client_id)
    return session.scalars(query.order_by(Appointment.cancelled_at)).all()


def close_call_tasks(session: Session, *, technician_id: int, client_id: int, at: datetime) -> int:
    """Mark every open call task for the client as called; returns how many were open."""
    result = session.execute(
        update(Appointment)
        .where(
            Appointment.technician_id == technician_id,
            Appointment.client_id == client_id,
            Appointment.status == AppointmentStatus.CANCELLED,
            Appointment.call_logged_at.is_(None),
        )
        .values(call_logged_at=at)
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def unsent_followups(
    session: Session, *, technician_id: int, client_id: int | None = None
) -> Sequence[Visit]:
    """The technician's visits whose summary e-mail is not marked sent, oldest first."""
    query = select(Visit).where(Visit.technician_id == technician_id, Visit.followup_sent_at.is_(None))
    if client_id is not None:
        query = query.where(Visit.client_id == client_id)
    return session.scalars(query.order_by(Visit.visited_at)).all()


def upcoming_appointments(
    session: Session, *, technician_id: int, now: datetime, client_id: int | None = None
) -> Sequence[Appointment]:
    """The technician's planned appointments that have not ended, soonest first."""
    query = select(Appointment).where(
        Appointment.technician_id == technician_id,
        Appointment.status == AppointmentStatus.PLANNED,
        Appointment.window_end > now,
    )
    if client_id is not None:
        query = query.where(Appointment.client_id == client_id)
    return session.scalars(query.order_by(Appointment.window_start)).all()


def open_promises(session: Session, *, technician_id: int, client_id: int | None = None) -> Sequence[Promise]:
    """The technician's promises not yet kept, soonest due first."""
    query = select(Promise).where(Promise.technician_id == technician_id, Promise.done_at.is_(None))
    if client_id is not None:
        query = query.where(Promise.client_id == client_id)
    return session.scalars(query.order_by(Promise.due_at, Promise.id)).all()


def count_rows(session: Session, model: type[Base]) -> int:
    """How many rows a table holds (for tests and status)."""
    return int(session.scalar(select(func.count()).select_from(model)) or 0)
