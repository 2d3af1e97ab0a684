"""Who is asking: neutral identities and requests, whatever the chat platform."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

SLACK = "slack"
TEAMS = "teams"
# How replies name each platform ("your Slack profile", "your Teams profile").
PLATFORM_NAMES = {SLACK: "Slack", TEAMS: "Teams"}
# Platforms where the bot shares files (the report as a .txt); Teams bots send no files in chats.
SHARES_FILES = frozenset({SLACK})

ConversationKind = Literal["personal", "channel", "groupChat"]


@dataclass(frozen=True)
class Actor:
    """A person in a workspace, by the platform's ids: a Slack team and user, or a Teams tenant and the
    person's Microsoft Entra object id."""

    workspace: str
    user: str
    platform: str = SLACK


@dataclass(frozen=True)
class Profile:
    """What the chat platform tells us about a person."""

    display_name: str | None
    timezone: str | None
    email: str | None = None
    full_name: str | None = None


@dataclass(frozen=True)
class Conversation:
    """Where a request was written, kept so the bot can write there later without being asked.

    Slack needs none of this (a user id is enough to DM someone); Teams does: `endpoint` is the
    conversation's service URL, and `team` the team a channel belongs to.
    """

    id: str
    kind: ConversationKind
    endpoint: str
    team: str | None = None


@dataclass(frozen=True)
class Seen:
    """What a request shows about its sender besides who they are, stored as it arrives.

    `member` is the person's id within the bot's conversations (Teams gives each bot its own), needed
    to open a 1:1 chat with them when none is known yet.
    """

    profile: Profile | None = None
    conversation: Conversation | None = None
    member: str | None = None


@dataclass(frozen=True)
class Invocation:
    """A typed command: `/visit …` or `/promise …`; `request_key` makes a replay harmless."""

    actor: Actor
    command: str
    text: str
    request_key: str | None = None
    seen: Seen | None = None


@dataclass(frozen=True)
class Press:
    """A button pressed on one of our messages."""

    actor: Actor
    action: str
    value: str
    seen: Seen | None = None


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
    seen: Seen | None = None
