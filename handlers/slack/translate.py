"""Slack payloads into the core's neutral requests."""

from __future__ import annotations

import re
from typing import Any

from bot.people import Actor, Invocation, Press, Submission
from handlers.slack.render import action_name

# Slack rewrites what people type: <mailto:a@b|a@b>, <https://x|x>, <@U123|ana>, <#C1|general>, &amp;.
_MARKUP = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def _unmark(match: re.Match[str]) -> str:
    target, label = match[1], match[2]
    if target.startswith("mailto:"):
        return target[len("mailto:") :]
    if target.startswith(("@", "#")):
        return target[0] + (label or target[1:])
    if target.startswith("!"):
        # <!channel>, <!here>: shown in Slack as @channel; kept as words so a reply can't re-mention.
        # Labelled ones (<!subteam^S1|@team>, <!date^…|Feb 18>) carry their display text already.
        return label if label else "@" + target[1:].split("^")[0]
    return label or target


def plain_text(text: str) -> str:
    """Command text as the person typed it: Slack's link markup and HTML escapes undone."""
    text = _MARKUP.sub(_unmark, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _team(body: dict[str, Any]) -> str:
    team = body.get("team_id") or (body.get("team") or {}).get("id") or body.get("user", {}).get("team_id")
    return str(team or "")


def actor(body: dict[str, Any]) -> Actor:
    """Who sent a command, a button press or a form."""
    user = body.get("user_id") or (body.get("user") or {}).get("id") or ""
    return Actor(workspace=_team(body), user=str(user))


def invocation(body: dict[str, Any]) -> Invocation:
    """A slash command; its trigger_id is unique per invocation, so it keys replays."""
    command = str(body.get("command", "")).lstrip("/")
    trigger = body.get("trigger_id")
    return Invocation(
        actor=actor(body),
        command="promise" if command.endswith("promise") else "visit",
        text=plain_text(str(body.get("text", ""))),
        request_key=f"command:{trigger}" if trigger else None,
    )


def press(body: dict[str, Any], action: dict[str, Any]) -> Press:
    """A button press."""
    return Press(
        actor=actor(body),
        action=action_name(str(action.get("action_id", ""))),
        value=str(action.get("value", "")),
    )


def submission(body: dict[str, Any]) -> Submission:
    """A submitted modal: text inputs by block id, and which tick boxes are ticked."""
    view = body.get("view") or {}
    values: dict[str, str] = {}
    ticked: set[str] = set()
    chosen: dict[str, frozenset[str]] = {}
    for block_id, elements in (view.get("state", {}).get("values") or {}).items():
        for element in elements.values():
            if element.get("type") == "checkboxes":
                selected = element.get("selected_options") or []
                if selected:
                    ticked.add(block_id)
                chosen[block_id] = frozenset(str(option.get("value", "")) for option in selected)
            else:
                values[block_id] = str(element.get("value") or "")
    view_id = view.get("id")
    return Submission(
        actor=actor(body),
        kind=str(view.get("callback_id", "")),
        values=values,
        ticked=frozenset(ticked),
        request_key=f"view:{view_id}" if view_id else None,
        chosen=chosen,
    )
