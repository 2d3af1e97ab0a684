"""Needs spotted before the client asks: recurring problems in visit notes, as proactive conversations.

`bot.needs` reads the notes; this module loads them (a client's visits of the last 90 days), leaves out
what someone set aside, and handles *Raised it with them* (only later visits count again) and *Not
useful* (never suggested again for that client).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import texts
from bot.context import Context, Refused, button_number
from bot.needs import TOPICS, WINDOW, Need, VisitNote, spot
from bot.replies import Actions, Button, Reply, Section, error
from storage.models import Client, NeedDismissal, Visit

RAISED = "need.raised"
NOT_USEFUL = "need.useless"
# Visits named when explaining a suggestion.
NAMED_VISITS = 5


def spotted(
    session: Session, *, now: datetime, owner_id: int | None = None, workspace_id: int | None = None
) -> list[tuple[Need, Client]]:
    """The needs spotted at one owner's clients, or at every client of a workspace (not archived)."""
    clients_query = select(Client).where(Client.archived_at.is_(None))
    if owner_id is not None:
        clients_query = clients_query.where(Client.owner_id == owner_id)
    if workspace_id is not None:
        clients_query = clients_query.where(Client.workspace_id == workspace_id)
    clients = {client.id: client for client in session.scalars(clients_query)}
    if not clients:
        return []
    ids = list(clients)
    rows = session.execute(
        select(Visit.id, Visit.client_id, Visit.visited_at, Visit.work_done, Visit.remaining).where(
            Visit.client_id.in_(ids), Visit.visited_at >= now - WINDOW, Visit.visited_at <= now
        )
    ).all()
    notes = [
        VisitNote(visit_id, client_id, at, "\n".join(part for part in (done, left) if part))
        for visit_id, client_id, at, done, left in rows
    ]
    dismissed = {
        (client_id, topic): raised
        for client_id, topic, raised in session.execute(
            select(NeedDismissal.client_id, NeedDismissal.topic, NeedDismissal.raised_at).where(
                NeedDismissal.client_id.in_(ids)
            )
        )
    }
    return [(need, clients[need.client_id]) for need in spot(notes, now=now, dismissed=dismissed)]


def visit_days(session: Session, need: Need, tz: ZoneInfo) -> list[str]:
    """The days of the visits a suggestion rests on, newest first."""
    ids = need.visit_ids[:NAMED_VISITS]
    at = dict(session.execute(select(Visit.id, Visit.visited_at).where(Visit.id.in_(ids))).tuples().all())
    return [texts.day(at[visit_id], tz) for visit_id in ids if visit_id in at]


def explained(need: Need, client: Client, tz: ZoneInfo, days: Sequence[str] = ()) -> str:
    """The suggestion, and what it rests on: the words found and the visits."""
    return worded(need, client.name, days)


def worded(need: Need, client_name: str, days: Sequence[str] = ()) -> str:
    """The suggestion at the named client, and what it rests on (`explained`, for a name)."""
    words = ", ".join(f"“{word}”" for word in need.words[:6])
    on = f" Visits: {', '.join(days)}." if days else ""
    return f"{need.headline(f'*{client_name}*')} (from {words}.){on}"


def buttons(need: Need) -> Actions:
    """*Raised it with them* / *Not useful*."""
    value = f"{need.client_id}:{need.topic}"
    return Actions(
        (Button("Raised it with them", RAISED, value, "primary"), Button("Not useful", NOT_USEFUL, value))
    )


def _set_aside(ctx: Context, value: str, raised: bool) -> Reply:
    number, _, topic = value.partition(":")
    client = ctx.session.get(Client, button_number(number))
    if client is None or client.workspace_id != ctx.workspace_id:
        raise Refused(error("That client isn't one of yours here, or is gone (merged, perhaps)."))
    if client.owner_id != ctx.technician.id and not ctx.is_manager:
        raise Refused(
            error("That client is looked after by someone else: their owner decides about its suggestions.")
        )
    if topic not in TOPICS:
        raise Refused(error("That suggestion is out of date."))
    dismissal = ctx.session.scalars(
        select(NeedDismissal).where(NeedDismissal.client_id == client.id, NeedDismissal.topic == topic)
    ).first()
    if dismissal is None:
        dismissal = NeedDismissal(
            workspace_id=ctx.workspace_id, client_id=client.id, topic=topic, dismissed_at=ctx.now
        )
        ctx.session.add(dismissal)
    dismissal.raised_at = ctx.now if raised else None
    dismissal.technician_id, dismissal.dismissed_at = ctx.technician.id, ctx.now
    ctx.session.flush()
    if raised:
        said = (
            f":bulb: Thank you: raising it before *{client.name}* had to is what keeps clients. If it comes "
            "up in three more visits, I'll suggest it again."
        )
    else:
        said = f"Noted: I won't suggest that for *{client.name}* again."
    return Reply(summary=f"Suggestion for {client.name} set aside", blocks=(Section(said),))


def raised_pressed(ctx: Context, value: str) -> Reply:
    """*Raised it with them*: only visits after now count towards suggesting it again."""
    return _set_aside(ctx, value, raised=True)


def not_useful_pressed(ctx: Context, value: str) -> Reply:
    """*Not useful*: never suggested again for this client."""
    return _set_aside(ctx, value, raised=False)
