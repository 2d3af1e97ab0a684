"""Slack Block Kit to HTML fragments for the sandbox page: what the bot sent, drawn as Slack draws it."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from handlers.teams.cards import EMOJI as CORE_EMOJI

# A block, element or text object we don't draw is shown as "Unsupported block: <type>", never left out,
# so the page can't hide part of what the bot really sent.
UNSUPPORTED = "bk-unsupported"

# Codes the core never writes but people type; the core's own come from the Teams renderer's map.
_COMMON_EMOJI: dict[str, str] = {
    "+1": "\N{THUMBS UP SIGN}",
    "-1": "\N{THUMBS DOWN SIGN}",
    "100": "\N{HUNDRED POINTS SYMBOL}",
    "alarm_clock": "\N{ALARM CLOCK}",
    "arrow_left": "\N{LEFTWARDS BLACK ARROW}\N{VARIATION SELECTOR-16}",
    "bar_chart": "\N{BAR CHART}",
    "boom": "\N{COLLISION SYMBOL}",
    "bulb": "\N{ELECTRIC LIGHT BULB}",
    "chart_with_upwards_trend": "\N{CHART WITH UPWARDS TREND}",
    "clap": "\N{CLAPPING HANDS SIGN}",
    "coffee": "\N{HOT BEVERAGE}",
    "computer": "\N{PERSONAL COMPUTER}",
    "construction": "\N{CONSTRUCTION SIGN}",
    "date": "\N{CALENDAR}",
    "envelope": "\N{ENVELOPE}\N{VARIATION SELECTOR-16}",
    "exclamation": "\N{HEAVY EXCLAMATION MARK SYMBOL}",
    "eyes": "\N{EYES}",
    "fire": "\N{FIRE}",
    "gear": "\N{GEAR}\N{VARIATION SELECTOR-16}",
    "grinning": "\N{GRINNING FACE}",
    "hammer_and_wrench": "\N{HAMMER AND WRENCH}\N{VARIATION SELECTOR-16}",
    "heart": "\N{HEAVY BLACK HEART}\N{VARIATION SELECTOR-16}",
    "heavy_check_mark": "\N{HEAVY CHECK MARK}\N{VARIATION SELECTOR-16}",
    "heavy_plus_sign": "\N{HEAVY PLUS SIGN}",
    "hourglass": "\N{HOURGLASS}",
    "hugging_face": "\N{HUGGING FACE}",
    "inbox_tray": "\N{INBOX TRAY}",
    "incoming_envelope": "\N{INCOMING ENVELOPE}",
    "information_source": "\N{INFORMATION SOURCE}\N{VARIATION SELECTOR-16}",
    "iphone": "\N{MOBILE PHONE}",
    "joy": "\N{FACE WITH TEARS OF JOY}",
    "key": "\N{KEY}",
    "large_green_circle": "\N{LARGE GREEN CIRCLE}",
    "large_yellow_circle": "\N{LARGE YELLOW CIRCLE}",
    "link": "\N{LINK SYMBOL}",
    "lock": "\N{LOCK}",
    "memo": "\N{MEMO}",
    "muscle": "\N{FLEXED BICEPS}",
    "no_entry": "\N{NO ENTRY}",
    "ok_hand": "\N{OK HAND SIGN}",
    "phone": "\N{BLACK TELEPHONE}\N{VARIATION SELECTOR-16}",
    "point_right": "\N{WHITE RIGHT POINTING BACKHAND INDEX}",
    "pray": "\N{PERSON WITH FOLDED HANDS}",
    "printer": "\N{PRINTER}\N{VARIATION SELECTOR-16}",
    "pushpin": "\N{PUSHPIN}",
    "question": "\N{BLACK QUESTION MARK ORNAMENT}",
    "raised_hands": "\N{PERSON RAISING BOTH HANDS IN CELEBRATION}",
    "red_circle": "\N{LARGE RED CIRCLE}",
    "rocket": "\N{ROCKET}",
    "rotating_light": "\N{POLICE CARS REVOLVING LIGHT}",
    "slightly_smiling_face": "\N{SLIGHTLY SMILING FACE}",
    "smile": "\N{SMILING FACE WITH OPEN MOUTH AND SMILING EYES}",
    "smiley": "\N{SMILING FACE WITH OPEN MOUTH}",
    "speech_balloon": "\N{SPEECH BALLOON}",
    "spiral_calendar_pad": "\N{SPIRAL CALENDAR PAD}\N{VARIATION SELECTOR-16}",
    "star": "\N{WHITE MEDIUM STAR}",
    "stopwatch": "\N{STOPWATCH}\N{VARIATION SELECTOR-16}",
    "sunny": "\N{BLACK SUN WITH RAYS}\N{VARIATION SELECTOR-16}",
    "sweat_smile": "\N{SMILING FACE WITH OPEN MOUTH AND COLD SWEAT}",
    "telephone": "\N{BLACK TELEPHONE}\N{VARIATION SELECTOR-16}",
    "thinking_face": "\N{THINKING FACE}",
    "thumbsdown": "\N{THUMBS DOWN SIGN}",
    "thumbsup": "\N{THUMBS UP SIGN}",
    "wink": "\N{WINKING FACE}",
    "wrench": "\N{WRENCH}",
}

EMOJI: dict[str, str] = {**CORE_EMOJI, **_COMMON_EMOJI}

# Only known codes match, so an unknown :code: and a time such as 9:00:00 stay exactly as typed.
_EMOJI_NAMES = "|".join(re.escape(name) for name in sorted(EMOJI, key=len, reverse=True))
_EMOJI_CODE = re.compile(f":({_EMOJI_NAMES}):")
# Slack's control sequences (<url|label>, <@U123>, <!date^…>) and emoji codes, found before any styling
# so an underscore inside a URL or an emoji name can never start italics.
_TOKEN = re.compile(f"<([^<>\\n]*)>|:({_EMOJI_NAMES}):")
# Stands in for one token while styles are matched; any NUL in the input is replaced first, as browsers do.
_SLOT = "\x00"
_SLACK_ESCAPE = re.compile(r"&(amp|lt|gt);")
_SLACK_UNESCAPED = {"amp": "&", "lt": "<", "gt": ">"}
_PRE = re.compile(r"```(.+?)```", re.DOTALL)
# Like Slack, a marker counts only at a word boundary and hugging its text, on one line: acme_dental_2,
# 2*3*4, "5 * 3" and doubled markers (**x**) stay as typed. Inline code comes first and takes no styles.
_INLINE = re.compile(
    r"""
    ` (?P<code>[^`\n]+) `
    | (?<![^\W_])(?<!\*) \* (?P<b>[^\s*](?:[^*\n]*[^\s*])?) \* (?![^\W_])(?!\*)
    | (?<![^\W_])(?<!_) _ (?P<i>[^\s_](?:[^_\n]*[^\s_])?) _ (?![^\W_])(?!_)
    | (?<![^\W_])(?<!~) ~ (?P<s>[^\s~](?:[^~\n]*[^\s~])?) ~ (?![^\W_])(?!~)
    """,
    re.VERBOSE,
)
# The style groups of _INLINE are named after the HTML tags they become.
_STYLES = ("b", "i", "s")
# An allow-list: javascript:, data: and anything else a browser might run is shown as text instead.
_LINKABLE = re.compile(r"(?:https?://|mailto:)", re.IGNORECASE)
_IMAGE_URL = re.compile(r"https?://", re.IGNORECASE)
_BROADCASTS = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}
_BUTTON_STYLES = frozenset({"primary", "danger"})
_STATE_KEYS = frozenset({"type", "value", "selected_options"})

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DATE_TOKEN = re.compile(r"\{([^{}]*)\}")
_PRETTY_DAYS = {-1: "Yesterday", 0: "Today", 1: "Tomorrow"}


@dataclass(frozen=True, kw_only=True)
class RenderContext:
    """What rendering needs from outside the blocks: names for mentions, the viewer's zone and clock, and a
    re-shown modal's errors and typed values (both by block id)."""

    users: Mapping[str, str] = field(default_factory=dict)
    tz: ZoneInfo
    now: datetime
    errors: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            # "Today" and "Tomorrow" would silently follow the server's zone.
            raise ValueError("RenderContext.now must be timezone-aware")


# -- HTML ------------------------------------------------------------------------------------------------


def _attrs(attributes: Mapping[str, str | None]) -> str:
    """Attributes with escaped values; None leaves one out, "" writes a boolean one."""
    return "".join(
        f' {name}="{html.escape(value, quote=True)}"'
        for name, value in attributes.items()
        if value is not None
    )


def _tag(name: str, attributes: Mapping[str, str | None], inner: str) -> str:
    return f"<{name}{_attrs(attributes)}>{inner}</{name}>"


def _text_node(text: str) -> str:
    return html.escape(text, quote=False)


def _lines(text: str) -> str:
    return _text_node(text).replace("\n", "<br>")


def _unsupported(kind: object) -> str:
    name = kind if isinstance(kind, str) and kind else "(no type)"
    return _tag("span", {"class": UNSUPPORTED, "data-type": name}, _text_node(f"Unsupported block: {name}"))


def _string(value: object) -> str | None:
    """A JSON scalar as an attribute value; Slack's ids and values are strings, but numbers read fine."""
    if value is None or isinstance(value, Mapping | list):
        return None
    return str(value)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


# -- Text objects ----------------------------------------------------------------------------------------


def _emojize(text: str) -> str:
    return _EMOJI_CODE.sub(lambda match: EMOJI[match[1]], text)


def _slack_unescape(text: str) -> str:
    return _SLACK_ESCAPE.sub(lambda match: _SLACK_UNESCAPED[match[1]], text)


def render_plain(obj: Mapping[str, Any]) -> str:
    """A plain_text object as HTML: its text escaped, emoji codes drawn (unless `emoji` is false), line
    breaks kept; any other kind of text object is shown as unsupported."""
    if not isinstance(obj, Mapping) or obj.get("type") != "plain_text":
        return _unsupported(obj.get("type") if isinstance(obj, Mapping) else None)
    text = _string(obj.get("text")) or ""
    return _lines(_emojize(text) if obj.get("emoji", True) else text)


def _text(obj: object, context: RenderContext) -> str:
    """A text object of either kind."""
    if isinstance(obj, Mapping) and obj.get("type") == "mrkdwn":
        return render_mrkdwn(_string(obj.get("text")) or "", context=context)
    return render_plain(_mapping(obj))


def _plain_value(obj: object) -> str | None:
    """A plain_text object's text for an attribute (a placeholder), emoji drawn."""
    if isinstance(obj, Mapping) and obj.get("type") == "plain_text":
        return _emojize(_string(obj.get("text")) or "")
    return None


# -- mrkdwn ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    """One control sequence or emoji: how it shows in running text, and inside code (no emoji there)."""

    html: str
    in_code: str


class _Writer:
    """Writes text runs as HTML, putting each token back where its slot stands, in order."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens: Iterator[_Token] = iter(tokens)

    def run(self, text: str, *, code: bool = False) -> str:
        chunks = text.split(_SLOT)
        out = [_text_node(_slack_unescape(chunks[0]))]
        for chunk in chunks[1:]:
            token = next(self.tokens)
            out.append(token.in_code if code else token.html)
            out.append(_text_node(_slack_unescape(chunk)))
        return "".join(out)


def render_mrkdwn(text: str, *, context: RenderContext) -> str:
    """Slack mrkdwn as HTML: styles, code, links, mentions, dates, emoji and line breaks, all escaped."""
    tokens: list[_Token] = []

    def slot(match: re.Match[str]) -> str:
        if match[2] is not None:
            tokens.append(_Token(_text_node(EMOJI[match[2]]), _text_node(match[0])))
        else:
            rendered = _control(match[1], context)
            tokens.append(_Token(rendered, rendered))
        return _SLOT

    slotted = _TOKEN.sub(slot, text.replace(_SLOT, "\N{REPLACEMENT CHARACTER}"))
    writer = _Writer(tokens)
    out: list[str] = []
    start = 0
    for match in _PRE.finditer(slotted):
        # Slack sets a code block on lines of its own: the line breaks around its fences add nothing.
        before = slotted[start : match.start()]
        out.append(_inline(before.removesuffix("\n"), writer))
        body = match[1].removeprefix("\n").removesuffix("\n")
        out.append(_tag("pre", {"class": "bk-pre"}, writer.run(body, code=True)))
        start = match.end()
        if slotted.startswith("\n", start):
            start += 1
    out.append(_inline(slotted[start:], writer))
    return "".join(out)


def _inline(text: str, writer: _Writer) -> str:
    out: list[str] = []
    start = 0
    for match in _INLINE.finditer(text):
        out.append(writer.run(text[start : match.start()]).replace("\n", "<br>"))
        if match["code"] is not None:
            out.append(_tag("code", {"class": "bk-code"}, writer.run(match["code"], code=True)))
        else:
            style = next(name for name in _STYLES if match[name] is not None)
            out.append(_tag(style, {}, _inline(match[style], writer)))
        start = match.end()
    out.append(writer.run(text[start:]).replace("\n", "<br>"))
    return "".join(out)


def _control(body: str, context: RenderContext) -> str:
    """One <…> sequence: a link, a mention, a broadcast or a date."""
    target, bar, label = body.partition("|")
    shown = _slack_unescape(label) if bar else None
    if target.startswith("@"):
        user = target[1:]
        name = context.users.get(user) or shown or user
        return _tag("span", {"class": "bk-mention", "data-user-id": user}, _text_node(f"@{name}"))
    if target.startswith("#"):
        channel = target[1:]
        name = shown or channel
        return _tag(
            "span", {"class": "bk-mention bk-channel", "data-channel-id": channel}, _text_node(f"#{name}")
        )
    if target.startswith("!"):
        return _special(target[1:], shown, context)
    return _link(_slack_unescape(target), shown)


def _link(url: str, label: str | None) -> str:
    shown = label or (url[len("mailto:") :] if url.lower().startswith("mailto:") else url)
    text = _text_node(_emojize(shown))
    if not _LINKABLE.match(url):
        return text
    return _tag("a", {"class": "bk-link", "href": url, "target": "_blank", "rel": "noopener"}, text)


def _special(command: str, label: str | None, context: RenderContext) -> str:
    name, _, rest = command.partition("^")
    if name in _BROADCASTS:
        return _tag("span", {"class": "bk-mention bk-broadcast"}, _text_node(_BROADCASTS[name]))
    if name == "subteam":
        return _tag("span", {"class": "bk-mention"}, _text_node(label or f"@{rest}"))
    if name == "date":
        return _date(rest, label, context)
    # Slack shows an unknown command's label, as it does for anything it can't draw.
    return _text_node(label if label is not None else f"<!{command}>")


# -- Dates -----------------------------------------------------------------------------------------------


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _clock(moment: datetime, seconds: bool) -> str:
    hour = moment.hour % 12 or 12
    tail = f":{moment.second:02d}" if seconds else ""
    return f"{hour}:{moment.minute:02d}{tail} {'AM' if moment.hour < 12 else 'PM'}"


def _date_formats(moment: datetime, context: RenderContext) -> dict[str, str]:
    """Every token Slack documents for <!date>, for one local instant."""
    month = _MONTHS[moment.month - 1]
    plain = {
        "date_num": f"{moment:%Y-%m-%d}",
        "date": f"{month} {_ordinal(moment.day)}, {moment.year}",
        "date_short": f"{month[:3]} {moment.day}, {moment.year}",
        "date_long": f"{_WEEKDAYS[moment.weekday()]}, {month} {_ordinal(moment.day)}, {moment.year}",
    }
    offset = (moment.date() - context.now.astimezone(context.tz).date()).days
    relative = _PRETTY_DAYS.get(offset)
    return {
        **plain,
        "date_pretty": relative or plain["date"],
        "date_short_pretty": relative or plain["date_short"],
        "date_long_pretty": relative or plain["date_long"],
        "time": _clock(moment, seconds=False),
        "time_secs": _clock(moment, seconds=True),
    }


def _date(rest: str, fallback: str | None, context: RenderContext) -> str:
    """<!date^seconds^format^optional_link|fallback> in the viewer's zone; the fallback when unreadable."""
    stamp, _, tail = rest.partition("^")
    template, _, link = tail.partition("^")
    template = _slack_unescape(template)
    try:
        moment = datetime.fromtimestamp(int(stamp), UTC)
    except (ValueError, OverflowError, OSError):
        moment = None
    if moment is None or not template:
        return _text_node(fallback or "")
    formats = _date_formats(moment.astimezone(context.tz), context)
    if any(name not in formats for name in _DATE_TOKEN.findall(template)):
        return _text_node(fallback or "")
    shown = _text_node(_DATE_TOKEN.sub(lambda match: formats[match[1]], template))
    drawn = _tag("time", {"class": "bk-date", "datetime": moment.isoformat()}, shown)
    url = _slack_unescape(link)
    if url and _LINKABLE.match(url):
        return _tag("a", {"class": "bk-link", "href": url, "target": "_blank", "rel": "noopener"}, drawn)
    return drawn


# -- Elements --------------------------------------------------------------------------------------------


def _button(element: Mapping[str, Any], block_id: str | None) -> str:
    style = element.get("style")
    classes = "bk-button" + (f" bk-{style}" if style in _BUTTON_STYLES else "")
    attributes: dict[str, str | None] = {
        "class": classes,
        "data-action-id": _string(element.get("action_id")),
        "data-value": _string(element.get("value")),
        "data-block-id": block_id or None,
        "aria-label": _string(element.get("accessibility_label")),
    }
    label = render_plain(_mapping(element.get("text")))
    url = _string(element.get("url"))
    if url and _LINKABLE.match(url):
        # Slack opens the page and still sends the press to the app.
        return _tag("a", {**attributes, "href": url, "target": "_blank", "rel": "noopener"}, label)
    return _tag("button", {"type": "button", **attributes}, label)


def _image(element: Mapping[str, Any], css_class: str) -> str:
    url = _string(element.get("image_url")) or ""
    alt = _string(element.get("alt_text")) or ""
    if not _IMAGE_URL.match(url):
        # A slack_file image, or a URL no browser should load from a chat message: say what it was.
        return _tag("span", {"class": "bk-image-unavailable"}, _text_node(alt or "image"))
    return f"<img{_attrs({'class': css_class, 'src': url, 'alt': alt})}>"


def _accessory(element: Mapping[str, Any], block_id: str | None) -> str:
    kind = element.get("type")
    if kind == "button":
        return _button(element, block_id)
    if kind == "image":
        return _image(element, "bk-accessory-image")
    return _unsupported(kind)


def _kept(context: RenderContext, block_id: str | None) -> Mapping[str, Any] | None:
    """What was typed into one input, as Slack's view state holds it: {"value": …} or {"selected_options": …}.

    The page may also hand over the bare value: a string for a text input, or option values for tick boxes.
    """
    if not block_id or block_id not in context.values:
        return None
    value = context.values[block_id]
    if isinstance(value, str):
        return {"value": value}
    if isinstance(value, Mapping):
        if _STATE_KEYS & value.keys():
            return value
        # Slack nests each input's state under its action id.
        return _mapping(next(iter(value.values()), None))
    if isinstance(value, list | tuple | set | frozenset):
        return {"selected_options": [{"value": str(item)} for item in value]}
    return None


def _text_input(
    element: Mapping[str, Any],
    block_id: str | None,
    optional: bool,
    control: str | None,
    kept: Mapping[str, Any] | None,
) -> str:
    value = _string(kept.get("value")) if kept is not None else _string(element.get("initial_value"))
    attributes: dict[str, str | None] = {
        "class": "bk-text-input",
        "id": control,
        "name": block_id,
        "data-action-id": _string(element.get("action_id")),
        "placeholder": _plain_value(element.get("placeholder")),
        "minlength": _string(element.get("min_length")),
        "maxlength": _string(element.get("max_length")),
        # Slack checks a required field in the client, before the app sees the form.
        "required": None if optional else "",
    }
    if element.get("multiline"):
        # A textarea drops one leading line break of its content; a second keeps the typed one.
        body = value or ""
        return _tag("textarea", attributes, _text_node("\n" + body if body.startswith("\n") else body))
    return f"<input{_attrs({'type': 'text', **attributes, 'value': value or ''})}>"


def _checkboxes(
    element: Mapping[str, Any], block_id: str | None, context: RenderContext, kept: Mapping[str, Any] | None
) -> str:
    single = element.get("type") == "radio_buttons"
    if single:
        one = kept.get("selected_option") if kept is not None else element.get("initial_option")
        chosen_from: Any = [one] if one else []
    else:
        chosen_from = kept.get("selected_options") if kept is not None else element.get("initial_options")
    chosen = {_string(_mapping(option).get("value")) for option in chosen_from or []}
    boxes = []
    for item in element.get("options") or []:
        option = _mapping(item)
        value = _string(option.get("value"))
        box = _attrs(
            {
                "type": "radio" if single else "checkbox",
                "name": block_id,
                "value": value,
                "checked": "" if value in chosen else None,
            }
        )
        description = option.get("description")
        extra = (
            _tag("span", {"class": "bk-option-description"}, _text(description, context))
            if description
            else ""
        )
        text = _tag("span", {"class": "bk-option-text"}, _text(option.get("text"), context))
        boxes.append(_tag("label", {"class": "bk-checkbox"}, f"<input{box}>{text}{extra}"))
    return _tag(
        "div", {"class": "bk-checkboxes", "data-action-id": _string(element.get("action_id"))}, "".join(boxes)
    )


# -- Blocks ----------------------------------------------------------------------------------------------


def _wrap(kind: str, block: Mapping[str, Any], inner: str, *, tag: str = "div", extra: str = "") -> str:
    attributes = {"class": f"bk-block bk-{kind}{extra}", "data-block-id": _string(block.get("block_id"))}
    return _tag(tag, attributes, inner)


def _header(block: Mapping[str, Any], context: RenderContext) -> str:
    return _wrap("header", block, render_plain(_mapping(block.get("text"))))


def _section(block: Mapping[str, Any], context: RenderContext) -> str:
    body = []
    if block.get("text") is not None:
        body.append(_tag("div", {"class": "bk-text"}, _text(block["text"], context)))
    fields = block.get("fields")
    if fields:
        cells = "".join(_tag("div", {"class": "bk-field"}, _text(cell, context)) for cell in fields)
        body.append(_tag("div", {"class": "bk-fields"}, cells))
    inner = _tag("div", {"class": "bk-section-body"}, "".join(body))
    accessory = block.get("accessory")
    if accessory is not None:
        drawn = _accessory(_mapping(accessory), _string(block.get("block_id")))
        inner += _tag("div", {"class": "bk-accessory"}, drawn)
    return _wrap("section", block, inner)


def _context_block(block: Mapping[str, Any], context: RenderContext) -> str:
    items = []
    for item in block.get("elements") or []:
        element = _mapping(item)
        kind = element.get("type")
        if kind in ("mrkdwn", "plain_text"):
            items.append(_tag("span", {"class": "bk-context-text"}, _text(element, context)))
        elif kind == "image":
            items.append(_image(element, "bk-context-image"))
        else:
            items.append(_unsupported(kind))
    return _wrap("context", block, "".join(items))


def _divider(block: Mapping[str, Any], context: RenderContext) -> str:
    attributes = {"class": "bk-block bk-divider", "data-block-id": _string(block.get("block_id"))}
    return f"<hr{_attrs(attributes)}>"


def _actions(block: Mapping[str, Any], context: RenderContext) -> str:
    block_id = _string(block.get("block_id"))
    items = []
    for item in block.get("elements") or []:
        element = _mapping(item)
        kind = element.get("type")
        items.append(_button(element, block_id) if kind == "button" else _unsupported(kind))
    return _wrap("actions", block, "".join(items))


def _image_block(block: Mapping[str, Any], context: RenderContext) -> str:
    title = block.get("title")
    caption = _tag("figcaption", {"class": "bk-image-title"}, render_plain(_mapping(title))) if title else ""
    return _wrap("image", block, caption + _image(block, "bk-image-img"), tag="figure")


def _input(block: Mapping[str, Any], context: RenderContext) -> str:
    block_id = _string(block.get("block_id"))
    element = _mapping(block.get("element"))
    optional = bool(block.get("optional"))
    action_id = _string(element.get("action_id"))
    kept = _kept(context, block_id)
    kind = element.get("type")
    control = f"bk-input-{block_id or action_id}" if (block_id or action_id) else None
    if kind == "plain_text_input":
        drawn = _text_input(element, block_id, optional, control, kept)
    elif kind in ("checkboxes", "radio_buttons"):
        drawn, control = _checkboxes(element, block_id, context, kept), None
    else:
        drawn, control = _unsupported(kind), None
    label = render_plain(_mapping(block.get("label")))
    if optional:
        label += _tag("span", {"class": "bk-optional"}, " (optional)")
    parts = [_tag("label", {"class": "bk-label", "for": control}, label), drawn]
    hint = block.get("hint")
    if hint is not None:
        parts.append(_tag("div", {"class": "bk-hint"}, render_plain(_mapping(hint))))
    error = context.errors.get(block_id or "")
    if error is not None:
        parts.append(_tag("div", {"class": "bk-error", "role": "alert"}, _lines(error)))
    return _wrap("input", block, "".join(parts), extra=" bk-has-error" if error is not None else "")


_BLOCKS: dict[str, Callable[[Mapping[str, Any], RenderContext], str]] = {
    "header": _header,
    "section": _section,
    "context": _context_block,
    "divider": _divider,
    "actions": _actions,
    "image": _image_block,
    "input": _input,
}


def render_blocks(blocks: Sequence[Mapping[str, Any]], *, context: RenderContext) -> str:
    """A message's or a view's blocks as HTML, in order; unknown ones shown as unsupported."""
    out = []
    for block in blocks:
        kind = block.get("type") if isinstance(block, Mapping) else None
        render = _BLOCKS.get(kind) if isinstance(kind, str) else None
        out.append(render(block, context) if render is not None else _unsupported(kind))
    return "".join(out)


def render_view(view: Mapping[str, Any], *, context: RenderContext) -> str:
    """A modal (title, blocks, close and submit buttons) or an App Home tab as HTML, with the view's id and
    callback id in data- attributes for the page to send back."""
    kind = view.get("type")
    if kind not in ("home", "modal"):
        return _unsupported(kind)
    attributes = {
        "class": f"bk-view bk-{kind}",
        "data-view-id": _string(view.get("id")),
        "data-callback-id": _string(view.get("callback_id")),
    }
    blocks = render_blocks(list(view.get("blocks") or []), context=context)
    if kind == "home":
        return _tag("div", attributes, blocks)
    attributes["data-private-metadata"] = _string(view.get("private_metadata"))
    title = _tag("div", {"class": "bk-modal-title"}, render_plain(_mapping(view.get("title"))))
    return _tag(
        "form",
        attributes,
        _tag("div", {"class": "bk-modal-header"}, title)
        + _tag("div", {"class": "bk-modal-body"}, blocks)
        + _tag("div", {"class": "bk-modal-footer"}, _modal_buttons(view)),
    )


def _modal_buttons(view: Mapping[str, Any]) -> str:
    close = view.get("close")
    # Slack labels the close button Cancel when the view names none.
    close_label = render_plain(_mapping(close)) if close is not None else "Cancel"
    buttons = _tag("button", {"type": "button", "class": "bk-button bk-close"}, close_label)
    submit = view.get("submit")
    if submit is not None:
        submit_label = render_plain(_mapping(submit))
        buttons += _tag("button", {"type": "submit", "class": "bk-button bk-primary bk-submit"}, submit_label)
    return buttons
