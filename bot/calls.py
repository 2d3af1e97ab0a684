"""A phone call to a client, however it was logged (typed, or a button): the touch, and what it settles.

Every call is a touch (the check-in clock restarts) and closes the technician's open "call the client"
tasks for that client; a call in which they spoke to the client also acknowledges the client's change
notices still ahead, since the client has now heard of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import notices
from bot.context import Context
from bot.replies import Reply, Section
from storage import repositories as repo
from storage.models import CallOutcome, Client, Notice, TouchKind


@dataclass(frozen=True)
class Logged:
    """What a call settled: call tasks closed, notices acknowledged."""

    closed: int
    acknowledged: tuple[Notice, ...]


def log_call(ctx: Context, client: Client, outcome: CallOutcome, note: str | None) -> Logged:
    """Record the call and settle what it settles."""
    repo.add_touch(
        ctx.session,
        client=client,
        technician_id=ctx.technician.id,
        kind=TouchKind.CALL,
        at=ctx.now,
        outcome=outcome,
        note=note,
    )
    closed = repo.close_call_tasks(
        ctx.session, technician_id=ctx.technician.id, client_id=client.id, at=ctx.now
    )
    acknowledged = notices.acknowledged_by_call(ctx, client) if outcome is CallOutcome.SPOKE else []
    return Logged(closed, tuple(acknowledged))


def notice_called_pressed(ctx: Context, value: str) -> Reply:
    """*Spoke to them* on a notice's reminder: the call is logged, and the notice is acknowledged."""
    notice = notices.own(ctx, value)
    if notice.acknowledged_at is not None:
        return notices.acknowledged_reply(notice, ctx.tz)
    log_call(ctx, notice.client, CallOutcome.SPOKE, f"About the notice: {notice.what}")
    # Acknowledged even once its window has begun (only notices ahead are acknowledged by any call).
    notices.acknowledge(notice, via="call", now=ctx.now)
    return Reply(
        summary=f"Logged a call to {notice.client.name}",
        blocks=(
            Section(
                f":telephone_receiver: Logged a call to *{notice.client.name}*: they know about "
                f"{notice.what} ({notices.when(notice, ctx.tz, ctx.now)}). Thank you."
            ),
        ),
    )
