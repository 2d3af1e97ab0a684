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


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def dispatchable(body: Any) -> bool:
    """False for an interaction payload too malformed to route: no actions, or a view without a type."""
    if not isinstance(body, dict):
        return True  # not ours to judge: Bolt refuses what it can't parse
    if body.get("type") == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions:
            return False
        return all(isinstance(item, dict) and isinstance(item.get("action_id"), str) for item in actions)
    if body.get("type") in {"view_submission", "view_closed"}:
        view = body.get("view")
        return isinstance(view, dict) and isinstance(view.get("type"), str)
    return True


def submission(body: dict[str, Any]) -> Submission:
    """A submitted modal: text inputs by block id and ticked boxes; malformed parts are skipped."""
    view = _dict(body.get("view"))
    values: dict[str, str] = {}
    ticked: set[str] = set()
    chosen: dict[str, frozenset[str]] = {}
    for block_id, elements in _dict(_dict(view.get("state")).get("values")).items():
        for element in _dict(elements).values():
            if not isinstance(element, dict):
                continue
            if element.get("type") == "checkboxes":
                options = element.get("selected_options")
                options = options if isinstance(options, list) else []
                selected = [option for option in options if isinstance(option, dict)]
                if selected:
                    ticked.add(block_id)
                chosen[block_id] = frozenset(str(option.get("value", "")) for option in selected)
            elif element.get("type") == "radio_buttons":
                option = element.get("selected_option")
                picked = {str(option.get("value", ""))} if isinstance(option, dict) else set()
                chosen[block_id] = frozenset(picked)
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
