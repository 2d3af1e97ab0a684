"""What the buttons on reminders do: snooze a follow-up, log a check-in touch, running late, move."""

from __future__ import annotations

from datetime import timedelta

from bot import nudges, texts
from bot.context import Context, Refused, button_number
from bot.replies import Reply, Section, error
from storage import repositories as repo
from storage.models import Appointment, Client, Promise, TouchKind, Visit

CHECKIN_SNOOZE_DAYS = 3
# How a logged touch is named in a reply ("an e-mail", not "a email").
TOUCH_WORDS = {
    TouchKind.CALL: "a call",
    TouchKind.EMAIL: "an e-mail",
    TouchKind.MEETING: "a meeting",
    TouchKind.VISIT: "a visit",
}


def _number(value: str) -> int:
    """The id before any ":detail" in a reminder button's value."""
    return button_number(value.split(":", 1)[0])


def _own_client(ctx: Context, client_id: int) -> Client:
    client = ctx.session.get(Client, client_id)
    if client is None or client.workspace_id != ctx.workspace_id or client.owner_id != ctx.technician.id:
        raise Refused(error("That client's check-ins are looked after by someone else."))
    return client


def snooze_followup(ctx: Context, value: str) -> Reply:
    """Hold a follow-up reminder until the start of the next working day."""
    visit = ctx.session.get(Visit, _number(value))
    if visit is None or visit.technician_id != ctx.technician.id:
        raise Refused(error("That visit isn't one of yours."))
    if visit.followup_sent_at is not None:
        return Reply(
            summary="Already sent", blocks=(Section(":email: That follow-up is already marked sent."),)
        )
    hours = nudges.working_hours(ctx.technician, ctx.tz)
    held = visit.followup_snoozed_until
    if held is not None and held > ctx.now:
        # A second press (or a replay) must not push the reminder further out.
        when = texts.day(held, hours.tz, now=ctx.now)
        name = visit.client.name
        return Reply(
            summary=f"Already snoozed until {when}",
            blocks=(Section(f":zzz: The follow-up to *{name}* is already snoozed until {when}."),),
            tone="info",
        )
    until = hours.opening_on(hours.local_day(ctx.now) + timedelta(days=1))
    visit.followup_snoozed_until = until
    when = texts.day(until, hours.tz, now=ctx.now)
    return Reply(
        summary=f"Snoozed until {when}",
        blocks=(
            Section(f":zzz: I'll remind you about the follow-up to *{visit.client.name}* again on {when}."),
        ),
    )


def checkin_touch(ctx: Context, value: str) -> Reply:
    """Log the call, e-mail or meeting that was the check-in; a second press logs nothing more."""
    client_text, _, kind_text = value.partition(":")
    client = _own_client(ctx, _number(client_text))
    try:
        kind = TouchKind(kind_text)
    except ValueError:
        raise Refused(error("That button is out of date.")) from None
    if nudges.checkin_due_at(client) > ctx.now:
        return _up_to_date(ctx, client)
    repo.add_touch(ctx.session, client=client, technician_id=ctx.technician.id, kind=kind, at=ctx.now)
    due = texts.day(nudges.checkin_due_at(client), ctx.tz, now=ctx.now)
    what = TOUCH_WORDS[kind]
    return Reply(
        summary=f"Logged {what} with {client.name}",
        blocks=(Section(f":white_check_mark: Logged {what} with *{client.name}*. Next check-in by {due}."),),
    )


def _up_to_date(ctx: Context, client: Client) -> Reply:
    last = client.last_touch_at or client.created_at
    return Reply(
        summary=f"{client.name} is up to date",
        blocks=(Section(f":white_check_mark: *{client.name}* was last touched {texts.day(last, ctx.tz)}."),),
    )


def checkin_snooze(ctx: Context, value: str) -> Reply:
    """Hold a client's check-in reminders for three days; a second press changes nothing."""
    client = _own_client(ctx, _number(value))
    if nudges.checkin_due_at(client) > ctx.now:
        return _up_to_date(ctx, client)
    hours = nudges.working_hours(ctx.technician, ctx.tz)
    held = client.checkin_snoozed_until
    if held is not None and held > ctx.now:
        when = texts.day(hours.next_open(held), hours.tz, now=ctx.now)
        return Reply(
            summary=f"{client.name} is already snoozed",
            blocks=(Section(f":zzz: *{client.name}* is already snoozed: I'll remind you again on {when}."),),
            tone="info",
        )
    client.checkin_snoozed_until = ctx.now + timedelta(days=CHECKIN_SNOOZE_DAYS)
    # The reminder comes at the first working hour after the snooze, so name that day, not a Sunday.
    when = texts.day(hours.next_open(client.checkin_snoozed_until), hours.tz, now=ctx.now)
    return Reply(
        summary=f"Snoozed {client.name} until {when}",
        blocks=(Section(f":zzz: I'll remind you about *{client.name}* again on {when}."),),
    )


def running_late(ctx: Context, value: str) -> Reply:
    """Say who to phone, now, with the number."""
    appointment = ctx.session.get(Appointment, _number(value))
    if appointment is None or appointment.technician_id != ctx.technician.id:
        raise Refused(error("That appointment isn't one of yours."))
    client = appointment.client
    phone = client.contact_phone or "their number (none on file: /visit contact)"
    who = client.contact_name or client.name
    return Reply(
        summary=f"Phone {who} now",
        blocks=(
            Section(
                f":telephone_receiver: Phone {who} at *{client.name}* now on {phone}, say you're running "
                "late and give a new arrival time you can keep. A call, not an e-mail: they are waiting."
            ),
        ),
    )


def move_hint(ctx: Context, value: str) -> Reply:
    """How to move a promise (and the reminder to tell the client)."""
    promise = ctx.session.get(Promise, _number(value))
    if promise is None or promise.technician_id != ctx.technician.id:
        raise Refused(error("That promise isn't one of yours."))
    return Reply(
        summary=f"Move promise #{promise.id}",
        blocks=(
            Section(
                f"Type /promise move {promise.id} to <date> (for example: /promise move {promise.id} to "
                f"Friday), then tell *{promise.client.name}* the new date."
            ),
        ),
        tone="info",
    )


HANDLERS = {
    nudges.SNOOZE_FOLLOWUP: snooze_followup,
    nudges.CHECKIN_TOUCH: checkin_touch,
    nudges.CHECKIN_SNOOZE: checkin_snooze,
    nudges.RUNNING_LATE: running_late,
    nudges.MOVE_HINT: move_hint,
}
