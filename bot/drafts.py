"""The follow-up e-mail a technician sends after a visit: what was done, time spent, what is left."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from bot import texts
from bot.grammar.durations import format_duration
from bot.replies import Block, Link, Preformatted, Section

# Mail clients and Slack both cope with links up to about this long; longer drafts get a subject-only link.
MAX_MAILTO = 1800


@dataclass(frozen=True)
class Draft:
    """A ready-to-send e-mail."""

    to: str | None
    subject: str
    body: str

    def mailto(self) -> str:
        """A mailto: link that opens the draft in the technician's mail program."""
        address = quote(self.to or "", safe="@+")
        link = f"mailto:{address}?subject={quote(self.subject)}&body={quote(self.body)}"
        if len(link) > MAX_MAILTO:
            link = f"mailto:{address}?subject={quote(self.subject)}"
        keep = len(self.subject)
        while len(link) > MAX_MAILTO and keep:
            # Even the subject alone is too long (a long non-Latin client name): shorten it, keep the address.
            keep -= 1
            link = f"mailto:{address}?subject={quote(self.subject[:keep] + '…')}"
        return link


def addressed(what: str, *, client_name: str, contact_name: str | None, contact_email: str | None) -> Section:
    """Who a drafted e-mail is for, or how to add the address it lacks."""
    if contact_email:
        return Section(f"Here's {what} for {contact_name or contact_email} ({contact_email}):")
    return Section(
        f"Here's {what}. I don't have an e-mail address for {client_name} yet: add one with "
        f"/visit contact {client_name} Jane Roe jane@example.com +1 555 0100"
    )


def shown(draft: Draft) -> list[Block]:
    """A draft to copy, and the link that opens it in a mail program."""
    return [
        Preformatted(f"Subject: {draft.subject}\n\n{draft.body}"),
        Section("Send it from your mail program:", link=Link("Open in e-mail", draft.mailto())),
    ]


def followup(
    *,
    client_name: str,
    contact_name: str | None,
    contact_email: str | None,
    technician_name: str | None,
    visited_at: datetime,
    minutes: int,
    work_done: str,
    remaining: str | None,
    tz: ZoneInfo,
    announced: Sequence[str] = (),
    rate: Mapping[str, str] | None = None,
) -> Draft:
    """Draft the visit summary from what the technician typed; `announced` are the changes the client was
    told of beforehand, `rate` the "how did we do?" links by face."""
    left = remaining or "Nothing is left open from this visit."
    lines = [
        _greeting(contact_name),
        "",
        f"Thank you for having me at {client_name} on {texts.day(visited_at, tz)}. "
        "Here is a short summary of the visit.",
        "",
    ]
    lines += [f"As announced: {change}" for change in announced]
    lines += [
        f"What was done: {work_done}",
        f"Time spent: {format_duration(minutes)}",
        f"What is left: {left}",
        "",
        "If anything isn't working as it should, reply to this e-mail or give me a call.",
    ]
    if rate:
        lines += ["", "How did we do? One click tells us:", *(f"{face} {url}" for face, url in rate.items())]
    lines += _signature(technician_name)
    subject = f"Visit summary: {client_name}, {texts.day(visited_at, tz)}"
    return Draft(to=contact_email, subject=subject, body="\n".join(lines))


def _greeting(contact_name: str | None) -> str:
    names = (contact_name or "").split()
    return f"Hello {names[0]}," if names else "Hello,"


def _signature(technician_name: str | None) -> list[str]:
    return ["", "Best regards,", *([technician_name] if technician_name else [])]


def notice(
    *,
    client_name: str,
    contact_name: str | None,
    contact_email: str | None,
    technician_name: str | None,
    technician_email: str | None,
    what: str,
    when: str,
    impact: str | None,
    acknowledge: str | None,
) -> Draft:
    """Tell the client before changing their systems: what, when, what they will notice, who to call."""
    lines = [
        _greeting(contact_name),
        "",
        f"We are planning a change to the systems at {client_name}, and want you to know before we make it.",
        "",
        f"What will change: {what}",
        f"When: {when}",
        f"What you will notice: {impact or 'it may be unavailable for a few minutes during that time.'}",
        "",
    ]
    if acknowledge:
        lines += ["Please confirm you have read this notice (one click):", acknowledge]
    else:
        lines.append("Please reply to this e-mail to confirm you have read this notice.")
    reach = (
        f"call me or write to {technician_email}" if technician_email else "call me or reply to this e-mail"
    )
    lines += ["", f"If the time doesn't suit you, or you have any questions, {reach}."]
    lines += _signature(technician_name)
    return Draft(
        to=contact_email, subject=f"Planned change at {client_name}: {what}"[:150], body="\n".join(lines)
    )


def ask(
    *,
    client_name: str,
    contact_name: str | None,
    contact_email: str | None,
    technician_name: str | None,
    rate: Mapping[str, str] | None,
) -> Draft:
    """Ask the client how we are doing, with the managers' checklist (and one-click answers, when on)."""
    lines = [
        _greeting(contact_name),
        "",
        f"It has been a while since we asked how we are doing for {client_name}, and your answer "
        "matters to us:",
        "",
        "- Have we delivered on time?",
        "- Are we meeting your goals?",
        "- Has what we did worked?",
        "",
    ]
    if rate:
        lines += ["One click tells us:", *(f"{face} {url}" for face, url in rate.items()), ""]
    lines.append("Or simply reply to this e-mail: a line or two is plenty.")
    lines += _signature(technician_name)
    return Draft(to=contact_email, subject=f"How are we doing, {client_name}?"[:150], body="\n".join(lines))
