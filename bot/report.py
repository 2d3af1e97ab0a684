"""`/visit report <client> [month]`: a client-facing summary of the month, to paste into an e-mail."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time

from bot import nudges, texts
from bot.context import Context, Refused
from bot.drafts import Draft
from bot.grammar import commands as grammar
from bot.grammar.durations import format_duration
from bot.replies import Attachment, Block, Link, Note, Preformatted, Reply, Section, error
from storage import repositories as repo
from storage.models import Client, Promise, Technician

# Slack shows at most 3,000 characters in a section; the fences and the escapes of & < > (up to five
# characters each) must fit too, so the text in the reply is cut well before, at a line break.
REPLY_TEXT_LIMIT = 2800
_ESCAPED = re.compile(r"[&<>]")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Month:
    """A local calendar month: its first day, its bounds as instants, and whether it is still running."""

    first: date
    start: datetime
    end: datetime
    current: bool

    @property
    def name(self) -> str:
        """`November 2026`."""
        return f"{self.first:%B} {self.first.year}"


def _month(ctx: Context, first: date | None) -> Month:
    today = ctx.now.astimezone(ctx.tz).date()
    first = first or today.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return Month(
        first=first,
        start=datetime.combine(first, time(), tzinfo=ctx.tz),
        end=datetime.combine(following, time(), tzinfo=ctx.tz),
        current=first == today.replace(day=1),
    )


def looks_after(ctx: Context, client: Client) -> bool:
    """True when the asker owns the client or has a visit, appointment or promise with it."""
    if client.owner_id == ctx.technician.id:
        return True
    return repo.works_with(ctx.session, technician_id=ctx.technician.id, client_id=client.id)


def _promise_state(ctx: Context, promise: Promise) -> str:
    if promise.done_at is not None:
        timing = "kept on time" if promise.done_at <= promise.due_at else "kept late"
        return f"{timing}, {texts.day(promise.done_at, ctx.tz, now=ctx.now)}"
    return "still open" if promise.due_at < ctx.now else "not yet due"


def _due(ctx: Context, promise: Promise) -> str:
    # "By Friday" is the end of Friday where the promise was made; say "Fri 27 Nov", not "Fri 27 Nov, 4:59pm".
    promiser = ctx.session.get(Technician, promise.technician_id)
    zone = nudges.working_hours(promiser, ctx.tz).tz if promiser is not None else ctx.tz
    if promise.due_at.astimezone(zone).time() == time(23, 59):
        return texts.day(promise.due_at, zone, now=ctx.now)
    return texts.due(promise.due_at, ctx.tz, now=ctx.now)


def report_text(ctx: Context, client: Client, month: Month) -> tuple[str, str, int, int]:
    """The e-mail (with its To and Subject lines), its subject, and the month's visit count and minutes."""
    visits = repo.client_visits(ctx.session, client_id=client.id, start=month.start, end=month.end)
    promised = repo.client_promises_due_or_kept(
        ctx.session, client_id=client.id, start=month.start, end=month.end
    )
    listed = {promise.id for promise in promised}
    others = [
        promise
        for promise in repo.client_open_promises(ctx.session, client_id=client.id, made_before=month.end)
        if promise.id not in listed
    ]
    so_far = " so far" if month.current else ""
    subject = f"{client.name}: monthly report, {month.name}"
    first_name = (client.contact_name or "").split()
    lines: list[str] = []
    if client.contact_email:
        name = client.contact_name
        lines.append(f"To: {name} <{client.contact_email}>" if name else f"To: {client.contact_email}")
    lines += [
        f"Subject: {subject}",
        "",
        f"Hello {first_name[0]}," if first_name else "Hello,",
        "",
        f"Here is a summary of our work for {client.name} in {month.name}{so_far}.",
        "",
    ]
    minutes = sum(visit.minutes for visit in visits)
    if visits:
        lines.append("Visits")
        for visit in visits:
            who = visit.technician.display_name or "our technician"
            when = texts.day(visit.visited_at, ctx.tz, now=ctx.now)
            lines.append(f"- {when}, {who} ({format_duration(visit.minutes)}): {visit.work_done}")
            if visit.remaining:
                lines.append(f"  Left: {visit.remaining}")
        count = f"{len(visits)} visit" + ("s" if len(visits) != 1 else "")
        lines += ["", f"Total time: {format_duration(minutes)} over {count}", ""]
    else:
        lines += [f"No visits in {month.name}{so_far}.", ""]
    if promised:
        lines.append(f"Promises due or kept in {month.name}")
        for promise in promised:
            lines.append(f"- {promise.text} (due {_due(ctx, promise)}): {_promise_state(ctx, promise)}")
        lines.append("")
    # Nothing marks a visit's leftovers done, so the latest visits' word on them is what stands.
    leftovers = [visit for visit in visits if visit.remaining]
    if not visits:
        earlier = repo.last_client_visit(ctx.session, client_id=client.id, before=month.start)
        leftovers = [earlier] if earlier is not None and earlier.remaining else []
    lines.append("Still open")
    for visit in leftovers:
        when = texts.day(visit.visited_at, ctx.tz, now=ctx.now)
        lines.append(f"- {visit.remaining} (left from the visit on {when})")
    for promise in others:
        lines.append(f"- {promise.text} (promised for {_due(ctx, promise)})")
    if not leftovers and not others:
        lines.append("- Nothing: everything we know of is done.")
    lines += ["", "If you have any questions, reply to this e-mail or give us a call.", "", "Best regards,"]
    if ctx.technician.display_name:
        lines.append(ctx.technician.display_name)
    return "\n".join(lines), subject, len(visits), minutes


def slug(name: str) -> str:
    """A file-name-safe version of a client name: `Café Müller GmbH` → `cafe-muller-gmbh`."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return _NOT_SLUG.sub("-", ascii_name).strip("-")[:60].strip("-") or "client"


def _weight(text: str) -> int:
    # What the text weighs once the adapter has escaped & < > for Slack (&amp; is five characters).
    return len(text) + 4 * len(_ESCAPED.findall(text))


def clip_for_reply(text: str, limit: int = REPLY_TEXT_LIMIT) -> tuple[str, bool]:
    """The text cut at a line break to fit a chat message, and whether it was cut."""
    if _weight(text) <= limit:
        return text, False
    kept: list[str] = []
    used = len("…")
    for line in text.split("\n"):
        cost = _weight(line) + 1
        if used + cost > limit:
            break
        kept.append(line)
        used += cost
    if not kept:
        # One enormous first line: cut inside it.
        first = text.split("\n", 1)[0]
        while first and _weight(first) > limit - 2:
            first = first[: len(first) - max(1, (_weight(first) - limit) // 5 + 1)]
        kept = [first]
    return "\n".join(kept) + "\n…", True


def _refusal(ctx: Context, client: Client) -> Refused:
    message = f"Only the technicians who look after {client.name} and managers can produce its report."
    owner = client.owner.display_name if client.owner is not None else None
    if owner:
        message += f" {owner} looks after it and can send it to you."
    mine = repo.first_owned_client_name(ctx.session, owner_id=ctx.technician.id)
    example = f'/visit report "{mine}" last month' if mine else "/visit list"
    return Refused(error(message, example))


def client_report(ctx: Context, command: grammar.ClientReport, client: Client) -> Reply:
    """The month's visits, open items and promises for the client, as text and as a file."""
    if not ctx.is_manager and not looks_after(ctx, client):
        raise _refusal(ctx, client)
    month = _month(ctx, command.month)
    text, subject, count, minutes = report_text(ctx, client, month)
    shown, clipped = clip_for_reply(text) if ctx.shares_files else (text, False)
    filename = f"{slug(client.name)}-{month.first:%Y-%m}.txt"
    so_far = " so far" if month.current else ""
    done = f"{count} visit{'s' if count != 1 else ''}, {format_duration(minutes)}" if count else "no visits"
    blocks: list[Block] = [
        Section(f":page_facing_up: The report for *{client.name}*, {month.name}{so_far}: {done}.")
    ]
    if client.contact_email:
        who = client.contact_name or client.contact_email
        blocks.append(Section(f"It's ready to paste into an e-mail to {who} ({client.contact_email}):"))
    else:
        blocks.append(
            Section(
                f"It's ready to paste into an e-mail. I don't have an e-mail address for {client.name} yet: "
                f"add one with /visit contact {client.name} Jane Roe jane@example.com +1 555 0100"
            )
        )
    blocks.extend(Preformatted(part) for part in _parts(shown, ctx.shares_files))
    if client.contact_email:
        body = text.split("\n\n", 1)[1]
        mailto = Draft(to=client.contact_email, subject=subject, body=body).mailto()
        blocks.append(Section("Send it from your mail program:", link=Link("Open in e-mail", mailto)))
    if not ctx.shares_files:
        # No file on this platform: the whole text is the answer, in as many blocks as it takes.
        return Reply(summary=f"The report for {client.name}, {month.name}", blocks=tuple(blocks), tone="info")
    if clipped:
        blocks.append(Note(f"That's the start: the whole report is in the file {filename}, in your DMs."))
    else:
        blocks.append(Note(f"I'm also sending it to you as a file, {filename}, in your DMs."))
    return Reply(
        summary=f"The report for {client.name}, {month.name}",
        blocks=tuple(blocks),
        tone="info",
        files=(Attachment(filename, subject, text.encode("utf-8"), "text/plain"),),
    )


def _parts(text: str, whole: bool) -> list[str]:
    """The report as one block (already clipped to fit), or where no file comes with it, cut at line
    breaks into blocks that each fit a chat's text limit."""
    if whole:
        return [text]
    parts: list[str] = []
    rest = text
    while rest:
        part, clipped = clip_for_reply(rest)
        if not clipped:
            parts.append(part)
            break
        part = part.removesuffix("\n…")
        parts.append(part)
        rest = rest[len(part) :].lstrip("\n")
    return parts
