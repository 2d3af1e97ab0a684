"""What `/promise` does: record a commitment with a due date, keep it, move it, list them."""

from __future__ import annotations

from collections.abc import Sequence

from bot import texts
from bot.context import Context, Refused, button_number
from bot.grammar import commands as grammar
from bot.replies import Actions, Block, Button, Note, Reply, Section, error
from storage import repositories as repo
from storage.models import Client, Promise

KEPT = "promise.kept"


def kept_button(promise_id: int) -> Button:
    """The "Kept" button on a promise."""
    return Button("Kept", KEPT, str(promise_id), "primary")


def add(ctx: Context, command: grammar.AddPromise, client: Client) -> Reply:
    """Record a promise to a client."""
    values = {
        "workspace_id": ctx.workspace_id,
        "client_id": client.id,
        "technician_id": ctx.technician.id,
        "text": command.text,
        "due_at": command.due,
        "done_at": None,
        "times_moved": 0,
        "created_at": ctx.now,
    }
    promise = repo.add_row(ctx.session, Promise, values)
    due = texts.due(promise.due_at, ctx.tz, now=ctx.now)
    blocks: list[Block] = [
        Section(f":handshake: Promise #{promise.id} to *{client.name}*: {promise.text}. Due {due}."),
        Actions((kept_button(promise.id),)),
        Note(
            f"I'll remind you the working day before and on the day. Done early? /promise done {promise.id}"
        ),
    ]
    if not ctx.tz_known:
        blocks.append(Note(f"I don't know your time zone yet, so I used {ctx.tz.key}. Check the date above."))
    return Reply(summary=f"Promise #{promise.id} to {client.name}, due {due}", blocks=tuple(blocks))


def _own(ctx: Context, promise_id: int) -> Promise:
    promise = ctx.session.get(Promise, promise_id)
    if promise is None or promise.workspace_id != ctx.workspace_id:
        raise Refused(error(f"There's no promise #{promise_id}. /promise list shows yours.", "/promise list"))
    if promise.technician_id != ctx.technician.id:
        raise Refused(error(f"Promise #{promise_id} isn't one of yours.", "/promise list"))
    return promise


def _kept_line(ctx: Context, promise: Promise) -> str:
    assert promise.done_at is not None
    late_days = (promise.done_at.astimezone(ctx.tz).date() - promise.due_at.astimezone(ctx.tz).date()).days
    timing = "on time :tada:" if promise.done_at <= promise.due_at else f"{max(late_days, 0)} day(s) late"
    return f"#{promise.id} to *{promise.client.name}* ({promise.text}): kept, {timing}"


def done(ctx: Context, command: grammar.PromiseDone) -> Reply:
    """Mark promises kept; one already kept stays as it was."""
    lines = []
    for promise_id in command.ids:
        promise = _own(ctx, promise_id)
        if promise.done_at is not None:
            lines.append(f"#{promise.id} was already marked kept on {texts.day(promise.done_at, ctx.tz)}.")
            continue
        promise.done_at = ctx.now
        lines.append(_kept_line(ctx, promise))
    summary = "Promise kept" if len(command.ids) == 1 else f"{len(command.ids)} promises kept"
    return Reply(summary=summary, blocks=tuple(Section(f":white_check_mark: {line}") for line in lines))


def kept_pressed(ctx: Context, value: str) -> Reply:
    """The "Kept" button."""
    promise_id = button_number(value, "That button is out of date; use /promise done <number>.")
    return done(ctx, grammar.PromiseDone((promise_id,)))


def move(ctx: Context, command: grammar.MovePromise) -> Reply:
    """Move a due date, and prompt the technician to tell the client now."""
    promise = _own(ctx, command.id)
    if promise.done_at is not None:
        raise Refused(error(f"Promise #{promise.id} is already kept, so there's nothing to move."))
    old = texts.due(promise.due_at, ctx.tz, now=ctx.now)
    promise.due_at = command.due
    promise.times_moved += 1
    new = texts.due(promise.due_at, ctx.tz, now=ctx.now)
    client = promise.client
    contact = ", ".join(part for part in (client.contact_name, client.contact_phone) if part)
    tell = f"Please tell {client.name} now ({contact})" if contact else f"Please tell {client.name} now"
    return Reply(
        summary=f"Moved #{promise.id} to {new}",
        blocks=(
            Section(f":arrow_right: Moved #{promise.id} ({promise.text}) from {old} to {new}."),
            Section(f":telephone_receiver: {tell}, so the new date is a promise too, not a surprise."),
        ),
    )


def list_open(ctx: Context) -> Reply:
    """Open promises, soonest due first, overdue ones marked."""
    page = repo.open_promises(ctx.session, technician_id=ctx.technician.id, limit=MAX_LISTED)
    if not page.total:
        return Reply(
            summary="No open promises",
            blocks=(Section("You have no open promises. :sparkles:"),),
            tone="info",
        )
    return Reply(
        summary=f"{page.total} open promises",
        blocks=tuple(promise_blocks(ctx, page.items, total=page.total)),
        tone="info",
    )


MAX_LISTED = 15


def promise_blocks(ctx: Context, promises: Sequence[Promise], *, total: int | None = None) -> list[Block]:
    """One line with a "Kept" button per promise, capped so the message stays within chat limits;
    `total` is how many are open when `promises` holds only the first of them."""
    total = len(promises) if total is None else total
    blocks: list[Block] = [Section(f"*Promises* ({total} open)")]
    for promise in promises[:MAX_LISTED]:
        late = " :warning: overdue" if promise.due_at < ctx.now else ""
        blocks.append(
            Section(
                f"#{promise.id} *{promise.client.name}*: {promise.text}. "
                f"Due {texts.due(promise.due_at, ctx.tz, now=ctx.now)}{late}",
                button=kept_button(promise.id),
            )
        )
    shown = min(len(promises), MAX_LISTED)
    if total > shown:
        blocks.append(Note(f"…and {total - shown} more, due later."))
    return blocks
