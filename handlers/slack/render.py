"""Block Kit from the core's neutral replies and forms, within Slack's limits."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.replies import (
    Actions,
    Block,
    Button,
    Checkbox,
    Choices,
    Form,
    Header,
    Note,
    Preformatted,
    Reply,
    Section,
)

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_BUTTON_LABEL = 75
MAX_BUTTON_VALUE = 2000
MAX_TITLE = 24
MAX_HEADER = 150
MAX_HOME_BLOCKS = 100
MAX_OPTIONS = 10
# Slack wants action ids unique within a block; "#n" keeps them apart and is dropped on the way back.
ACTION_SEPARATOR = "#"

SlackBlock = dict[str, Any]


def escape(text: str) -> str:
    """Escape the three characters Slack treats as markup, so user text can't mention or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    # Cut before any escape (&amp;, &lt;, &gt;) the limit would split in half.
    return re.sub(r"&[a-z]{0,3}$", "", text[: limit - 1]) + "…"


def plain(text: str, limit: int = MAX_SECTION) -> dict[str, Any]:
    """A plain_text object."""
    return {"type": "plain_text", "text": _clip(text, limit), "emoji": True}


def mrkdwn(text: str) -> dict[str, Any]:
    """A mrkdwn text object, clipped to Slack's section limit."""
    return {"type": "mrkdwn", "text": _clip(text, MAX_SECTION)}


def build_button(button: Button, index: int = 0) -> dict[str, Any]:
    """A button element."""
    element: dict[str, Any] = {
        "type": "button",
        "text": plain(button.label, MAX_BUTTON_LABEL),
        "action_id": f"{button.action}{ACTION_SEPARATOR}{index}",
        "value": button.value[:MAX_BUTTON_VALUE],
    }
    if button.style:
        element["style"] = button.style
    return element


def action_name(action_id: str) -> str:
    """The core's action name from a Slack action id."""
    return action_id.split(ACTION_SEPARATOR, 1)[0]


def build_block(block: Block) -> SlackBlock:
    """One Block Kit block for one neutral block."""
    match block:
        case Section(text, link, button):
            body = escape(text)
            if link is not None:
                # Slack links are <url|label>; the label must not contain the delimiters.
                url = link.url.replace("|", "%7C").replace(">", "%3E")
                label = escape(link.label).replace("|", "/")
                suffix = f" <{url}|{label}>"
                # A link that would crowd out the text is left off rather than cut open.
                if len(suffix) <= MAX_SECTION // 2:
                    body = _clip(body, MAX_SECTION - len(suffix)) + suffix
            section: SlackBlock = {"type": "section", "text": mrkdwn(body)}
            if button is not None:
                section["accessory"] = build_button(button)
            return section
        case Preformatted(text):
            return {"type": "section", "text": mrkdwn("```" + _clip(escape(text), MAX_SECTION - 6) + "```")}
        case Actions(buttons):
            return {"type": "actions", "elements": [build_button(b, i) for i, b in enumerate(buttons[:25])]}
        case Note(text):
            return {"type": "context", "elements": [mrkdwn(escape(text))]}
        case Header(text):
            return {"type": "header", "text": plain(text, MAX_HEADER)}
    raise AssertionError(f"unknown block {block!r}")


def build_blocks(reply: Reply) -> list[SlackBlock]:
    """The reply's blocks, cut to Slack's 50-block limit with a note saying so."""
    blocks = [build_block(block) for block in reply.blocks]
    if len(blocks) > MAX_BLOCKS:
        blocks = [*blocks[: MAX_BLOCKS - 1], build_block(Note("…more than fits here."))]
    return blocks


def build_message(reply: Reply) -> dict[str, Any]:
    """Keyword arguments for ack(), respond() or chat.postMessage: fallback text and blocks."""
    return {"text": _clip(escape(reply.summary), MAX_SECTION), "blocks": build_blocks(reply)}


def build_modal(form: Form, *, private_metadata: dict[str, str]) -> dict[str, Any]:
    """A modal view for a form; each field's block id and action id are the field id."""
    blocks: list[SlackBlock] = []
    if form.intro:
        blocks.append({"type": "context", "elements": [mrkdwn(escape(form.intro))]})
    for field in form.fields:
        if isinstance(field, Choices):
            blocks.append(_choices(field))
            continue
        if isinstance(field, Checkbox):
            blocks.append(
                {
                    "type": "input",
                    "block_id": field.id,
                    "optional": True,
                    "label": plain("New client?"),
                    "element": {
                        "type": "checkboxes",
                        "action_id": field.id,
                        "options": [{"text": plain(field.label, MAX_BUTTON_LABEL), "value": "yes"}],
                    },
                }
            )
            continue
        element: dict[str, Any] = {
            "type": "plain_text_input",
            "action_id": field.id,
            "multiline": field.multiline,
        }
        if field.placeholder:
            element["placeholder"] = plain(field.placeholder, 150)
        if field.initial:
            element["initial_value"] = field.initial
        blocks.append(
            {
                "type": "input",
                "block_id": field.id,
                "optional": field.optional,
                "label": plain(field.label, 2000),
                "element": element,
            }
        )
    return {
        "type": "modal",
        "callback_id": form.kind,
        "title": plain(form.title, MAX_TITLE),
        "submit": plain(form.submit, MAX_TITLE),
        "close": plain("Cancel", MAX_TITLE),
        "private_metadata": json.dumps(private_metadata),
        "blocks": blocks,
    }


def _choices(field: Choices) -> SlackBlock:
    options = [
        {"text": plain(label, MAX_BUTTON_LABEL), "value": value}
        for value, label in field.options[:MAX_OPTIONS]
    ]
    kind = "radio_buttons" if field.single else "checkboxes"
    element: dict[str, Any] = {"type": kind, "action_id": field.id, "options": options}
    initial = [option for option in options if option["value"] in field.chosen]
    if initial and field.single:
        element["initial_option"] = initial[0]
    elif initial:
        element["initial_options"] = initial
    return {
        "type": "input",
        "block_id": field.id,
        "optional": field.optional,
        "label": plain(field.label, 2000),
        "element": element,
    }


def build_home(reply: Reply) -> dict[str, Any]:
    """An App Home view from a reply, cut to the Home tab's 100 blocks with a note saying so."""
    blocks = [build_block(block) for block in reply.blocks]
    if len(blocks) > MAX_HOME_BLOCKS:
        blocks = [*blocks[: MAX_HOME_BLOCKS - 1], build_block(Note("…more than fits here: /visit list"))]
    return {"type": "home", "blocks": blocks}
