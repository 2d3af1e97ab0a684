"""The forms behind `/visit` and `/promise` typed alone: the same fields, the same checks."""

from __future__ import annotations

from bot import promises, visits
from bot.clients import similar
from bot.context import Context
from bot.grammar import commands as grammar
from bot.grammar.durations import parse_duration
from bot.grammar.when import parse_day_or_moment
from bot.grammar.words import match_key, tidy_name
from bot.replies import Checkbox, Form, FormField, FormOutcome
from storage import repositories as repo
from storage.models import Client

VISIT_FORM = "visit.log"
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


def submit_visit(ctx: Context, values: dict[str, str], ticked: frozenset[str]) -> FormOutcome:
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
    command = grammar.LogVisit(
        grammar.ClientRef(client.name, True, 0, 0), minutes=minutes, work_done=work_done, remaining=remaining
    )
    return FormOutcome(reply=visits.log_visit(ctx, command, client))


def submit_promise(ctx: Context, values: dict[str, str], ticked: frozenset[str]) -> FormOutcome:
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
