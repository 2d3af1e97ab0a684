"""The follow-up e-mail a technician sends after a visit: what was done, time spent, what is left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from bot import texts
from bot.grammar.durations import format_duration

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
) -> Draft:
    """Draft the visit summary from what the technician typed."""
    names = (contact_name or "").split()
    greeting = f"Hello {names[0]}," if names else "Hello,"
    left = remaining or "Nothing is left open from this visit."
    lines = [
        greeting,
        "",
        f"Thank you for having me at {client_name} on {texts.day(visited_at, tz)}. "
        "Here is a short summary of the visit.",
        "",
        f"What was done: {work_done}",
        f"Time spent: {format_duration(minutes)}",
        f"What is left: {left}",
        "",
        "If anything isn't working as it should, reply to this e-mail or give me a call.",
        "",
        "Best regards,",
    ]
    if technician_name:
        lines.append(technician_name)
    subject = f"Visit summary: {client_name}, {texts.day(visited_at, tz)}"
    return Draft(to=contact_email, subject=subject, body="\n".join(lines))
