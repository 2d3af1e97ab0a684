"""The port through which nudges leave: a `Notifier` delivers a reply to a person or a channel.

An `Address` says where, in the platform's own terms: on Slack a user or channel id is enough; on
Teams a conversation id with the service URL it lives at (and, to open a person's 1:1 chat when none is
known yet, their member id and tenant).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from bot.replies import Attachment, Reply


@dataclass(frozen=True)
class Address:
    """Where a message goes: `target` is a user or channel id (Slack) or a conversation id (Teams; empty
    when a person's 1:1 chat has still to be opened)."""

    platform: str
    target: str
    endpoint: str | None = None
    member: str | None = None
    tenant: str | None = None
    # "personal" or "channel" where the platform tells them apart (threads exist only in channels).
    kind: str | None = None


@dataclass(frozen=True)
class Delivered:
    """Where the message landed, so it can be updated later; `opened` when a new 1:1 chat was opened
    for it (at `channel`), which the caller remembers for next time."""

    channel: str
    ts: str
    opened: bool = False


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

    def send(self, *, recipient: Address, reply: Reply, key: str) -> Delivered:
        """Send `reply` to a person directly; `key` identifies the nudge, for spotting duplicates."""
        ...

    def post(self, *, channel: Address, reply: Reply, key: str, thread: str | None = None) -> Delivered:
        """Post `reply` in a channel (or a person's direct chat), in `thread` when given."""
        ...

    def upload(self, *, channel: Address, file: Attachment, thread: str | None = None) -> None:
        """Share a file in a channel (or a person's direct chat), in `thread` when given."""
        ...


class Notifiers:
    """One Notifier per platform behind the Notifier interface: each address goes to its platform's."""

    def __init__(self, by_platform: Mapping[str, Notifier]) -> None:
        self.by_platform = dict(by_platform)

    def _for(self, address: Address) -> Notifier:
        notifier = self.by_platform.get(address.platform)
        if notifier is None:
            # A workspace of a platform this deployment no longer serves: nothing can reach it.
            raise PermanentFailure(f"{address.platform}_off")
        return notifier

    def send(self, *, recipient: Address, reply: Reply, key: str) -> Delivered:
        """Send through the recipient's platform."""
        return self._for(recipient).send(recipient=recipient, reply=reply, key=key)

    def post(self, *, channel: Address, reply: Reply, key: str, thread: str | None = None) -> Delivered:
        """Post through the channel's platform."""
        return self._for(channel).post(channel=channel, reply=reply, key=key, thread=thread)

    def upload(self, *, channel: Address, file: Attachment, thread: str | None = None) -> None:
        """Upload through the channel's platform."""
        self._for(channel).upload(channel=channel, file=file, thread=thread)
