"""What a client's one-click link does: show a small page, and on their confirmation, record their answer.

Opening a link changes nothing: mail scanners (Microsoft Defender's Safe Links, Mimecast and others) open
every link in an e-mail to check it, and a link that acted when opened would acknowledge notices nobody
read and rate visits nobody rated. The page asks for one tap (and offers a comment box); that tap
records the answer. A second tap changes nothing but the mood and the comment. The page names only the
client and the date: a link passed on shows nobody anything about anyone else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import feedback, notices, nudges
from bot.links import MOOD_SCORES, Claim, LinkRefused, Links, Mood, Purpose
from storage.models import Client, Feedback, Notice, Technician, Visit

MAX_COMMENT = 1000

State = Literal["acknowledge", "acknowledged", "rate", "rated", "refused", "expired", "gone", "off"]


@dataclass(frozen=True)
class Page:
    """What the link page shows; the web adapter turns it into HTML."""

    status: int
    state: State
    purpose: Purpose | None = None
    client: str | None = None
    date: str | None = None
    # The mood shown as chosen: the one the client gave before, else the one their link was for.
    mood: Mood | None = None
    answered: bool = False


def _long_day(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%A} {local.day} {local:%B %Y}"


def _zone(technician: Technician | None, default: ZoneInfo) -> ZoneInfo:
    return (nudges.technician_zone(technician) if technician is not None else None) or default


def _mood_of(score: int) -> Mood:
    return Mood.HAPPY if score >= 4 else Mood.NEUTRAL if score == 3 else Mood.UNHAPPY


@dataclass(frozen=True)
class _Subject:
    claim: Claim
    client: Client
    date: str
    notice: Notice | None = None
    visit: Visit | None = None


def _subject(
    session: Session, links: Links | None, token: str, now: datetime, default: ZoneInfo
) -> _Subject | Page:
    if links is None:
        return Page(404, "off")
    try:
        claim = links.verify(token, now=now)
    except LinkRefused as refused:
        return Page(410, "expired") if refused.expired else Page(404, "refused")
    if claim.purpose is Purpose.ACKNOWLEDGE:
        notice = session.get(Notice, claim.subject_id)
        if notice is None or notice.workspace_id != claim.workspace_id:
            return Page(410, "gone")
        tz = _zone(notice.technician, default)
        return _Subject(claim, notice.client, _long_day(notice.window_start, tz), notice=notice)
    if claim.purpose is Purpose.RATE_VISIT:
        visit = session.get(Visit, claim.subject_id)
        if visit is None or visit.workspace_id != claim.workspace_id:
            return Page(410, "gone")
        tz = _zone(visit.technician, default)
        return _Subject(claim, visit.client, _long_day(visit.visited_at, tz), visit=visit)
    client = session.get(Client, claim.subject_id)
    if client is None or client.workspace_id != claim.workspace_id:
        return Page(410, "gone")
    return _Subject(claim, client, _long_day(claim.issued_at, _zone(client.owner, default)))


def _given(session: Session, subject: _Subject) -> Feedback | None:
    return session.scalars(
        select(Feedback).where(
            Feedback.workspace_id == subject.claim.workspace_id, Feedback.link_key == subject.claim.key
        )
    ).first()


def show(
    session: Session,
    links: Links | None,
    token: str,
    *,
    now: datetime,
    default_tz: ZoneInfo,
    mood: str | None,
) -> Page:
    """The page a link opens: it asks for the tap that records the answer, and changes nothing."""
    subject = _subject(session, links, token, now, default_tz)
    if isinstance(subject, Page):
        return subject
    purpose, name = subject.claim.purpose, subject.client.name
    if subject.notice is not None:
        state: State = "acknowledged" if subject.notice.acknowledged_at is not None else "acknowledge"
        return Page(200, state, purpose, name, subject.date)
    given = _given(session, subject)
    chosen = _mood_of(given.score) if given is not None else Mood(mood) if mood in set(Mood) else None
    return Page(200, "rate", purpose, name, subject.date, chosen, answered=given is not None)


def _clean(comment: str | None) -> str | None:
    if comment is None:
        return None
    # Control characters have no place in a comment shown to technicians; newlines become spaces.
    text = "".join(char if char.isprintable() else " " for char in comment)
    text = " ".join(text.split())[:MAX_COMMENT]
    return text or None


def answer(
    session: Session,
    links: Links | None,
    token: str,
    *,
    now: datetime,
    default_tz: ZoneInfo,
    mood: str | None,
    comment: str | None,
) -> Page:
    """The client's tap: acknowledge the notice, or record their mood and words (again: change them)."""
    subject = _subject(session, links, token, now, default_tz)
    if isinstance(subject, Page):
        return subject
    purpose, name = subject.claim.purpose, subject.client.name
    if subject.notice is not None:
        notices.acknowledge(subject.notice, via="link", now=now)
        return Page(200, "acknowledged", purpose, name, subject.date)
    if mood not in set(Mood):
        # No mood chosen (a form sent empty): ask again, nothing stored.
        return Page(400, "rate", purpose, name, subject.date)
    chosen = Mood(mood)
    visit = subject.visit
    feedback.record(
        session,
        client=subject.client,
        score=MOOD_SCORES[chosen],
        comment=_clean(comment),
        source="link",
        now=now,
        visit_id=visit.id if visit is not None else None,
        technician_id=visit.technician_id if visit is not None else subject.client.owner_id,
        link_key=subject.claim.key,
    )
    return Page(200, "rated", purpose, name, subject.date, chosen, answered=True)
