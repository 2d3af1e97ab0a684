"""What the settings sub-commands of `/visit` do: a client's check-in cadence, a pause, working hours."""

from __future__ import annotations

from datetime import time

from bot import nudges, texts
from bot.context import Context
from bot.grammar import commands as grammar
from bot.hours import WorkingHours
from bot.replies import Block, Note, Reply, Section
from storage.models import Client

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def days_text(days: frozenset[int]) -> str:
    """`Mon–Fri`, `Sun–Thu`, `Mon, Wed, Fri`, `every day`: weekdays as people write them."""
    if len(days) == 7:
        return "every day"
    # Start after a day off, so a week that runs over Sunday reads "Sun–Thu", not "Mon–Thu, Sun".
    first = next(day for day in range(7) if day in days and (day - 1) % 7 not in days)
    runs: list[list[int]] = []
    for step in range(7):
        day = (first + step) % 7
        if day not in days:
            continue
        if runs and (runs[-1][-1] + 1) % 7 == day:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        names = [WEEKDAY_NAMES[day] for day in run]
        parts.append(f"{names[0]}–{names[-1]}" if len(run) > 2 else ", ".join(names))
    return ", ".join(parts)


def hours_text(hours: WorkingHours) -> str:
    """`Mon–Fri, 8am–6pm (America/Chicago)`."""
    return (
        f"{days_text(hours.days)}, {texts.time_of_day(hours.start)}–{texts.time_of_day(hours.end)} "
        f"({hours.tz.key})"
    )


def _tz_note(ctx: Context) -> list[Block]:
    if ctx.tz_known:
        return []
    return [Note(f"I don't know your time zone yet, so I used {ctx.tz.key}; it's updated from your profile.")]


def set_cadence(ctx: Context, command: grammar.SetCadence, client: Client) -> Reply:
    """Set how often the team checks in with a client; any technician may change it."""
    client.checkin_cadence_days = command.days
    every = "every day" if command.days == 1 else f"every {command.days} days"
    due = nudges.checkin_due_at(client)
    if due <= ctx.now:
        last = client.last_touch_at or client.created_at
        when = f"A check-in is due now: the last touch was {texts.day(last, ctx.tz, now=ctx.now)}."
    else:
        when = f"Next check-in by {texts.day(due, ctx.tz, now=ctx.now)}."
    return Reply(
        summary=f"Check in with {client.name} {every}",
        blocks=(Section(f":calendar: Check-ins with *{client.name}* are now due {every}. {when}"),),
    )


def pause(ctx: Context, command: grammar.PauseNudges) -> Reply:
    """Hold every reminder until a local date (a vacation); what falls due meanwhile comes that morning."""
    ctx.technician.paused_until = command.until
    hours = nudges.working_hours(ctx.technician, ctx.tz)
    back = hours.next_open(hours.opening_on(command.until)).astimezone(hours.tz)
    when = f"{texts.day(back, hours.tz, now=ctx.now)} at {texts.time_of_day(back.time())}"
    return Reply(
        summary=f"Reminders paused until {texts.day(back, hours.tz, now=ctx.now)}",
        blocks=(
            Section(
                f":palm_tree: Reminders paused. The next ones arrive on {when}, with whatever fell due "
                "while you were away. Enjoy the break!"
            ),
            Note("Back early? /visit resume"),
            *_tz_note(ctx),
        ),
    )


def resume(ctx: Context) -> Reply:
    """End a pause now."""
    technician = ctx.technician
    until = technician.paused_until
    paused = until is not None and until > ctx.now.astimezone(ctx.tz).date()
    technician.paused_until = None
    hours = nudges.working_hours(technician, ctx.tz)
    if not paused:
        return Reply(
            summary="Reminders aren't paused",
            blocks=(Section(f":bell: Your reminders aren't paused: they arrive {hours_text(hours)}."),),
            tone="info",
        )
    back = hours.next_open(ctx.now)
    when = "now"
    if back > ctx.now:
        local = back.astimezone(hours.tz)
        when = f"from {texts.day(local, hours.tz, now=ctx.now)} at {texts.time_of_day(local.time())}"
    return Reply(
        summary="Reminders are back on",
        blocks=(
            Section(
                f":bell: Welcome back! Reminders are on again {when}, "
                "with anything that fell due while they were paused."
            ),
        ),
    )


def set_hours(ctx: Context, command: grammar.SetHours) -> Reply:
    """Set working hours and/or working days; reminders arrive only inside them."""
    technician = ctx.technician
    if command.start is not None and command.end is not None:
        technician.work_start_minute = _minutes(command.start)
        technician.work_end_minute = _minutes(command.end)
    if command.days is not None:
        technician.work_days = "".join(str(day) for day in sorted(command.days))
    hours = nudges.working_hours(technician, ctx.tz)
    return Reply(
        summary=f"Working hours: {hours_text(hours)}",
        blocks=(
            Section(f":clock8: Your working hours are now {hours_text(hours)}. Reminders arrive only then."),
            *_tz_note(ctx),
        ),
    )


def paused_until(ctx: Context, hours: WorkingHours) -> str | None:
    """The day reminders come back (`Mon 7 Dec`), when a pause is active."""
    paused = ctx.technician.paused_until
    if paused is None or paused <= ctx.now.astimezone(hours.tz).date():
        return None
    return texts.day(hours.next_open(ctx.now), hours.tz, now=ctx.now)


def show_hours(ctx: Context) -> Reply:
    """The technician's working hours and any pause."""
    hours = nudges.working_hours(ctx.technician, ctx.tz)
    blocks: list[Block] = [Section(f":clock8: Your working hours: {hours_text(hours)}.")]
    back = paused_until(ctx, hours)
    if back is not None:
        pause = f":palm_tree: Reminders are paused until {back} (/visit resume ends the pause)."
        blocks.append(Section(pause))
    blocks.append(Note(f"Change them with {grammar.HOURS_EXAMPLE}"))
    blocks.extend(_tz_note(ctx))
    return Reply(summary=f"Working hours: {hours_text(hours)}", blocks=tuple(blocks), tone="info")


def _minutes(at: time) -> int:
    return at.hour * 60 + at.minute
