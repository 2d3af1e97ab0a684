"""The port through which nudges leave: a `Notifier` delivers a reply to a person on a chat platform."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.replies import Attachment, Reply


@dataclass(frozen=True)
class Delivered:
    """Where the message landed, so it can be updated later."""

    channel: str
    ts: str


class RateLimited(Exception):
    """The platform asked us to wait `retry_after` seconds before sending to this workspace again."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after:g}s")
        self.retry_after = retry_after


class PermanentFailure(Exception):
    """Sending can never succeed (the user is gone, the token revoked); `reason` is shown to managers."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TemporaryFailure(Exception):
    """Sending failed in a way that may pass (a 5xx, a time-out): the message may or may not have arrived."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Notifier(Protocol):
    """Delivers replies to people and channels; every method raises one of the three failures above."""

    def send(self, *, recipient: str, reply: Reply, key: str) -> Delivered:
        """Send `reply` to `recipient` directly; `key` identifies the nudge, for spotting duplicates."""
        ...

    def post(self, *, channel: str, reply: Reply, key: str, thread: str | None = None) -> Delivered:
        """Post `reply` in a channel (or a person's DM, by their user id), in `thread` when given."""
        ...

    def upload(self, *, channel: str, file: Attachment, thread: str | None = None) -> None:
        """Share a file in a channel (or a person's DM, by their user id), in `thread` when given."""
        ...
