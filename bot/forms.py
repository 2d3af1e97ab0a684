"""The forms: `/visit` and `/promise` typed alone (same fields, same checks), and App Home's settings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from bot import nudges, preferences, promises, visits
from bot.clients import similar
from bot.context import Context
from bot.grammar import commands as grammar
from bot.grammar.durations import parse_duration
from bot.grammar.when import Hours, WhenError, parse_day_or_moment, parse_hours, parse_weekdays
from bot.grammar.words import match_key, tidy_name
from bot.replies import Checkbox, Choices, Form, FormField, FormOutcome
from storage import repositories as repo
from storage.models import Client

VISIT_FORM = "visit.log"
# The visit form's mood: a score the client's word is stored with (see bot.feedback).
MOODS = (("5", "Happy 😀"), ("3", "OK 😐"), ("1", "Unhappy 🙁"))
PROMISE_FORM = "promise.add"
NEW_CLIENT = "new_client"


def visit_form() -> Form:
    """Log a visit."""
    return Form(
        kind=VISIT_FORM,
        title="Log a visit",
        submit="Log visit",
        intro="I'll draft the follow-up e-mail from this.",
        fields=(
            FormField("client", "Client", "Acme Dental"),
            FormField("duration", "Time spent", "1h30, 90m, 1.5h or 1:30"),
            FormField("work_done", "What was done", "Replaced the fuser in the front-desk printer", True),
            FormField("remaining", "What is left", "Order toner", True, optional=True),
            Choices("mood", "How was the client?", MOODS, single=True),
            Checkbox(NEW_CLIENT, "This is a new client"),
        ),
    )


def promise_form() -> Form:
    """Record a promise."""
    return Form(
        kind=PROMISE_FORM,
        title="Record a promise",
        submit="Save promise",
        fields=(
            FormField("client", "Client", "Acme Dental"),
            FormField("text", "What you promised", "Send the revised quote", True),
            FormField("due", "Due", "Friday, tomorrow 5pm, 2026-12-03"),
            Checkbox(NEW_CLIENT, "This is a new client"),
        ),
    )


def _client(ctx: Context, typed: str, new: bool, errors: dict[str, str]) -> Client | None:
    name = tidy_name(typed)
    if not name:
        errors["client"] = "Which client? For example: Acme Dental"
        return None
    if len(name) > grammar.MAX_NAME:
        errors["client"] = f"A client name can be at most {grammar.MAX_NAME} characters."
        return None
    existing = repo.client_by_key(ctx.session, workspace_id=ctx.workspace_id, key=match_key(name))
    if existing is not None:
        return existing
    if not new:
        suggestions = similar(ctx, name)
        if suggestions:
            errors["client"] = (
                f"I don't know “{name}”. Did you mean “{suggestions[0][0]}”? "
                "If it really is a new client, tick “This is a new client”."
            )
            return None
    return repo.add_client(
        ctx.session,
        workspace_id=ctx.workspace_id,
        name=name,
        key=match_key(name),
        owner_id=ctx.technician.id,
        now=ctx.now,
    )


def submit_visit(
    ctx: Context,
    values: dict[str, str],
    ticked: frozenset[str],
    chosen: Mapping[str, frozenset[str]] | None = None,
) -> FormOutcome:
    """Validate and log a visit from the form."""
    errors: dict[str, str] = {}
    minutes = parse_duration(values.get("duration", ""))
    if minutes is None:
        errors["duration"] = "How long? For example 1h30, 90m, 1.5h or 1:30 (up to 24 hours)."
    work_done = values.get("work_done", "").strip()
    if not work_done:
        errors["work_done"] = "A few words on what you did: they go into the follow-up e-mail."
    client = None if errors else _client(ctx, values.get("client", ""), NEW_CLIENT in ticked, errors)
    if errors or client is None or minutes is None:
        return FormOutcome(errors=errors or {"client": "Which client?"})
    remaining = values.get("remaining", "").strip() or None
    picked = sorted((chosen or {}).get("mood", frozenset()) & {score for score, _ in MOODS})
    command = grammar.LogVisit(
        grammar.ClientRef(client.name, True, 0, 0),
        minutes=minutes,
        work_done=work_done,
        remaining=remaining,
        mood=grammar.Mood(int(picked[0])) if picked else None,
    )
    return FormOutcome(reply=visits.log_visit(ctx, command, client))


def submit_promise(
    ctx: Context,
    values: dict[str, str],
    ticked: frozenset[str],
    chosen: Mapping[str, frozenset[str]] | None = None,
) -> FormOutcome:
    """Validate and record a promise from the form."""
    errors: dict[str, str] = {}
    text = values.get("text", "").strip()
    if not text:
        errors["text"] = "What did you promise? For example: send the revised quote"
    when = parse_day_or_moment(values.get("due", ""), now=ctx.now, tz=ctx.tz)
    due = None
    if when is None:
        errors["due"] = "When is it due? For example: Friday, tomorrow 5pm or 2026-12-03"
    else:
        due = when.due()
        if due < ctx.now:
            errors["due"] = "That date is already past. When will you do it?"
    client = None if errors else _client(ctx, values.get("client", ""), NEW_CLIENT in ticked, errors)
    if errors or client is None or due is None or when is None:
        return FormOutcome(errors=errors or {"client": "Which client?"})
    command = grammar.AddPromise(grammar.ClientRef(client.name, True, 0, 0), text, due, when.has_time)
    return FormOutcome(reply=promises.add(ctx, command, client))


SETTINGS_FORM = "home.settings"
HOURS_EXAMPLE = "For example: 8-18 or 7:30-16."
DAYS_EXAMPLE = "For example: mon-fri, or mon, wed, fri."
ZONE_EXAMPLE = "Use a name like Europe/Berlin or America/Chicago, or leave it blank for your {} profile's."
PAUSE_EXAMPLE = "For example: Monday, in 2 weeks or 2026-12-07; blank: not paused."


def _clock(minutes: int) -> str:
    hour, minute = divmod(min(minutes, 24 * 60 - 1), 60)
    return f"{hour}" if minute == 0 else f"{hour}:{minute:02d}"


def _days_phrase(days: frozenset[int]) -> str:
    """Working days as the form reads them back: `mon–fri`, `daily`."""
    return "daily" if len(days) == 7 else preferences.days_text(days).lower()


def settings_form(ctx: Context) -> Form:
    """App Home's settings, filled in with the technician's current ones."""
    technician = ctx.technician
    hours = nudges.working_hours(technician, ctx.tz)
    paused = technician.paused_until
    active = paused is not None and paused > ctx.now.astimezone(hours.tz).date()
    muted = nudges.muted_kinds(technician)
    return Form(
        kind=SETTINGS_FORM,
        title="Your settings",
        submit="Save settings",
        intro="Reminders arrive only in your working hours, in your time zone.",
        fields=(
            FormField(
                "hours",
                "Working hours",
                "8-18 or 7:30-16",
                initial=f"{_clock(technician.work_start_minute)}-{_clock(technician.work_end_minute)}",
            ),
            FormField("days", "Working days", "mon-fri", initial=_days_phrase(hours.days)),
            FormField(
                "timezone",
                f"Time zone (blank: my {ctx.platform_name} profile's)",
                "Europe/Berlin",
                optional=True,
                initial=technician.timezone_override or "",
            ),
            FormField(
                "pause",
                "Pause reminders until (blank: not paused)",
                "Monday, in 2 weeks or 2026-12-07",
                optional=True,
                initial=paused.isoformat() if active and paused is not None else "",
            ),
            Choices(
                "kinds",
                "Reminders I want",
                options=nudges.KINDS,
                chosen=frozenset(kind for kind, _ in nudges.KINDS if kind not in muted),
            ),
        ),
    )


@cache
def _zones() -> dict[str, str]:
    """Every IANA zone name by its lower-case form, so `europe/berlin` is understood too."""
    return {name.lower(): name for name in available_timezones()}


def _sentence(error: WhenError) -> str:
    message = str(error)
    return message[0].upper() + message[1:] + "."


def submit_settings(ctx: Context, values: dict[str, str], chosen: dict[str, frozenset[str]]) -> FormOutcome:
    """Validate and store App Home's settings; a bad field stores nothing and says what to type."""
    errors: dict[str, str] = {}
    hours_typed = values.get("hours", "").strip()
    hours: Hours | None = None
    try:
        hours = parse_hours(hours_typed) if hours_typed else None
        if hours is None or hours.start is None:
            errors["hours"] = f"Which hours do you work? {HOURS_EXAMPLE}"
    except WhenError as error:
        errors["hours"] = f"{_sentence(error)} {HOURS_EXAMPLE}"
    days: frozenset[int] | None = hours.days if hours is not None else None
    days_typed = values.get("days", "").strip()
    if days_typed:
        try:
            days = parse_weekdays(days_typed)
        except WhenError as error:
            errors["days"] = f"{_sentence(error)} {DAYS_EXAMPLE}"
    elif days is None:
        errors["days"] = f"Which days do you work? {DAYS_EXAMPLE}"
    zone_typed = values.get("timezone", "").strip()
    zone = _zones().get(zone_typed.lower()) if zone_typed else None
    if zone_typed and zone is None:
        errors["timezone"] = (
            f"I don't know the time zone “{zone_typed[:64]}”. {ZONE_EXAMPLE.format(ctx.platform_name)}"
        )
    until = _pause_until(ctx, values.get("pause", "").strip(), ZoneInfo(zone) if zone else ctx.tz, errors)
    if errors or hours is None or hours.start is None or hours.end is None or days is None:
        return FormOutcome(errors=errors or {"hours": f"Which hours do you work? {HOURS_EXAMPLE}"})
    technician = ctx.technician
    technician.work_start_minute = hours.start.hour * 60 + hours.start.minute
    technician.work_end_minute = hours.end.hour * 60 + hours.end.minute
    technician.work_days = "".join(str(day) for day in sorted(days))
    technician.timezone_override = zone
    technician.paused_until = until
    if "kinds" in chosen:
        technician.muted_kinds = ",".join(kind for kind, _ in nudges.KINDS if kind not in chosen["kinds"])
    # No message: the refreshed App Home shows the new settings where they were changed.
    return FormOutcome()


def _pause_until(ctx: Context, typed: str, tz: ZoneInfo, errors: dict[str, str]) -> date | None:
    """The pause's end, read by the same rule as `/visit pause` (in the zone being saved)."""
    if not typed:
        return None
    parsed = grammar.parse_visit(f"pause {typed}", known=set(), now=ctx.now, tz=tz)
    if isinstance(parsed, grammar.PauseNudges):
        return parsed.until
    message = parsed.message if isinstance(parsed, grammar.ParseError) else "I can't tell which day that is."
    errors["pause"] = f"{message} {PAUSE_EXAMPLE}"
    return None
