"""What `/visit` does: log a visit and draft its e-mail, plan, cancel, call, set the contact, list."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from bot import calls, drafts, feedback, notices, texts
from bot.context import Context, Refused, button_number
from bot.grammar import commands as grammar
from bot.grammar.durations import format_duration
from bot.links import Links, Purpose
from bot.replies import Actions, Block, Button, Note, Reply, Section, error
from storage import repositories as repo
from storage.models import Appointment, AppointmentStatus, CallOutcome, Client, Visit

GOOD_WINDOW_MINUTES = 60

FOLLOWUP_SENT = "followup.sent"
CALL_LOGGED = "call.logged"
NARROW_WINDOW = "window.narrow"


def _contact_line(client: Client) -> str:
    parts = [part for part in (client.contact_name, client.contact_email, client.contact_phone) if part]
    return " · ".join(parts)


def _tz_note(ctx: Context) -> list[Block]:
    if ctx.tz_known:
        return []
    return [Note(f"I don't know your time zone yet, so I used {ctx.tz.key}. Check the time above.")]


def draft_blocks(
    visit: Visit, tz: ZoneInfo, links: Links | None = None, now: datetime | None = None
) -> list[Block]:
    """The drafted follow-up e-mail for a visit, to copy or open in a mail program; with links on, it asks
    "how did we do?" with one click."""
    client = visit.client
    rate = None
    if links is not None and now is not None:
        rate = links.by_face(
            Purpose.RATE_VISIT, workspace_id=visit.workspace_id, subject_id=visit.id, now=now
        )
    draft = drafts.followup(
        client_name=client.name,
        contact_name=client.contact_name,
        contact_email=client.contact_email,
        technician_name=visit.technician.display_name,
        visited_at=visit.visited_at,
        minutes=visit.minutes,
        work_done=visit.work_done,
        remaining=visit.remaining,
        tz=tz,
        announced=notices.announced_lines(visit.announced, tz),
        rate=rate,
    )
    to = drafts.addressed(
        "the follow-up e-mail",
        client_name=client.name,
        contact_name=client.contact_name,
        contact_email=client.contact_email,
    )
    return [to, *drafts.shown(draft)]


def followup_blocks(ctx: Context, visit: Visit) -> list[Block]:
    """The drafted e-mail with its button, as shown right after `/visit`."""
    blocks: list[Block] = [
        *draft_blocks(visit, ctx.tz, ctx.links, ctx.now),
        Actions((Button("Mark follow-up sent", FOLLOWUP_SENT, str(visit.id), "primary"),)),
        Note("I'll keep this follow-up open until you mark it sent."),
    ]
    if ctx.links is None:
        # Without links in the e-mail, the technician records what the client says.
        blocks += [
            Section("How did they find it? Record what they say:"),
            feedback.mood_buttons(visit.client_id),
        ]
    return blocks


def log_visit(ctx: Context, command: grammar.LogVisit, client: Client) -> Reply:
    """Store the visit and its touch, and draft the follow-up e-mail."""
    visit = repo.add_visit(
        ctx.session,
        client=client,
        technician_id=ctx.technician.id,
        at=ctx.now,
        minutes=command.minutes,
        work_done=command.work_done,
        remaining=command.remaining,
    )
    announced = notices.carried_into(ctx, visit)
    # The new visit's announced changes are exactly these: no need to ask the database again.
    set_committed_value(visit, "announced", announced)
    headline = f":white_check_mark: Logged {format_duration(visit.minutes)} at *{client.name}*."
    blocks: list[Block] = [Section(headline)]
    if announced:
        changes = "; ".join(notices.announced_lines(announced, ctx.tz))
        blocks.append(
            Section(
                f":loudspeaker: You announced: {changes}. The e-mail says so: make sure it says what was "
                "done against what was announced."
            )
        )
    blocks += followup_blocks(ctx, visit)
    if command.repair is not None:
        blocks += feedback.log_repair(ctx, client, command.repair or command.work_done)
    if command.mood is not None:
        blocks += feedback.mood_of_visit(ctx, visit, command.mood)
    return Reply(summary=f"Logged {format_duration(visit.minutes)} at {client.name}", blocks=tuple(blocks))


def _day_bounds(ctx: Context, moment: datetime) -> tuple[datetime, datetime]:
    local = moment.astimezone(ctx.tz).date()
    start = datetime.combine(local, time(), tzinfo=ctx.tz)
    return start, datetime.combine(local + timedelta(days=1), time(), tzinfo=ctx.tz)


def _window_advice(ctx: Context, appointment: Appointment, client_name: str) -> list[Block]:
    width = texts.minutes_span(appointment.window_start, appointment.window_end)
    if width <= GOOD_WINDOW_MINUTES:
        return []
    narrowed_end = appointment.window_start + timedelta(minutes=GOOD_WINDOW_MINUTES)
    narrowed = texts.window(appointment.window_start, narrowed_end, ctx.tz).split(", ", 1)[1]
    return [
        Section(
            f":hourglass_flowing_sand: A window of {texts.hours_phrase(width)} is a long wait for the "
            "client. Clients remember the technician who says “8–9am”, not “8–12”. "
            "Can you narrow it to an hour?"
        ),
        Actions((Button(f"Make it {narrowed}", NARROW_WINDOW, str(appointment.id), "primary"),)),
        Note(f"Or plan it again with the hour you mean: /visit plan {client_name} Friday 8-9am"),
    ]


def plan(ctx: Context, command: grammar.PlanAppointment, client: Client) -> Reply:
    """Plan an appointment; planning the same client on the same day again moves it."""
    day_start, day_end = _day_bounds(ctx, command.start)
    appointment = repo.planned_on_day(
        ctx.session,
        client_id=client.id,
        technician_id=ctx.technician.id,
        day_start=day_start,
        day_end=day_end,
    )
    moved = appointment is not None
    if appointment is None:
        appointment = Appointment(
            workspace_id=ctx.workspace_id,
            client_id=client.id,
            technician_id=ctx.technician.id,
            window_start=command.start,
            window_end=command.end,
            status=AppointmentStatus.PLANNED,
            created_at=ctx.now,
        )
        ctx.session.add(appointment)
    else:
        appointment.window_start, appointment.window_end = command.start, command.end
    ctx.session.flush()
    when = texts.window(command.start, command.end, ctx.tz, now=ctx.now)
    verb = "Moved" if moved else "Planned"
    blocks: list[Block] = [Section(f":calendar: {verb} *{client.name}* for {when} ({ctx.tz.key}).")]
    if moved:
        blocks.append(Section("Let the client know the new time, by phone if it's soon."))
    if not command.given_end:
        blocks.append(Note("You gave a start time, so I made it a one-hour arrival window."))
    blocks.extend(_window_advice(ctx, appointment, client.name))
    blocks.append(Note("On the morning of the visit I'll remind you; if you'll be late, phone them."))
    blocks.extend(_tz_note(ctx))
    return Reply(summary=f"{verb} {client.name} for {when}", blocks=tuple(blocks))


def narrow_window(ctx: Context, appointment_id: int) -> Reply:
    """The "Make it one hour" button: keep the start, end an hour later."""
    appointment = _own_appointment(ctx, appointment_id)
    if appointment.status != AppointmentStatus.PLANNED:
        raise Refused(error("That appointment was cancelled, so there's no window to narrow."))
    appointment.window_end = appointment.window_start + timedelta(minutes=GOOD_WINDOW_MINUTES)
    when = texts.window(appointment.window_start, appointment.window_end, ctx.tz, now=ctx.now)
    name = appointment.client.name
    return Reply(
        summary=f"{name} is now {when}",
        blocks=(Section(f":calendar: *{name}* is now {when}: a one-hour window. Thank you!"),),
    )


def _call_now(client: Client) -> str:
    if client.contact_phone:
        who = client.contact_name or "them"
        return f":telephone_receiver: Please phone {who} now on {client.contact_phone}"
    return (
        f":telephone_receiver: Please phone {client.name} now. I don't have their number: add it with "
        f"/visit contact {client.name} Jane Roe jane@example.com +1 555 0100"
    )


def call_buttons(appointment_id: int) -> Actions:
    """ "Spoke to them" / "Left voicemail" for an open call task."""
    return Actions(
        (
            Button("Spoke to them", CALL_LOGGED, f"{appointment_id}:spoke", "primary"),
            Button("Left voicemail", CALL_LOGGED, f"{appointment_id}:voicemail"),
        )
    )


def cancel(ctx: Context, command: grammar.CancelAppointment, client: Client) -> Reply:
    """Cancel the next appointment and open the "call the client" task."""
    appointment = repo.next_planned(
        ctx.session, client_id=client.id, technician_id=ctx.technician.id, now=ctx.now
    )
    if appointment is None:
        raise Refused(
            error(
                f"You have no upcoming appointment with {client.name} to cancel. "
                f"/visit list {client.name} shows what's planned.",
                f"/visit plan {client.name} Friday 8-9am",
            )
        )
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancelled_at = ctx.now
    appointment.cancel_reason = command.reason
    ctx.session.flush()
    when = texts.window(appointment.window_start, appointment.window_end, ctx.tz, now=ctx.now)
    return Reply(
        summary=f"Cancelled {client.name} {when}: phone them now",
        blocks=(
            Section(f":x: Cancelled your appointment with *{client.name}* on {when}."),
            Section(
                _call_now(client) + ". An e-mail alone isn't enough to cancel: clients remember who called."
            ),
            call_buttons(appointment.id),
            Note("I'll keep reminding you until the call is logged (or use /visit call)."),
        ),
    )


def _call_reply(ctx: Context, client: Client, outcome: CallOutcome, logged: calls.Logged) -> Reply:
    what = "spoke to them" if outcome is CallOutcome.SPOKE else "left a voicemail"
    blocks: list[Block] = [Section(f":telephone_receiver: Logged a call to *{client.name}* ({what}).")]
    if logged.closed:
        blocks.append(Section("That closes the call about the cancelled appointment. Thank you!"))
    for notice in logged.acknowledged:
        when = notices.when(notice, ctx.tz, ctx.now)
        blocks.append(Section(f"They know about {notice.what} ({when}) now."))
    return Reply(summary=f"Logged a call to {client.name}", blocks=tuple(blocks))


def call(ctx: Context, command: grammar.LogCall, client: Client) -> Reply:
    """Log a phone call: a touch; it closes any open "call the client" task and, when they were spoken to,
    acknowledges their notices still ahead; it may carry their mood and mark a repair."""
    outcome = CallOutcome(command.outcome)
    reply = _call_reply(ctx, client, outcome, calls.log_call(ctx, client, outcome, command.note))
    blocks = list(reply.blocks)
    if command.repair is not None:
        blocks += feedback.log_repair(ctx, client, command.repair or command.note)
    if command.mood is not None:
        blocks += feedback.mood_of_call(ctx, client, command.mood)
    return Reply(summary=reply.summary, blocks=tuple(blocks))


def call_pressed(ctx: Context, value: str) -> Reply:
    """The "Spoke to them" / "Left voicemail" buttons; a second press changes nothing."""
    appointment_id, _, outcome_text = value.partition(":")
    appointment = _own_appointment(ctx, button_number(appointment_id))
    client = appointment.client
    if appointment.call_logged_at is not None:
        when = texts.day(appointment.call_logged_at, ctx.tz)
        return Reply(
            summary=f"Already logged the call to {client.name}",
            blocks=(
                Section(f":telephone_receiver: The call to *{client.name}* was logged on {when}. All done."),
            ),
            tone="info",
        )
    try:
        outcome = CallOutcome(outcome_text)
    except ValueError:
        raise Refused(error("That button is out of date; use /visit call instead.")) from None
    return _call_reply(ctx, client, outcome, calls.log_call(ctx, client, outcome, None))


def set_contact(ctx: Context, command: grammar.SetContact, client: Client) -> Reply:
    """Set the client's contact; parts not given are kept."""
    if command.name:
        client.contact_name = command.name
    if command.email:
        client.contact_email = command.email
    if command.phone:
        client.contact_phone = command.phone
    ctx.session.flush()
    return Reply(
        summary=f"Saved the contact for {client.name}",
        blocks=(
            Section(f":bust_in_silhouette: Saved the contact for *{client.name}*: {_contact_line(client)}"),
        ),
    )


def followup_sent(ctx: Context, visit_id: int) -> Reply:
    """The "Mark follow-up sent" button; reminders about it stop."""
    visit = ctx.session.get(Visit, visit_id, options=(joinedload(Visit.client),))
    if visit is None or visit.technician_id != ctx.technician.id:
        raise Refused(error("That visit isn't one of yours, so I can't mark its follow-up."))
    name = visit.client.name
    if visit.followup_sent_at is not None:
        return Reply(
            summary=f"Follow-up to {name} already marked sent",
            blocks=(
                Section(
                    f":email: The follow-up to *{name}* was marked sent on "
                    f"{texts.day(visit.followup_sent_at, ctx.tz)}. All done."
                ),
            ),
            tone="info",
        )
    visit.followup_sent_at = ctx.now
    return Reply(
        summary=f"Follow-up to {name} marked sent",
        blocks=(
            Section(f":email: Follow-up to *{name}* marked sent. Thank you: that's what clients remember."),
        ),
    )


def _own_appointment(ctx: Context, appointment_id: int) -> Appointment:
    appointment = ctx.session.get(Appointment, appointment_id)
    if appointment is None or appointment.technician_id != ctx.technician.id:
        raise Refused(error("That appointment isn't one of yours."))
    return appointment
