"""Adaptive Cards (schema 1.5) from the core's neutral replies and forms, within Teams' message limits."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from bot.replies import (
    Actions,
    Attachment,
    Block,
    Button,
    Checkbox,
    Choices,
    Form,
    FormField,
    Header,
    Link,
    Note,
    Preformatted,
    Reply,
    Section,
)

CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.5"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
# Teams refuses a bot message over about 100 KB, counted as UTF-16 without base64 images; it advises 80 KB.
MAX_MESSAGE_BYTES = 80 * 1024
FORM_VERB = "form.submit"

MAX_ACTIONS = 6
MAX_TITLE = 75
# The core writes its texts to Slack's 3000-character sections, so this clips only what went wrong.
MAX_TEXT = 3000
# Markup and line breaks multiply a text's JSON, so one text also gets at most half a message.
MAX_TEXT_BYTES = MAX_MESSAGE_BYTES // 2
MORE = "…more than fits here."
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif"})
# The form's own data rides in the same dict as the inputs Teams merges into it.
RESERVED_IDS = frozenset({"kind", "key"})

Element = dict[str, Any]
Style = dict[str, Any]
Runs = Callable[[str, Style], list[Element]]

# TextRun properties for each kind of text.
_NOTE: Style = {"isSubtle": True, "size": "Small"}
_HEADER: Style = {"size": "Large", "weight": "Bolder"}
_ATTENTION: Style = {"color": "Attention"}
_MONOSPACE: Style = {"fontType": "Monospace"}

EMOJI: dict[str, str] = {
    "arrow_right": "\N{BLACK RIGHTWARDS ARROW}\N{VARIATION SELECTOR-16}",
    "ballot_box_with_check": "\N{BALLOT BOX WITH CHECK}\N{VARIATION SELECTOR-16}",
    "bell": "\N{BELL}",
    "bulb": "\N{ELECTRIC LIGHT BULB}",
    "bust_in_silhouette": "\N{BUST IN SILHOUETTE}",
    "calendar": "\N{TEAR-OFF CALENDAR}",
    "clipboard": "\N{CLIPBOARD}",
    "clock8": "\N{CLOCK FACE EIGHT OCLOCK}",
    "earth_africa": "\N{EARTH GLOBE EUROPE-AFRICA}",
    "email": "\N{E-MAIL SYMBOL}",
    "file_cabinet": "\N{FILE CABINET}\N{VARIATION SELECTOR-16}",
    "handshake": "\N{HANDSHAKE}",
    "loudspeaker": "\N{PUBLIC ADDRESS LOUDSPEAKER}",
    "hourglass_flowing_sand": "\N{HOURGLASS WITH FLOWING SAND}",
    "mailbox_with_mail": "\N{OPEN MAILBOX WITH RAISED FLAG}",
    "page_facing_up": "\N{PAGE FACING UP}",
    "palm_tree": "\N{PALM TREE}",
    "pencil2": "\N{PENCIL}\N{VARIATION SELECTOR-16}",
    "rotating_light": "\N{POLICE CARS REVOLVING LIGHT}",
    "sparkles": "\N{SPARKLES}",
    "speech_balloon": "\N{SPEECH BALLOON}",
    "tada": "\N{PARTY POPPER}",
    "telephone_receiver": "\N{TELEPHONE RECEIVER}",
    "twisted_rightwards_arrows": "\N{TWISTED RIGHTWARDS ARROWS}",
    "warning": "\N{WARNING SIGN}\N{VARIATION SELECTOR-16}",
    "wave": "\N{WAVING HAND SIGN}",
    "white_check_mark": "\N{WHITE HEAVY CHECK MARK}",
    "wrench": "\N{WRENCH}",
    "x": "\N{CROSS MARK}",
    "zzz": "\N{SLEEPING SYMBOL}",
}

# Only known codes match, so a time like 9:00:00 or an unknown :code: is never consumed or changed.
_EMOJI_CODE = re.compile(":(" + "|".join(re.escape(name) for name in sorted(EMOJI)) + "):")
# Like Slack, a marker counts only at a word boundary and hugging its text: acme_dental_2, 2*3*4,
# "5 * 3" and doubled markers (**x**, __x__) stay as typed.
_MARKUP = re.compile(
    r"""
    (?<![^\W_])(?<!\*) \* (?P<bold>[^\s*](?:[^*]*[^\s*])?) \* (?![^\W_])(?!\*)
    | (?<![^\W_])(?<!_) _ (?P<italic>[^\s_](?:[^_]*[^\s_])?) _ (?![^\W_])(?!_)
    """,
    re.VERBOSE,
)
# Teams leaves base64 images out of its count: the payload of a data: URI an image is drawn from. Matched in
# the JSON text, where a quote inside a string is always escaped, so typed text can't pass for one of these.
_BASE64_IMAGE = re.compile(r'("(?:url|iconUrl|backgroundImage)": "data:[^,"]*;base64,)[A-Za-z0-9+/=]*"')
# A list item costs its own JSON and the ", " before the next one, two UTF-16 code units.
_ITEM_BYTES = 4


def emojize(text: str) -> str:
    """The text with the core's Slack emoji codes turned into Unicode characters."""
    return _EMOJI_CODE.sub(lambda match: EMOJI[match[1]], text)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _size(value: Any) -> int:
    text = _BASE64_IMAGE.sub(r'\1"', json.dumps(value, ensure_ascii=False))
    return len(text.encode("utf-16-le"))


def message_size(activity: dict[str, Any]) -> int:
    """The activity's JSON size as Teams counts it: UTF-16 bytes, leaving out base64 image payloads."""
    return _size(activity)


def attachment(card: dict[str, Any]) -> dict[str, Any]:
    """The activity attachment that carries a card."""
    return {"contentType": CARD_CONTENT_TYPE, "content": card}


def _envelope(card: dict[str, Any]) -> dict[str, Any]:
    return {"type": "message", "attachments": [attachment(card)]}


def _run(text: str, style: Style) -> Element:
    return {"type": "TextRun", "text": text, **style}


def _verbatim_runs(line: str, style: Style) -> list[Element]:
    return [_run(line, style)]


def _plain_runs(line: str, style: Style) -> list[Element]:
    return [_run(emojize(line), style)]


def _markup_runs(line: str, style: Style) -> list[Element]:
    # Emoji go first so the underscores in :white_check_mark: can never be read as italics.
    return _styled_runs(emojize(line), style)


def _styled_runs(text: str, style: Style) -> list[Element]:
    runs: list[Element] = []
    start = 0
    for match in _MARKUP.finditer(text):
        if match.start() > start:
            runs.append(_run(text[start : match.start()], style))
        if match["bold"] is not None:
            runs.extend(_styled_runs(match["bold"], {**style, "weight": "Bolder"}))
        else:
            runs.extend(_styled_runs(match["italic"], {**style, "italic": True}))
        start = match.end()
    if start < len(text):
        runs.append(_run(text[start:], style))
    return runs


def _rich_text(inlines: list[Element], spacing: str | None) -> Element:
    element: Element = {"type": "RichTextBlock", "inlines": inlines}
    if spacing is not None:
        element["spacing"] = spacing
    return element


def _paragraph(text: str, style: Style, runs: Runs = _markup_runs) -> list[Element]:
    """One RichTextBlock a line: Teams renders a line break inside a TextRun unreliably."""
    elements: list[Element] = []
    # Room is kept for the "…" that ends a text cut short, even on a line of its own.
    reserve = _size(_rich_text([_run("…", style)], "Medium")) + _ITEM_BYTES
    left = MAX_TEXT_BYTES - reserve
    gap = False
    for line in _clip(text, MAX_TEXT).splitlines():
        if not line.strip():
            gap = bool(elements)
            continue
        spacing = None if not elements else "Medium" if gap else "None"
        element = _rich_text(runs(line, style), spacing)
        cost = _size(element) + _ITEM_BYTES
        if cost > left:
            elements.append(_cut_short(element, left + reserve, style))
            break
        elements.append(element)
        left -= cost
        gap = False
    return elements


def _cut_short(element: Element, left: int, style: Style) -> Element:
    ellipsis = _run("…", style)
    used = _size({**element, "inlines": [ellipsis]}) + _ITEM_BYTES
    kept: list[Element] = []
    for run in element["inlines"]:
        used += _size(run) + _ITEM_BYTES
        if used > left:
            break
        kept.append(run)
    return {**element, "inlines": [*kept, ellipsis]}


def _execute(button: Button, *, home: bool) -> Element:
    data: dict[str, Any] = {"value": button.value}
    if home:
        data["home"] = True
    action: Element = {
        "type": "Action.Execute",
        "title": _clip(emojize(button.label), MAX_TITLE),
        "verb": button.action,
        "data": data,
    }
    if button.style == "primary":
        action["style"] = "positive"
    elif button.style == "danger":
        action["style"] = "destructive"
    return action


def _open_url(link: Link) -> Element:
    return {"type": "Action.OpenUrl", "title": _clip(emojize(link.label), MAX_TITLE), "url": link.url}


def _action_set(actions: list[Element]) -> list[Element]:
    return [{"type": "ActionSet", "actions": actions[:MAX_ACTIONS]}] if actions else []


def build_elements(block: Block, *, home: bool = False, style: Style | None = None) -> list[Element]:
    """The card elements for one neutral block; `style` adds TextRun properties to a section's text."""
    match block:
        case Section(text, link, button):
            actions = [] if link is None else [_open_url(link)]
            if button is not None:
                actions.append(_execute(button, home=home))
            return [*_paragraph(text, style or {}), *_action_set(actions)]
        case Preformatted(text):
            lines = _paragraph(text, _MONOSPACE, _verbatim_runs)
            return [{"type": "Container", "style": "emphasis", "items": lines}] if lines else []
        case Actions(buttons):
            return _action_set([_execute(button, home=home) for button in buttons])
        case Note(text):
            return _paragraph(text, _NOTE)
        case Header(text):
            return _paragraph(text, _HEADER, _plain_runs)
    raise AssertionError(f"unknown block {block!r}")


def _card(body: list[Element], fallback: str) -> dict[str, Any]:
    return {
        "$schema": CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": body,
        "fallbackText": _clip(fallback, MAX_TEXT),
        "msteams": {"width": "Full"},
    }


def _fit(parts: list[list[Element]], fallback: str) -> list[Element]:
    """The body from whole blocks, cut from the end with a note when the message would be too big."""
    body = [element for part in parts for element in part]
    if message_size(_envelope(_card(body, fallback))) <= MAX_MESSAGE_BYTES:
        return body
    more = build_elements(Note(MORE))
    used = message_size(_envelope(_card(more, fallback)))
    kept: list[Element] = []
    for part in parts:
        used += sum(_size(element) + _ITEM_BYTES for element in part)
        if used > MAX_MESSAGE_BYTES:
            break
        kept.extend(part)
    return [*kept, *more]


def build_card(reply: Reply, *, home: bool = False) -> dict[str, Any]:
    """The card for a reply; `home` marks its buttons as pressed on the home view."""
    first_section = next((i for i, block in enumerate(reply.blocks) if isinstance(block, Section)), None)
    parts = [
        build_elements(
            block,
            home=home,
            style=_ATTENTION if reply.tone == "error" and index == first_section else None,
        )
        for index, block in enumerate(reply.blocks)
    ]
    return _card(_fit(parts, reply.summary), reply.summary)


def build_image_card(file: Attachment) -> dict[str, Any]:
    """A card showing an image attachment (the digest's chart) inline, under its title."""
    if file.mimetype not in IMAGE_TYPES:
        raise ValueError(f"a card can't show {file.mimetype}")
    url = f"data:{file.mimetype};base64,{base64.b64encode(file.content).decode('ascii')}"
    image: Element = {"type": "Image", "url": url, "altText": file.title}
    return _card([*build_elements(Header(file.title)), image], file.title)


def _text_input(field: FormField, value: str, error: str | None) -> Element:
    element: Element = {
        "type": "Input.Text",
        "id": field.id,
        "label": emojize(field.label),
        "isMultiline": field.multiline,
        "isRequired": not field.optional,
    }
    if field.placeholder:
        element["placeholder"] = field.placeholder
    if value:
        element["value"] = value
    if error:
        element["errorMessage"] = error
    return element


def _toggle(field: Checkbox, ticked: bool) -> Element:
    return {
        "type": "Input.Toggle",
        "id": field.id,
        "title": emojize(field.label),
        "valueOn": "true",
        "valueOff": "false",
        "value": "true" if ticked else "false",
        "wrap": True,
    }


def _choice_set(field: Choices, chosen: frozenset[str], error: str | None) -> Element:
    element: Element = {
        "type": "Input.ChoiceSet",
        "id": field.id,
        "label": emojize(field.label),
        "isMultiSelect": not field.single,
        "style": "expanded",
        "isRequired": not field.optional,
        "choices": [{"title": emojize(label), "value": value} for value, label in field.options],
        "wrap": True,
    }
    values = [value for value, _ in field.options if value in chosen]
    if values:
        element["value"] = ",".join(values)
    if error:
        element["errorMessage"] = error
    return element


def _error(text: str) -> list[Element]:
    # Teams shows errorMessage only when its own client-side check fails, so the server's error gets a line.
    return _paragraph(text, _ATTENTION, _plain_runs)


def _field(
    field: FormField | Checkbox | Choices,
    *,
    values: Mapping[str, str] | None,
    ticked: frozenset[str],
    chosen: Mapping[str, frozenset[str]] | None,
    error: str | None,
) -> list[Element]:
    if isinstance(field, Checkbox):
        element = _toggle(field, field.id in ticked)
    elif isinstance(field, Choices):
        picked = field.chosen if chosen is None else chosen.get(field.id, field.chosen)
        element = _choice_set(field, picked, error)
    else:
        typed = field.initial if values is None else values.get(field.id, field.initial)
        element = _text_input(field, typed, error)
    return [element, *_error(error)] if error else [element]


def build_form(
    form: Form,
    *,
    key: str,
    values: Mapping[str, str] | None = None,
    ticked: frozenset[str] = frozenset(),
    chosen: Mapping[str, frozenset[str]] | None = None,
    errors: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A form as a card, optionally shown again with what was typed and each field's error under it."""
    errors = errors or {}
    ids = {field.id for field in form.fields}
    if ids & RESERVED_IDS:
        raise ValueError(f"form {form.kind} uses a reserved field id: {sorted(ids & RESERVED_IDS)}")
    body = build_elements(Header(form.title))
    if form.intro:
        body.extend(build_elements(Note(form.intro)))
    # An error for no field would otherwise be lost, so it goes at the top.
    for message in (message for field_id, message in errors.items() if field_id not in ids):
        body.extend(_error(message))
    for field in form.fields:
        body.extend(_field(field, values=values, ticked=ticked, chosen=chosen, error=errors.get(field.id)))
    submit: Element = {
        "type": "Action.Execute",
        "title": _clip(emojize(form.submit), MAX_TITLE),
        "verb": FORM_VERB,
        "data": {"kind": form.kind, "key": key},
        "associatedInputs": "auto",
        "style": "positive",
    }
    body.extend(_action_set([submit]))
    return _card(body, form.title)


def form_inputs(
    form: Form, data: Mapping[str, Any]
) -> tuple[dict[str, str], frozenset[str], dict[str, frozenset[str]]]:
    """A submitted form read back from the action's data: text by field id, ticked boxes, chosen values."""
    if not isinstance(data, Mapping):
        data = {}
    values: dict[str, str] = {}
    ticked: set[str] = set()
    chosen: dict[str, frozenset[str]] = {}
    for field in form.fields:
        raw = data.get(field.id)
        if isinstance(field, Checkbox):
            if raw == "true":
                ticked.add(field.id)
        elif isinstance(field, Choices):
            # Teams joins a multi-select's values with commas; only the form's own options count.
            picked = raw.split(",") if isinstance(raw, str) else []
            known = {value for value, _ in field.options}
            chosen[field.id] = frozenset(value.strip() for value in picked) & known
        else:
            values[field.id] = raw if isinstance(raw, str) else ""
    return values, frozenset(ticked), chosen


def button_value(data: Mapping[str, Any]) -> str:
    """The pressed button's value from an Action.Execute's data ("" when it isn't there)."""
    value = data.get("value") if isinstance(data, Mapping) else None
    return value if isinstance(value, str) else ""


def is_home(data: Mapping[str, Any]) -> bool:
    """Whether the pressed button was on a card built with `home=True`."""
    return isinstance(data, Mapping) and data.get("home") is True
