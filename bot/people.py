"""Who is asking: neutral identities and requests, whatever the chat platform."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    """A person in a workspace, by the platform's ids."""

    workspace: str
    user: str


@dataclass(frozen=True)
class Invocation:
    """A typed command: `/visit …` or `/promise …`; `request_key` makes a replay harmless."""

    actor: Actor
    command: str
    text: str
    request_key: str | None = None


@dataclass(frozen=True)
class Press:
    """A button pressed on one of our messages."""

    actor: Actor
    action: str
    value: str


@dataclass(frozen=True)
class Submission:
    """A filled-in form; `request_key` is unique per form, so a double submit is harmless."""

    actor: Actor
    kind: str
    values: dict[str, str]
    ticked: frozenset[str]
    request_key: str | None = None
    # For `Choices` fields: the values ticked, by field id.
    chosen: dict[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Profile:
    """What the chat platform tells us about a person."""

    display_name: str | None
    timezone: str | None
