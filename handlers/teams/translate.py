"""Teams activities into the core's neutral requests: who is asking, from where, and what they typed."""

from __future__ import annotations

import hashlib
import html
import logging
import re
from dataclasses import dataclass
from typing import Any

from bot.people import TEAMS, Actor, Conversation, ConversationKind, Profile, Seen
from handlers.teams.connector import ServiceUrls

logger = logging.getLogger(__name__)

# What a person can type to the bot, after any @mention: the two commands, and the words for the parts
# Slack has and Teams lacks (App Home, the settings modal).
COMMANDS = ("visit", "promise")
WORDS = ("help", "home", "settings", "digest")
_MENTION = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_LEADING_MENTION = re.compile(r"^\s*(?:<p>\s*)?<at[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<br\s*/?>|</p>", re.IGNORECASE)
_KINDS: dict[str, ConversationKind] = {"personal": "personal", "channel": "channel", "groupChat": "groupChat"}
MAX_KEY = 200


@dataclass(frozen=True)
class Typed:
    """What a message asks for: `word` is "visit", "promise", "help", "home", "settings", "digest" or ""
    (not understood), and `rest` the text after it."""

    word: str
    rest: str


def _get(value: Any, *names: str) -> Any:
    """A nested attribute of an SDK model, or None where any step is missing."""
    for name in names:
        value = getattr(value, name, None)
        if value is None:
            return None
    return value


def tenant(activity: Any) -> str:
    """The Microsoft 365 tenant the activity comes from."""
    return str(
        _get(activity, "conversation", "tenant_id") or _get(activity, "channel_data", "tenant", "id") or ""
    )


def actor(activity: Any) -> Actor | None:
    """The person, by their Entra object id (stable across bots), in their tenant; None for an activity
    that names nobody."""
    sender = getattr(activity, "from_", None)
    user = getattr(sender, "aad_object_id", None) or getattr(sender, "id", None)
    workspace = tenant(activity)
    if not user or not workspace:
        return None
    # Teams sends object ids in lower case; MANAGER_IDS is read the same way.
    return Actor(workspace=workspace, user=str(user).lower(), platform=TEAMS)


def kind(activity: Any) -> ConversationKind:
    """ "personal", "channel" or "groupChat" (a chat with no type given is taken as personal)."""
    return _KINDS.get(str(_get(activity, "conversation", "conversation_type") or "personal"), "personal")


def conversation_id(activity: Any) -> str:
    """The conversation's id; for a channel, without the `;messageid=` of the thread it was written in."""
    full = str(_get(activity, "conversation", "id") or "")
    return full.split(";", 1)[0] if kind(activity) == "channel" else full


def timezone(activity: Any) -> str | None:
    """The sender's time zone: the activity's `localTimezone`, or its clientInfo entity's."""
    zone = getattr(activity, "local_timezone", None) or getattr(activity, "localTimezone", None)
    if isinstance(zone, str) and zone:
        return zone
    for entity in getattr(activity, "entities", None) or []:
        if getattr(entity, "type", None) == "clientInfo":
            found = getattr(entity, "timezone", None)
            if isinstance(found, str) and found:
                return found
    return None


def seen(activity: Any, service_urls: ServiceUrls) -> Seen:
    """What the activity shows about its sender: name, zone, member id, and the conversation to write
    back to (left out, and logged, when its service URL is not one the bot may call)."""
    sender = getattr(activity, "from_", None)
    name = getattr(sender, "name", None)
    profile = Profile(display_name=str(name) if name else None, timezone=timezone(activity))
    endpoint = getattr(activity, "service_url", None)
    where = None
    if endpoint and service_urls.allows(endpoint) and conversation_id(activity):
        team = _get(activity, "channel_data", "team", "id")
        where = Conversation(
            id=conversation_id(activity), kind=kind(activity), endpoint=str(endpoint), team=team and str(team)
        )
    elif endpoint:
        logger.warning("not storing a conversation at a service URL the bot may not call: %s", endpoint)
    member = getattr(sender, "id", None)
    return Seen(profile=profile, conversation=where, member=str(member) if member else None)


def text(activity: Any) -> str:
    """What the person typed: the @mention of the bot removed (others kept as the name), HTML undone,
    spaces collapsed."""
    raw = str(getattr(activity, "text", None) or "")
    bot = _get(activity, "recipient", "id")
    for entity in getattr(activity, "entities", None) or []:
        mentioned = _get(entity, "mentioned", "id")
        said = getattr(entity, "text", None)
        if getattr(entity, "type", None) == "mention" and mentioned == bot and isinstance(said, str) and said:
            raw = raw.replace(said, " ")
    # A message that opens with a mention is addressed to the bot, even without the mention's entity.
    raw = _LEADING_MENTION.sub(" ", raw)
    raw = _MENTION.sub(lambda mention: mention[1], raw)
    # Teams may wrap what was typed in HTML (<p>, <br>): line breaks are kept, other tags dropped.
    raw = _TAG.sub(" ", _BREAK.sub("\n", raw))
    lines = (" ".join(line.split()) for line in html.unescape(raw).replace("\xa0", " ").splitlines())
    return "\n".join(line for line in lines if line)


def typed(words: str) -> Typed:
    """The command a message gives: `visit …`, `/promise …`, `Home` (any case, with or without `/`)."""
    first, _, rest = words.replace("\n", " \n", 1).partition(" ")
    word = first.lstrip("/").lower()
    if word in COMMANDS or word in WORDS:
        return Typed(word, rest.strip())
    return Typed("", words)


def request_key(activity: Any, prefix: str = "teams") -> str | None:
    """A key unique to this activity, so a redelivered one changes nothing twice."""
    activity_id = getattr(activity, "id", None)
    if not activity_id:
        return None
    where = hashlib.sha256(str(_get(activity, "conversation", "id") or "").encode()).hexdigest()[:16]
    return f"{prefix}:{where}:{activity_id}"[:MAX_KEY]
