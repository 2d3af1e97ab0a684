"""`/visit list`: what a technician owes and has coming up, overall or for one client."""

from __future__ import annotations

from bot import nudges, preferences, promises, texts
from bot.context import Context
from bot.grammar.durations import format_duration
from bot.replies import Block, Button, Note, Reply, Section
from bot.visits import CALL_LOGGED, FOLLOWUP_SENT
from storage import repositories as repo
from storage.models import Client

MAX_PER_KIND = 8


def _more(count: int) -> list[Block]:
    return [Note(f"…and {count - MAX_PER_KIND} more.")] if count > MAX_PER_KIND else []


def _client_header(ctx: Context, client: Client) -> list[Block]:
    contact = " · ".join(p for p in (client.contact_name, client.contact_email, client.contact_phone) if p)
    if client.last_touch_at is None:
        touch = "no touch logged yet"
    else:
        days = (ctx.now - client.last_touch_at).days
        touch = f"last touch {texts.day(client.last_touch_at, ctx.tz, now=ctx.now)} ({days} days ago)"
    return [
        Section(
            f"*{client.name}*: {touch}; check in every {client.checkin_cadence_days} days.\n"
            f"Contact: {contact or 'none yet (/visit contact)'}"
        )
    ]


def list_open(ctx: Context, client: Client | None) -> Reply:
    """Follow-ups to send, calls to make, appointments coming up and open promises."""
    client_id = client.id if client else None
    tech = ctx.technician.id
    session, limit = ctx.session, MAX_PER_KIND
    followups = repo.unsent_followups(session, technician_id=tech, client_id=client_id, limit=limit)
    calls = repo.open_call_tasks(session, technician_id=tech, client_id=client_id, limit=limit)
    upcoming = repo.upcoming_appointments(
        session, technician_id=tech, now=ctx.now, client_id=client_id, limit=limit
    )
    open_promises = repo.open_promises(session, technician_id=tech, client_id=client_id, limit=limit)

    blocks: list[Block] = _client_header(ctx, client) if client else []
    if followups.total:
        blocks.append(Section(f"*Follow-up e-mails to send* ({followups.total})"))
        for visit in followups.items:
            blocks.append(
                Section(
                    f"*{visit.client.name}*, {texts.day(visit.visited_at, ctx.tz, now=ctx.now)}: "
                    f"{visit.work_done} ({format_duration(visit.minutes)})",
                    button=Button("Mark sent", FOLLOWUP_SENT, str(visit.id)),
                )
            )
        blocks.extend(_more(followups.total))
    if calls.total:
        blocks.append(Section(f"*Calls to make about cancellations* ({calls.total})"))
        for appointment in calls.items:
            phone = appointment.client.contact_phone or "no number on file"
            when = texts.window(appointment.window_start, appointment.window_end, ctx.tz, now=ctx.now)
            blocks.append(
                Section(
                    f"*{appointment.client.name}* ({phone}): cancelled {when}",
                    button=Button("Spoke to them", CALL_LOGGED, f"{appointment.id}:spoke"),
                )
            )
        blocks.extend(_more(calls.total))
    if upcoming.total:
        blocks.append(Section(f"*Appointments coming up* ({upcoming.total})"))
        for appointment in upcoming.items:
            when = texts.window(appointment.window_start, appointment.window_end, ctx.tz, now=ctx.now)
            blocks.append(Section(f"*{appointment.client.name}*: {when}"))
        blocks.extend(_more(upcoming.total))
    if open_promises.total:
        blocks.extend(promises.promise_blocks(ctx, open_promises.items, total=open_promises.total))
    scope = f" for {client.name}" if client else ""
    if not (followups.total or calls.total or upcoming.total or open_promises.total):
        blocks.append(Section(f"Nothing open{scope}: no follow-ups, calls or promises waiting. :sparkles:"))
    back = preferences.paused_until(ctx, nudges.working_hours(ctx.technician, ctx.tz))
    if back is not None and client is None:
        blocks.append(Note(f"Your reminders are paused until {back}: /visit resume ends the pause."))
    total = followups.total + calls.total + open_promises.total
    return Reply(summary=f"{total} open items{scope}", blocks=tuple(blocks), tone="info")
