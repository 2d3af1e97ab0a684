"""App Home: the technician's open items with the reminders' own buttons, their settings, and the team.

A Home view holds at most 100 blocks. The settings (and, for managers, the team overview) always fit;
the lists share what is left, a short list giving its unused blocks to the longer ones. Each list shows
its first items in full (a follow-up with its draft and both buttons), then one line each, then how
many more there are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from bot import feedback, notices, nudges, preferences, proactive, promises, texts, visits
from bot.context import Context
from bot.grammar.durations import format_duration
from bot.hours import WorkingHours
from bot.replies import Actions, Block, Button, Header, Note, Reply, Section
from storage import repositories as repo
from storage.models import Appointment, Client, Notice, Promise, Risk, Technician, Visit

HOME_BLOCKS = 100
# The first few follow-ups come with their drafted e-mail (five blocks each); later ones are one line.
FULL_DRAFTS = 3
# Items listed per part at most, so one long list never crowds out the others.
MAX_SHOWN = 8
# A button's answer is shown on top of the refreshed Home; longer answers go to a DM instead.
NOTICE_BLOCKS = 3
# Team overview: lines are packed into a few sections, each within Slack's 3,000 characters.
TEAM_SECTIONS = 4
TEAM_SECTION_CHARS = 2900
# People's own words in one-line entries, shortened so a line stays a line.
LINE_CHARS = 200

SETTINGS = "home.settings"
DIGEST_REQUEST = "digest.request"
FOLLOWUPS_LATE_AFTER = timedelta(hours=24)


def _short(text: str, limit: int = LINE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


@dataclass(frozen=True)
class _Entry:
    """One item, in full and as a single line (the same when an item is one block anyway)."""

    full: tuple[Block, ...]
    line: Block


@dataclass(frozen=True)
class _Part:
    """A list on the Home: its heading, its entries and what to say about the ones left out."""

    title: str
    # The first items (at most MAX_SHOWN), and how many there are in all.
    entries: tuple[_Entry, ...]
    total: int
    more: str
    full_first: int = MAX_SHOWN

    def _cost(self, index: int) -> int:
        return len(self.entries[index].full) if index < self.full_first else 1

    def need(self) -> int:
        """Blocks to show it at its best: the heading, the items shown, and the "more" note."""
        shown = min(len(self.entries), MAX_SHOWN)
        return 1 + sum(self._cost(i) for i in range(shown)) + (self.total > shown)

    def render(self, allowance: int) -> list[Block]:
        """As many items as fit in `allowance` blocks, the first ones in full while blocks remain."""
        total = self.total
        header = Header(f"{self.title} ({total})")
        room = allowance - 1
        shown, spare = 0, 0
        for count in range(min(len(self.entries), MAX_SHOWN), 0, -1):
            left = room - (count < total)
            if count <= left:
                shown, spare = count, left - count
                break
        if shown == 0:
            return [header, Note(self.more.format(count=total))] if allowance >= 2 else []
        blocks: list[Block] = [header]
        for index, entry in enumerate(self.entries[:shown]):
            extra = len(entry.full) - 1
            if index < self.full_first and extra <= spare:
                blocks.extend(entry.full)
                spare -= extra
            else:
                blocks.append(entry.line)
        if shown < total:
            blocks.append(Note(self.more.format(count=total - shown)))
        return blocks


def _share(parts: Sequence[_Part], budget: int) -> list[int]:
    """Blocks for each part: an equal share of what is left, a part needing less passing on the rest."""
    allowances = [0] * len(parts)
    remaining = budget
    order = sorted(range(len(parts)), key=lambda index: parts[index].need())
    for position, index in enumerate(order):
        allowance = min(parts[index].need(), remaining // (len(parts) - position))
        allowances[index] = allowance
        remaining -= allowance
    return allowances


def _followups(ctx: Context, visits_open: repo.Page[Visit]) -> _Part:
    entries = []
    for visit in visits_open.items:
        line = (
            f"*{visit.client.name}*, {texts.day(visit.visited_at, ctx.tz, now=ctx.now)} "
            f"({format_duration(visit.minutes)}): {_short(visit.work_done)}"
        )
        buttons = nudges.followup_buttons(visit.id)
        entries.append(
            _Entry(
                full=(Section(line), *visits.draft_blocks(visit, ctx.tz), buttons),
                line=Section(line, button=buttons.buttons[0]),
            )
        )
    return _Part(
        "Follow-ups to send", tuple(entries), visits_open.total, "…and {count} more: /visit list", FULL_DRAFTS
    )


def _calls(ctx: Context, appointments: repo.Page[Appointment]) -> _Part:
    entries = []
    for appointment in appointments.items:
        client = appointment.client
        when = texts.window(appointment.window_start, appointment.window_end, ctx.tz, now=ctx.now)
        line = f"*{client.name}*: you cancelled {when}. Please phone them: {nudges.contact(client)}."
        buttons = visits.call_buttons(appointment.id)
        entries.append(_Entry(full=(Section(line), buttons), line=Section(line, button=buttons.buttons[0])))
    return _Part("Calls to make", tuple(entries), appointments.total, "…and {count} more: /visit list")


def _promises(ctx: Context, hours: WorkingHours, open_promises: repo.Page[Promise]) -> _Part:
    entries = []
    for promise in open_promises.items:
        when = nudges.promise_when(promise, hours, ctx.now)
        flag = " :warning:" if promise.due_at < ctx.now else ""
        line = f"#{promise.id} *{promise.client.name}*: {_short(promise.text)}. It's {when}.{flag}"
        entries.append(
            _Entry(
                full=(Section(line), nudges.promise_buttons(promise.id)),
                line=Section(line, button=promises.kept_button(promise.id)),
            )
        )
    return _Part(
        "Promises by due date", tuple(entries), open_promises.total, "…and {count} more: /promise list"
    )


def _appointments(ctx: Context, appointments: repo.Page[Appointment]) -> _Part:
    entries = []
    today = ctx.now.astimezone(ctx.tz).date()
    for appointment in appointments.items:
        client = appointment.client
        when = texts.window(appointment.window_start, appointment.window_end, ctx.tz, now=ctx.now)
        is_today = appointment.window_start.astimezone(ctx.tz).date() == today
        section = Section(
            f"*{client.name}*: {when}. Contact: {nudges.contact(client)}.",
            button=nudges.running_late_button(appointment.id) if is_today else None,
        )
        entries.append(_Entry(full=(section,), line=section))
    return _Part(
        "Appointments coming up", tuple(entries), appointments.total, "…and {count} more: /visit list"
    )


def checkins_due(ctx: Context) -> list[Client]:
    """The technician's own clients whose check-in is due and not snoozed, longest overdue first."""
    owned = repo.owned_clients_not_snoozed(ctx.session, owner_id=ctx.technician.id, now=ctx.now)
    return sorted((c for c in owned if nudges.checkin_due_at(c) <= ctx.now), key=nudges.checkin_due_at)


def _checkins(ctx: Context, clients: Sequence[Client]) -> _Part:
    entries = []
    for client in clients[:MAX_SHOWN]:
        line = (
            f"*{client.name}*: {nudges.since_last_touch(client, ctx.now)} "
            f"(every {client.checkin_cadence_days} days). Contact: {nudges.contact(client)}."
        )
        buttons = nudges.checkin_buttons(client.id)
        entries.append(_Entry(full=(Section(line), buttons), line=Section(line, button=buttons.buttons[0])))
    return _Part(
        "Check-ins due", tuple(entries), len(clients), "…and {count} more: the reminders bring each one"
    )


def _risks(ctx: Context) -> _Part:
    """Clients at risk that are the technician's: they own them, or the unhappy word was about them."""
    me = ctx.technician.id
    risks = ctx.session.scalars(
        select(Risk)
        .join(Client, Client.id == Risk.client_id)
        .options(joinedload(Risk.client), joinedload(Risk.feedback))
        .where(
            Risk.closed_at.is_(None),
            Client.archived_at.is_(None),
            or_(Client.owner_id == me, Risk.technician_id == me),
        )
        .order_by(Risk.opened_at)
    ).all()
    entries = []
    for risk in risks[:MAX_SHOWN]:
        client = risk.client
        days = (ctx.now - risk.opened_at).days
        said = ""
        if risk.feedback is not None:
            given = risk.feedback
            words = f": “{_short(given.comment, 120)}”" if given.comment else ""
            on = texts.day(given.given_at, ctx.tz)
            said = f" ({feedback.face(given.score)} {given.score}/5 on {on}{words})"
        if risk.repaired_at is not None:
            state = f"Repair logged {texts.day(risk.repaired_at, ctx.tz)}: record their next word."
            actions = feedback.mood_buttons(client.id)
        else:
            state = "No repair logged yet: call them, own it, fix it."
            actions = Actions((feedback.repair_button(risk.id),))
        line = f":rotating_light: *{client.name}*: at risk for {_plural(days, 'day')}{said}. {state}"
        entries.append(_Entry(full=(Section(line), actions), line=Section(line, button=actions.buttons[0])))
    return _Part(
        "Clients at risk", tuple(entries), len(risks), "…and {count} more: the digest lists them all"
    )


def _notices(ctx: Context) -> _Part:
    found = ctx.session.scalars(
        select(Notice)
        .options(joinedload(Notice.client))
        .where(
            Notice.technician_id == ctx.technician.id,
            Notice.acknowledged_at.is_(None),
            Notice.window_start > ctx.now,
        )
        .order_by(Notice.window_start)
    ).all()
    entries = []
    for notice in found[:MAX_SHOWN]:
        line = (
            f":loudspeaker: *{notice.client.name}*: {_short(notice.what, 120)}, "
            f"{notices.when(notice, ctx.tz, ctx.now)}. Not acknowledged yet."
        )
        actions = notices.buttons(notice.id)
        entries.append(_Entry(full=(Section(line), actions), line=Section(line, button=actions.buttons[0])))
    return _Part(
        "Change notices not acknowledged", tuple(entries), len(found), "…and {count} more: /visit notify list"
    )


def _asks(ctx: Context) -> _Part:
    owned = ctx.session.scalars(
        select(Client).where(Client.owner_id == ctx.technician.id, Client.archived_at.is_(None))
    ).all()
    due = sorted((c for c in owned if feedback.ask_due_at(c) <= ctx.now), key=feedback.ask_due_at)
    entries = []
    for client in due[:MAX_SHOWN]:
        heard = client.last_feedback_at
        since = f"last word {texts.day(heard, ctx.tz, now=ctx.now)}" if heard else "no word from them yet"
        line = f":speech_balloon: *{client.name}*: ask how we're doing ({since})."
        actions = feedback.ask_buttons(client.id)
        entries.append(_Entry(full=(Section(line), actions), line=Section(line, button=actions.buttons[0])))
    return _Part(
        "Ask how we're doing", tuple(entries), len(due), "…and {count} more: the reminders bring each one"
    )


def _needs(ctx: Context) -> _Part:
    spotted = proactive.spotted(ctx.session, owner_id=ctx.technician.id, now=ctx.now)
    entries = []
    for need, client in spotted[:MAX_SHOWN]:
        days = proactive.visit_days(ctx.session, need, ctx.tz)
        line = f":bulb: {proactive.explained(need, client, ctx.tz, days)}"
        actions = proactive.buttons(need)
        entries.append(_Entry(full=(Section(line), actions), line=Section(line, button=actions.buttons[0])))
    more = "…and {count} more: they show here as you deal with these (Raised it with them, Not useful)"
    return _Part("Needs spotted", tuple(entries), len(spotted), more)


def _zone_text(ctx: Context) -> str:
    technician = ctx.technician
    platform = ctx.platform_name
    if technician.timezone_override:
        profile = f"; your {platform} profile says {technician.timezone}" if technician.timezone else ""
        return f"{technician.timezone_override}, your choice{profile}"
    if technician.timezone:
        return f"{technician.timezone}, from your {platform} profile"
    return f"{ctx.tz.key} for now: I haven't read your {platform} profile yet"


def _settings(ctx: Context, hours: WorkingHours) -> list[Block]:
    muted = nudges.muted_kinds(ctx.technician)
    wanted = [label.lower() for kind, label in nudges.KINDS if kind not in muted]
    off = [label.lower() for kind, label in nudges.KINDS if kind in muted]
    kinds = ", ".join(wanted) if wanted else "none: every kind is turned off"
    if off and wanted:
        kinds += f". Off: {', '.join(off)}"
    paused = preferences.paused_until(ctx, hours)
    lines = [
        f":clock8: Working hours: {preferences.hours_text(hours)}",
        f":earth_africa: Time zone: {_zone_text(ctx)}",
        f":palm_tree: Reminders paused until {paused}" if paused else ":bell: Reminders: on",
        f":ballot_box_with_check: Reminders you get: {kinds}",
    ]
    return [
        Header("Your settings"),
        Section("\n".join(lines)),
        Actions((Button("Change settings", SETTINGS, "open"),)),
    ]


def _team_line(technician: Technician, counts: dict[str, dict[int, int]], checkins: dict[int, int]) -> str:
    tech = technician.id
    name = technician.display_name or technician.user_id
    parts = [
        f"{_plural(counts['visits'].get(tech, 0), 'visit')} this week",
        f"{_plural(counts['followups'].get(tech, 0), 'follow-up')} unsent over 24 h",
        f"{_plural(counts['calls'].get(tech, 0), 'call')} to make",
        f"{_plural(counts['promises'].get(tech, 0), 'promise')} overdue",
        f"{_plural(checkins.get(tech, 0), 'client')} due a check-in",
    ]
    return f"*{_short(name, 80)}*: " + " · ".join(parts)


def _team(ctx: Context) -> list[Block]:
    """Counts per technician, text only: nothing here acts on someone else's items."""
    session, workspace = ctx.session, ctx.workspace_id
    local_today = ctx.now.astimezone(ctx.tz).date()
    week_start = datetime.combine(local_today - timedelta(days=local_today.weekday()), time(), tzinfo=ctx.tz)
    counts = {
        "visits": repo.visit_counts(session, workspace_id=workspace, since=week_start),
        "followups": repo.unsent_followup_counts(
            session, workspace_id=workspace, before=ctx.now - FOLLOWUPS_LATE_AFTER
        ),
        "calls": repo.open_call_counts(session, workspace_id=workspace),
        "promises": repo.overdue_promise_counts(session, workspace_id=workspace, now=ctx.now),
    }
    checkins: dict[int, int] = {}
    for client in repo.owned_clients(session, workspace_id=workspace):
        if client.owner_id is not None and nudges.checkin_due_at(client) <= ctx.now:
            checkins[client.owner_id] = checkins.get(client.owner_id, 0) + 1
    technicians = repo.workspace_technicians(session, workspace_id=workspace)
    lines = [_team_line(technician, counts, checkins) for technician in technicians]
    sections: list[str] = []
    placed = 0
    for line in lines:
        if sections and len(sections[-1]) + 1 + len(line) <= TEAM_SECTION_CHARS:
            sections[-1] += "\n" + line
        elif len(sections) < TEAM_SECTIONS:
            sections.append(line)
        else:
            break
        placed += 1
    blocks: list[Block] = [Header("Team overview")]
    blocks.extend(Section(text) for text in sections)
    if not lines:
        blocks.append(Section("Nobody has logged anything yet."))
    if placed < len(lines):
        blocks.append(Note(f"…and {len(lines) - placed} more: the digest covers everyone."))
    blocks.append(Actions((Button("Send me the digest", DIGEST_REQUEST, "now"),)))
    return blocks


def _notice(notice: Reply | None) -> list[Block]:
    if notice is None:
        return []
    shown: list[Block] = [block for block in notice.blocks if not isinstance(block, Header)]
    return shown[:NOTICE_BLOCKS]


def build(ctx: Context, notice: Reply | None = None) -> Reply:
    """The technician's Home: the answer to their last button, their open items, settings, the team."""
    tech = ctx.technician.id
    hours = nudges.working_hours(ctx.technician, ctx.tz)
    builders: list[Callable[[], _Part]] = [
        lambda: _risks(ctx),
        lambda: _followups(ctx, repo.unsent_followups(ctx.session, technician_id=tech, limit=MAX_SHOWN)),
        lambda: _calls(ctx, repo.open_call_tasks(ctx.session, technician_id=tech, limit=MAX_SHOWN)),
        lambda: _promises(ctx, hours, repo.open_promises(ctx.session, technician_id=tech, limit=MAX_SHOWN)),
        lambda: _appointments(
            ctx, repo.upcoming_appointments(ctx.session, technician_id=tech, now=ctx.now, limit=MAX_SHOWN)
        ),
        lambda: _notices(ctx),
        lambda: _checkins(ctx, checkins_due(ctx)),
        lambda: _asks(ctx),
        lambda: _needs(ctx),
    ]
    parts = [part for part in (build_part() for build_part in builders) if part.entries]

    top: list[Block] = [Header("What's open"), *_notice(notice)]
    paused = preferences.paused_until(ctx, hours)
    if paused:
        top.append(Section(f":palm_tree: Reminders paused until {paused}. Change it under Your settings."))
    if not parts:
        top.append(Section("Nothing open: no follow-ups, calls, promises or check-ins waiting. :sparkles:"))
    bottom = [*(_team(ctx) if ctx.is_manager else []), *_settings(ctx, hours)]

    blocks = list(top)
    for part, allowance in zip(parts, _share(parts, HOME_BLOCKS - len(top) - len(bottom)), strict=True):
        blocks.extend(part.render(allowance))
    blocks.extend(bottom)
    open_items = sum(part.total for part in parts)
    return Reply(summary=f"{_plural(open_items, 'open item')}", blocks=tuple(blocks), tone="info")
