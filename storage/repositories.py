"""Queries and writes; each takes the caller's session and never commits."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import (
    Insert,
    Row,
    Select,
    Table,
    TextClause,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session, joinedload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from storage.models import (
    Appointment,
    AppointmentStatus,
    Base,
    CallOutcome,
    Client,
    Conversation,
    Nudge,
    NudgeStatus,
    ProcessedRequest,
    Promise,
    Technician,
    Touch,
    TouchKind,
    Visit,
    Workspace,
)

T = TypeVar("T")
M = TypeVar("M", bound=Base)

_TOUCHES, _CLIENTS = (cast(Table, model.__table__) for model in (Touch, Client))

# The statements every command runs, built once with named parameters: building a statement and working
# out its cache key on every request cost more than executing it (issue 12's profile).
_TECHNICIAN = select(Technician).where(
    Technician.workspace_id == bindparam("workspace_id"), Technician.user_id == bindparam("user_id")
)
_CLIENTS_BY_KEYS = select(Client).where(
    Client.workspace_id == bindparam("workspace_id"),
    Client.match_key.in_(bindparam("keys", expanding=True)),
)
_INSERT_TOUCH = insert(_TOUCHES)
_CLIENT_TOUCHED = (
    update(_CLIENTS).where(_CLIENTS.c.id == bindparam("client")).values(last_touch_at=bindparam("at"))
)


@dataclass(frozen=True)
class Page(Generic[T]):
    """The first rows of a list, and how many rows it holds in all."""

    items: Sequence[T]
    total: int


def _page(
    session: Session, query: Select[tuple[T]], order: Sequence[Any], limit: int | None, *load: Any
) -> Page[T]:
    # A count and a short read instead of every row: a technician may have hundreds of items open.
    # `load` names the related rows every item is shown with, read in the same query, not one by one.
    listed = query.options(*(joinedload(relationship) for relationship in load)).order_by(*order)
    if limit is None:
        items = session.scalars(listed).all()
        return Page(items, len(items))
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    return Page(session.scalars(listed.limit(limit)).all() if total else [], total)


def add_row(session: Session, model: type[M], values: dict[str, Any]) -> M:
    """Insert one row with a Core statement and hand it back as a persistent object, as if flushed.

    For the busiest writes, where the ORM's unit of work costs more than the write. `values` names every
    column but the id, so nothing of the object is left to load.
    """
    table = cast(Table, model.__table__)
    missing = {column.key for column in table.columns if not column.primary_key} - set(values)
    assert not missing, f"add_row({model.__name__}) needs {sorted(missing)}"
    row_id = session.connection().execute(_insert_returning_id(table), values).scalar_one()
    row = model(id=row_id, **values)
    make_transient_to_detached(row)
    session.add(row)
    return row


@cache
def _insert_returning_id(table: Table) -> Insert:
    return insert(table).returning(table.c.id)


def insert_ignore(session: Session, model: type[Base], values: dict[str, Any], keys: Sequence[str]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING on `keys`; True when a row was inserted."""
    statement = _insert_ignoring(model.__table__, tuple(values), tuple(keys))
    return session.connection().execute(statement, values).first() is not None


@cache
def _insert_ignoring(table: Table, columns: tuple[str, ...], keys: tuple[str, ...]) -> TextClause:
    """The statement, in the syntax SQLite (3.35 and later) and PostgreSQL share.

    It is text, typed column by column, because SQLAlchemy never caches its dialects' own on-conflict
    inserts: built with them, the statement was compiled afresh for every request's replay key. A row
    comes back only if one was inserted (rowcount is -1 under psycopg 3).
    """
    return _typed(table, columns, f"{_inserting(table, columns, keys)} DO NOTHING RETURNING 1")


@cache
def _upserting(
    table: Table, columns: tuple[str, ...], keys: tuple[str, ...], compared: tuple[str, ...], dialect: str
) -> TextClause:
    """INSERT … ON CONFLICT DO UPDATE of every other column, written only when one of `compared` differs.

    Text for the reason `_insert_ignoring` is; "differs", counting NULL as a value, is spelt per
    dialect (SQLite's `IS NOT` is PostgreSQL's `IS DISTINCT FROM`).
    """
    differs = "IS DISTINCT FROM" if dialect == "postgresql" else "IS NOT"
    updated = ", ".join(f'"{name}" = excluded."{name}"' for name in columns if name not in keys)
    changed = " OR ".join(f'"{table.name}"."{name}" {differs} excluded."{name}"' for name in compared)
    return _typed(
        table, columns, f"{_inserting(table, columns, keys)} DO UPDATE SET {updated} WHERE {changed}"
    )


def _inserting(table: Table, columns: tuple[str, ...], keys: tuple[str, ...]) -> str:
    names = ", ".join(f'"{name}"' for name in columns)
    placeholders = ", ".join(f":{name}" for name in columns)
    conflict = ", ".join(f'"{name}"' for name in keys)
    return f'INSERT INTO "{table.name}" ({names}) VALUES ({placeholders}) ON CONFLICT ({conflict})'


def _typed(table: Table, columns: tuple[str, ...], sql: str) -> TextClause:
    return text(sql).bindparams(*(bindparam(name, type_=table.c[name].type) for name in columns))


def claim_request(session: Session, *, key: str, now: datetime) -> bool:
    """Record that a request is being handled; False when it was handled before (a replay)."""
    return insert_ignore(session, ProcessedRequest, {"key": key, "received_at": now}, ["key"])


def ensure_workspace(session: Session, *, team_id: str, now: datetime, platform: str = "slack") -> Workspace:
    """The workspace row for a platform's team id, created on first sight (safe under concurrent first
    requests)."""
    query = select(Workspace).where(Workspace.platform == platform, Workspace.external_id == team_id)
    workspace = session.scalars(query).one_or_none()
    if workspace is None:
        values = {"platform": platform, "external_id": team_id, "created_at": now}
        insert_ignore(session, Workspace, values, ["platform", "external_id"])
        workspace = session.scalars(query).one()
    return workspace


def ensure_technician(session: Session, *, workspace_id: int, user_id: str, now: datetime) -> Technician:
    """The technician row for a user id, created on first sight."""
    who = {"workspace_id": workspace_id, "user_id": user_id}
    technician = session.scalars(_TECHNICIAN, who).one_or_none()
    if technician is None:
        insert_ignore(session, Technician, {**who, "created_at": now}, ["workspace_id", "user_id"])
        technician = session.scalars(_TECHNICIAN, who).one()
    return technician


def find_technician(
    session: Session, *, team_id: str, user_id: str, platform: str = "slack"
) -> Technician | None:
    """The technician for a platform user, if they have used the bot."""
    return session.scalars(
        select(Technician)
        .join(Workspace, Workspace.id == Technician.workspace_id)
        .where(
            Workspace.platform == platform, Workspace.external_id == team_id, Technician.user_id == user_id
        )
    ).one_or_none()


def clients_by_keys(session: Session, *, workspace_id: int, keys: Collection[str]) -> dict[str, Client]:
    """The clients whose match keys are among `keys`, by key."""
    if not keys:
        return {}
    rows = session.scalars(_CLIENTS_BY_KEYS, {"workspace_id": workspace_id, "keys": list(keys)})
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


def _restarts_clock(client: Client, at: datetime) -> bool:
    """Whether a touch at `at` restarts the client's check-in clock: not when a later one already has."""
    return client.last_touch_at is None or client.last_touch_at < at


def _touch(client: Client, technician_id: int, kind: TouchKind, at: datetime, **details: Any) -> Touch:
    """A new touch; it restarts the client's check-in clock."""
    if _restarts_clock(client, at):
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
    """Record a visit and its touch, and restart the client's check-in clock.

    The busiest write there is, so it is three Core statements rather than a unit-of-work flush, which
    cost more than the writes themselves.
    """
    values = {
        "workspace_id": client.workspace_id,
        "client_id": client.id,
        "technician_id": technician_id,
        "visited_at": at,
        "minutes": minutes,
        "work_done": work_done,
        "remaining": remaining,
        "followup_sent_at": None,
        "followup_snoozed_until": None,
        "created_at": at,
    }
    visit = add_row(session, Visit, values)
    connection = session.connection()
    connection.execute(
        _INSERT_TOUCH,
        {
            "workspace_id": client.workspace_id,
            "client_id": client.id,
            "technician_id": technician_id,
            "kind": TouchKind.VISIT,
            "outcome": None,
            "note": None,
            "visit_id": visit.id,
            "touched_at": at,
        },
    )
    if _restarts_clock(client, at):
        connection.execute(_CLIENT_TOUCHED, {"client": client.id, "at": at})
        set_committed_value(client, "last_touch_at", at)
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
    session: Session, *, technician_id: int, client_id: int | None = None, limit: int | None = None
) -> Page[Appointment]:
    """Cancelled appointments whose client has not been phoned yet, the first `limit` of them."""
    query = select(Appointment).where(
        Appointment.technician_id == technician_id,
        Appointment.status == AppointmentStatus.CANCELLED,
        Appointment.call_logged_at.is_(None),
    )
    if client_id is not None:
        query = query.where(Appointment.client_id == client_id)
    return _page(session, query, [Appointment.cancelled_at, Appointment.id], limit, Appointment.client)


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
    session: Session, *, technician_id: int, client_id: int | None = None, limit: int | None = None
) -> Page[Visit]:
    """The technician's visits whose summary e-mail is not marked sent, oldest first."""
    query = select(Visit).where(Visit.technician_id == technician_id, Visit.followup_sent_at.is_(None))
    if client_id is not None:
        query = query.where(Visit.client_id == client_id)
    return _page(session, query, [Visit.visited_at, Visit.id], limit, Visit.client, Visit.technician)


def upcoming_appointments(
    session: Session,
    *,
    technician_id: int,
    now: datetime,
    client_id: int | None = None,
    limit: int | None = None,
) -> Page[Appointment]:
    """The technician's planned appointments that have not ended, soonest first."""
    query = select(Appointment).where(
        Appointment.technician_id == technician_id,
        Appointment.status == AppointmentStatus.PLANNED,
        Appointment.window_end > now,
    )
    if client_id is not None:
        query = query.where(Appointment.client_id == client_id)
    return _page(session, query, [Appointment.window_start, Appointment.id], limit, Appointment.client)


def open_promises(
    session: Session, *, technician_id: int, client_id: int | None = None, limit: int | None = None
) -> Page[Promise]:
    """The technician's promises not yet kept, soonest due first."""
    query = select(Promise).where(Promise.technician_id == technician_id, Promise.done_at.is_(None))
    if client_id is not None:
        query = query.where(Promise.client_id == client_id)
    return _page(session, query, [Promise.due_at, Promise.id], limit, Promise.client)


def count_rows(session: Session, model: type[Base]) -> int:
    """How many rows a table holds (for tests and status)."""
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def latest_activity(session: Session) -> datetime | None:
    """The last moment anything was recorded (a touch, a promise, an appointment, a sent nudge)."""
    moments = [
        session.scalar(select(func.max(column)))
        for column in (Touch.touched_at, Promise.created_at, Appointment.created_at, Nudge.sent_at)
    ]
    present = [moment for moment in moments if moment is not None]
    return max(present) if present else None


def owned_clients_not_snoozed(session: Session, *, owner_id: int, now: datetime) -> Sequence[Client]:
    """The clients a technician owns, not archived, whose check-in reminders are not snoozed at `now`."""
    return session.scalars(
        select(Client)
        .where(
            Client.owner_id == owner_id,
            Client.archived_at.is_(None),
            or_(Client.checkin_snoozed_until.is_(None), Client.checkin_snoozed_until <= now),
        )
        .order_by(Client.id)
    ).all()


def workspace_technicians(session: Session, *, workspace_id: int) -> Sequence[Technician]:
    """Every technician of a workspace, by name (then user id, for those without one yet)."""
    return session.scalars(
        select(Technician)
        .where(Technician.workspace_id == workspace_id)
        .order_by(Technician.display_name, Technician.user_id)
    ).all()


def owned_clients(session: Session, *, workspace_id: int) -> Sequence[Client]:
    """Every client of a workspace that has an owner and is not archived (whose check-ins someone
    looks after)."""
    return session.scalars(
        select(Client).where(
            Client.workspace_id == workspace_id, Client.owner_id.is_not(None), Client.archived_at.is_(None)
        )
    ).all()


def _count_by(session: Session, column: Any, *where: Any) -> dict[int, int]:
    rows = session.execute(select(column, func.count()).where(*where).group_by(column))
    return {int(key): int(count) for key, count in rows.tuples() if key is not None}


def unsent_followup_counts(session: Session, *, workspace_id: int, before: datetime) -> dict[int, int]:
    """Per technician id: follow-ups not marked sent for visits before `before`."""
    return _count_by(
        session,
        Visit.technician_id,
        Visit.workspace_id == workspace_id,
        Visit.followup_sent_at.is_(None),
        Visit.visited_at <= before,
    )


def open_call_counts(session: Session, *, workspace_id: int) -> dict[int, int]:
    """Per technician id: cancelled appointments whose client has not been phoned."""
    return _count_by(
        session,
        Appointment.technician_id,
        Appointment.workspace_id == workspace_id,
        Appointment.status == AppointmentStatus.CANCELLED,
        Appointment.call_logged_at.is_(None),
    )


def overdue_promise_counts(session: Session, *, workspace_id: int, now: datetime) -> dict[int, int]:
    """Per technician id: promises not kept whose due date has passed."""
    return _count_by(
        session,
        Promise.technician_id,
        Promise.workspace_id == workspace_id,
        Promise.done_at.is_(None),
        Promise.due_at < now,
    )


def visit_counts(session: Session, *, workspace_id: int, since: datetime) -> dict[int, int]:
    """Per technician id: visits logged since `since`."""
    return _count_by(
        session, Visit.technician_id, Visit.workspace_id == workspace_id, Visit.visited_at >= since
    )


# -- The managers' digest: what stood in a workspace at the end of a window of time -------------------


def all_workspaces(session: Session) -> Sequence[Workspace]:
    """Every workspace, oldest first."""
    return session.scalars(select(Workspace).order_by(Workspace.id)).all()


def technician_names(session: Session, *, workspace_id: int) -> dict[int, tuple[str, str | None]]:
    """Each technician's user id and display name, by technician id."""
    rows = session.execute(
        select(Technician.id, Technician.user_id, Technician.display_name).where(
            Technician.workspace_id == workspace_id
        )
    )
    return {number: (user, name) for number, user, name in rows.tuples()}


def uncalled_cancellations(
    session: Session, *, workspace_id: int, end: datetime
) -> Sequence[Row[tuple[int, str, str | None, datetime, datetime | None]]]:
    """Appointments cancelled before `end` whose time had passed by `end` with no call logged by then.

    As (technician id, client name, contact phone, window start, cancelled at), oldest first.
    """
    return session.execute(
        select(
            Appointment.technician_id,
            Client.name,
            Client.contact_phone,
            Appointment.window_start,
            Appointment.cancelled_at,
        )
        .join(Client, Client.id == Appointment.client_id)
        .where(
            Appointment.workspace_id == workspace_id,
            Appointment.status == AppointmentStatus.CANCELLED,
            Appointment.window_start < end,
            Appointment.cancelled_at < end,
            or_(Appointment.call_logged_at.is_(None), Appointment.call_logged_at >= end),
        )
        .order_by(Appointment.window_start, Appointment.id)
    ).all()


def count_touches(session: Session, *, workspace_id: int, start: datetime, end: datetime) -> int:
    """How many touches (visits, calls, e-mails, meetings) were logged from `start` to `end`."""
    query = select(func.count()).where(
        Touch.workspace_id == workspace_id, Touch.touched_at >= start, Touch.touched_at < end
    )
    return int(session.scalar(query) or 0)


def count_promises_made(session: Session, *, workspace_id: int, start: datetime, end: datetime) -> int:
    """How many promises were recorded from `start` to `end`."""
    query = select(func.count()).where(
        Promise.workspace_id == workspace_id, Promise.created_at >= start, Promise.created_at < end
    )
    return int(session.scalar(query) or 0)


def dead_nudges(
    session: Session, *, workspace_id: int, since: datetime | None, end: datetime, skip_kind: str
) -> Sequence[Row[tuple[int, str | None, int]]]:
    """Undeliverable technicians' nudges planned from `since` (or ever) to `end`, counted by technician and
    reason: (technician id, reason, count)."""
    query = (
        select(Nudge.technician_id, Nudge.last_error, func.count())
        .where(
            Nudge.workspace_id == workspace_id,
            Nudge.status == NudgeStatus.DEAD,
            Nudge.kind != skip_kind,
            Nudge.technician_id.is_not(None),
            Nudge.created_at < end,
        )
        .group_by(Nudge.technician_id, Nudge.last_error)
    )
    if since is not None:
        query = query.where(Nudge.created_at >= since)
    return session.execute(query).tuples().all()  # type: ignore[return-value]


def last_sent(session: Session, *, workspace_id: int, kind: str, before: datetime) -> datetime | None:
    """When the latest scheduled nudge of a kind sent for the workspace was due, before an instant."""
    return session.scalar(
        select(func.max(Nudge.due_at)).where(
            Nudge.workspace_id == workspace_id,
            Nudge.kind == kind,
            Nudge.status == NudgeStatus.SENT,
            Nudge.due_at < before,
            Nudge.period.not_like("asked:%"),
        )
    )


def works_with(session: Session, *, technician_id: int, client_id: int) -> bool:
    """True when the technician has a visit, appointment or promise with the client."""
    involved = or_(
        exists().where(Visit.client_id == client_id, Visit.technician_id == technician_id),
        exists().where(Appointment.client_id == client_id, Appointment.technician_id == technician_id),
        exists().where(Promise.client_id == client_id, Promise.technician_id == technician_id),
    )
    return bool(session.scalar(select(involved)))


def client_visits(session: Session, *, client_id: int, start: datetime, end: datetime) -> Sequence[Visit]:
    """Everyone's visits to a client in [start, end), in order."""
    return session.scalars(
        select(Visit)
        .where(Visit.client_id == client_id, Visit.visited_at >= start, Visit.visited_at < end)
        .order_by(Visit.visited_at, Visit.id)
    ).all()


def last_client_visit(session: Session, *, client_id: int, before: datetime) -> Visit | None:
    """The latest visit to a client before an instant."""
    return session.scalars(
        select(Visit)
        .where(Visit.client_id == client_id, Visit.visited_at < before)
        .order_by(Visit.visited_at.desc(), Visit.id.desc())
        .limit(1)
    ).first()


def client_promises_due_or_kept(
    session: Session, *, client_id: int, start: datetime, end: datetime
) -> Sequence[Promise]:
    """A client's promises due, or kept, in [start, end), soonest due first."""
    due = (Promise.due_at >= start) & (Promise.due_at < end)
    kept = (Promise.done_at >= start) & (Promise.done_at < end)
    return session.scalars(
        select(Promise).where(Promise.client_id == client_id, due | kept).order_by(Promise.due_at, Promise.id)
    ).all()


def client_open_promises(session: Session, *, client_id: int, made_before: datetime) -> Sequence[Promise]:
    """A client's promises not yet kept that were made before an instant, soonest due first."""
    return session.scalars(
        select(Promise)
        .where(Promise.client_id == client_id, Promise.done_at.is_(None), Promise.created_at < made_before)
        .order_by(Promise.due_at, Promise.id)
    ).all()


def first_owned_client_name(session: Session, *, owner_id: int) -> str | None:
    """The alphabetically first client a technician owns, for an example."""
    return session.scalars(
        select(Client.name).where(Client.owner_id == owner_id).order_by(Client.name).limit(1)
    ).first()


# -- Where the bot can write without being asked (Teams) ------------------------------------------------


def remember_conversation(
    session: Session,
    *,
    workspace_id: int,
    conversation_id: str,
    kind: str,
    service_url: str,
    technician_id: int | None,
    team_id: str | None,
    now: datetime,
) -> None:
    """Store a conversation, or refresh its service URL (which can change) and whose chat it is.

    Written only when something changed: most requests come from a conversation already stored.
    """
    values = {
        "workspace_id": workspace_id,
        "conversation_id": conversation_id,
        "kind": kind,
        "service_url": service_url,
        "technician_id": technician_id,
        "team_id": team_id,
        "updated_at": now,
    }
    # When it was written changes on every call: on its own, that is no change.
    kept = ("kind", "service_url", "technician_id", "team_id")
    dialect = session.get_bind().dialect.name
    statement = _upserting(
        Conversation.__table__, tuple(values), ("workspace_id", "conversation_id"), kept, dialect
    )
    session.connection().execute(statement, values)


def forget_conversations(
    session: Session, *, workspace_id: int, conversation_id: str | None = None, team_id: str | None = None
) -> int:
    """Forget a conversation, or every one of a team (the bot was uninstalled); a digest channel among
    them is unset too. Returns how many were forgotten."""
    condition = Conversation.conversation_id == conversation_id
    if team_id is not None:
        condition = or_(condition, Conversation.team_id == team_id)
    gone = session.scalars(
        select(Conversation.conversation_id).where(Conversation.workspace_id == workspace_id, condition)
    ).all()
    if gone:
        session.execute(
            update(Workspace)
            .where(Workspace.id == workspace_id, Workspace.digest_channel.in_(list(gone)))
            .values(digest_channel=None)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            delete(Conversation).where(
                Conversation.workspace_id == workspace_id, Conversation.conversation_id.in_(list(gone))
            )
        )
    return len(gone)


def personal_conversation(session: Session, *, technician_id: int) -> Conversation | None:
    """The technician's 1:1 chat with the bot, the most recently seen one if several."""
    return session.scalars(
        select(Conversation)
        .where(Conversation.technician_id == technician_id, Conversation.kind == "personal")
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
        .limit(1)
    ).first()


def conversation(session: Session, *, workspace_id: int, conversation_id: str) -> Conversation | None:
    """A stored conversation by its platform id."""
    return session.scalars(
        select(Conversation).where(
            Conversation.workspace_id == workspace_id, Conversation.conversation_id == conversation_id
        )
    ).one_or_none()


def latest_service_url(session: Session, *, workspace_id: int) -> str | None:
    """The service URL the workspace was last seen at, for opening a 1:1 chat where none is known."""
    return session.scalars(
        select(Conversation.service_url)
        .where(Conversation.workspace_id == workspace_id)
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
        .limit(1)
    ).first()


def technician_by_user(session: Session, *, workspace_id: int, user_id: str) -> Technician | None:
    """A workspace's technician by their platform user id."""
    return session.scalars(
        select(Technician).where(Technician.workspace_id == workspace_id, Technician.user_id == user_id)
    ).one_or_none()


def workspace_platform(session: Session, *, workspace_id: int) -> str:
    """The chat platform a workspace is on."""
    return str(session.scalar(select(Workspace.platform).where(Workspace.id == workspace_id)) or "slack")


def set_digest_channel(session: Session, *, workspace_id: int, channel: str | None) -> None:
    """Choose (or with None, unset) the conversation the workspace's weekly digest is posted in."""
    session.execute(
        update(Workspace)
        .where(Workspace.id == workspace_id)
        .values(digest_channel=channel)
        .execution_options(synchronize_session=False)
    )


def technician_by_member(session: Session, *, workspace_id: int, member_id: str) -> Technician | None:
    """A workspace's technician by the member id the platform gave them in the bot's conversations."""
    return session.scalars(
        select(Technician)
        .where(Technician.workspace_id == workspace_id, Technician.member_id == member_id)
        .order_by(Technician.id)
        .limit(1)
    ).first()
