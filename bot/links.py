"""One-click links in clients' e-mails: signed, expiring, bound to one notice, visit or request for feedback.

A link carries no login, so everything it may do is in the link itself and signed with LINK_SECRET
(HMAC-SHA256): what it is for (acknowledge a notice, rate a visit, answer "how are we doing?"), the
workspace, the notice's or visit's or client's id, and when it was made. Changing any of it breaks the
signature; a link older than 30 days has expired. Ids are not secret, but without the secret nobody can
make a link for another one.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

LIFETIME = timedelta(days=30)
# A link made by a process whose clock runs a little ahead is still good.
CLOCK_SKEW = timedelta(minutes=5)
# 128 bits of signature: far beyond guessing, and the links stay short enough for any mail program.
MAC_BYTES = 16
PATH = "/r/"


class Purpose(enum.StrEnum):
    """What a link is for."""

    ACKNOWLEDGE = "n"  # a change notice
    RATE_VISIT = "v"  # "how did we do?" after a visit
    ASK = "a"  # "how are we doing?", the owner's periodic question


class Mood(enum.StrEnum):
    """The three answers a feedback link offers, as the link's `m` parameter names them."""

    HAPPY = "happy"
    NEUTRAL = "ok"
    UNHAPPY = "unhappy"


# Scores are 1 (unhappy) to 5 (happy); the links give the ends and the middle.
MOOD_SCORES = {Mood.HAPPY: 5, Mood.NEUTRAL: 3, Mood.UNHAPPY: 1}
MOOD_FACES = {Mood.HAPPY: "😀", Mood.NEUTRAL: "😐", Mood.UNHAPPY: "🙁"}

_TOKEN = re.compile(r"^([nva])([0-9a-z]{1,13})-([0-9a-z]{1,13})-([0-9a-z]{1,13})-([A-Za-z0-9_-]{22})$")


@dataclass(frozen=True)
class Claim:
    """What a verified link says: its purpose, the workspace, the subject's id and when it was made."""

    purpose: Purpose
    workspace_id: int
    subject_id: int
    issued_at: datetime

    @property
    def key(self) -> str:
        """What the answer is bound to: one answer per notice, per visit, per question asked."""
        if self.purpose is Purpose.ASK:
            return f"ask:{self.subject_id}:{int(self.issued_at.timestamp())}"
        return f"{'notice' if self.purpose is Purpose.ACKNOWLEDGE else 'visit'}:{self.subject_id}"


class LinkRefused(Exception):
    """A link that must change nothing: `expired` (it was real, and is too old) or not ours at all."""

    def __init__(self, expired: bool) -> None:
        super().__init__("expired" if expired else "not a valid link")
        self.expired = expired


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text


@dataclass(frozen=True)
class Links:
    """Makes and checks the links, for the public address the bot is reached at."""

    base_url: str
    secret: str

    def _mac(self, body: str) -> str:
        # The key is derived for links alone, so the secret could never sign anything else of ours.
        key = hmac.new(self.secret.encode(), b"nudgebot one-click links v1", hashlib.sha256).digest()
        digest = hmac.new(key, body.encode(), hashlib.sha256).digest()[:MAC_BYTES]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def token(self, purpose: Purpose, *, workspace_id: int, subject_id: int, now: datetime) -> str:
        """The signed part of a link."""
        body = f"{purpose.value}{_b36(workspace_id)}-{_b36(subject_id)}-{_b36(int(now.timestamp()))}"
        return f"{body}-{self._mac(body)}"

    def url(
        self, purpose: Purpose, *, workspace_id: int, subject_id: int, now: datetime, mood: Mood | None = None
    ) -> str:
        """The whole link; a mood only preselects the answer on the page (it is the client's to change)."""
        link = (
            self.base_url
            + PATH
            + self.token(purpose, workspace_id=workspace_id, subject_id=subject_id, now=now)
        )
        return f"{link}?m={mood.value}" if mood is not None else link

    def moods(
        self, purpose: Purpose, *, workspace_id: int, subject_id: int, now: datetime
    ) -> dict[Mood, str]:
        """The three "how did we do?" links, by mood."""
        return {
            mood: self.url(purpose, workspace_id=workspace_id, subject_id=subject_id, now=now, mood=mood)
            for mood in Mood
        }

    def by_face(
        self, purpose: Purpose, *, workspace_id: int, subject_id: int, now: datetime
    ) -> dict[str, str]:
        """The three links as an e-mail lists them: 😀, 😐 and 🙁, each with its address."""
        urls = self.moods(purpose, workspace_id=workspace_id, subject_id=subject_id, now=now)
        return {MOOD_FACES[mood]: url for mood, url in urls.items()}

    def verify(self, token: str, *, now: datetime) -> Claim:
        """What a link's token says, or `LinkRefused` when it was altered, forged or is too old."""
        match = _TOKEN.match(token)
        if match is None:
            raise LinkRefused(expired=False)
        # The signature is base64url, which has "-" in its alphabet too: the body ends where it begins.
        body = token[: match.start(5) - 1]
        if not hmac.compare_digest(self._mac(body), match[5]):
            raise LinkRefused(expired=False)
        issued = datetime.fromtimestamp(int(match[4], 36), UTC)
        if issued > now + CLOCK_SKEW:
            raise LinkRefused(expired=False)
        if now - issued > LIFETIME:
            raise LinkRefused(expired=True)
        return Claim(Purpose(match[1]), int(match[2], 36), int(match[3], 36), issued)
