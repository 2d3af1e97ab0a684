"""Block Kit to HTML: each block, element and mrkdwn feature exactly; every reply the bot can send drawn whole
and with nothing unsupported; and no typed text that can break out of its place in the page."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot import digest, nudges
from bot.core import ALREADY_DONE, Core
from bot.forms import NEW_CLIENT, PROMISE_FORM, VISIT_FORM, promise_form, visit_form
from bot.help import usage
from bot.people import Actor, Conversation, Invocation, Press, Profile, Seen, Submission
from bot.replies import Actions, Block, Form, FormField, Header, Note, Preformatted, Reply, Section, error
from bot.services import Services
from bot.settings import Settings
from handlers.slack.listeners import FAILED, FILE_FAILED, WORKING
from handlers.slack.render import action_name, build_home, build_message, build_modal, escape
from handlers.slack.sandbox.blockkit import (
    EMOJI,
    UNSUPPORTED,
    RenderContext,
    render_blocks,
    render_mrkdwn,
    render_plain,
    render_view,
)
from handlers.teams import cards
from storage.db import make_engine, make_session_factory
from storage.models import Client, Nudge, NudgeStatus, Technician, Visit
from tests.bot.test_digest import Seed, at
from tests.harness import MONDAY_MORNING, FrozenClock

CHICAGO = ZoneInfo("America/Chicago")
BERLIN = ZoneInfo("Europe/Berlin")
# Monday 23 November 2026, 09:00 in Chicago (16:00 in Berlin).
NOW = MONDAY_MORNING
CONTEXT = RenderContext(users={"U111": "Ana", "U222": "Bo"}, tz=CHICAGO, now=NOW)
LINK = 'target="_blank" rel="noopener"'

ANA = Actor("T111", "U111")
BO = Actor("T111", "U222")
MO = Actor("T111", "U444")


def plain(text: str, **extra: Any) -> dict[str, Any]:
    """A plain_text object."""
    return {"type": "plain_text", "text": text, **extra}


def mrkdwn(text: str) -> dict[str, Any]:
    """A mrkdwn text object."""
    return {"type": "mrkdwn", "text": text}


def md(text: str, context: RenderContext = CONTEXT) -> str:
    """mrkdwn as the renderer draws it."""
    return render_mrkdwn(text, context=context)


def one(block: dict[str, Any], context: RenderContext = CONTEXT) -> str:
    """One block as the renderer draws it."""
    return render_blocks([block], context=context)


# -- Reading the HTML back ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Element:
    """A start tag as a browser would parse it."""

    tag: str
    attrs: dict[str, str | None]


class Page(HTMLParser):
    """The elements and the visible text of a fragment, parsed the way a browser tokenizes it."""

    def __init__(self, fragment: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.chunks: list[str] = []
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, dict(attrs)))
        # Tags separate words, as the page's layout does for blocks and line breaks.
        self.chunks.append(" ")

    def handle_endtag(self, tag: str) -> None:
        self.chunks.append(" ")

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)

    @property
    def text(self) -> str:
        """Every text node, tags read as spaces."""
        return "".join(self.chunks)

    def having(self, tag: str) -> list[Element]:
        """The elements of one tag, in document order."""
        return [element for element in self.elements if element.tag == tag]


def words(text: str) -> str:
    """The letters and digits of a text, one space around each run: what survives any markup, ready for
    `in` to match whole words only."""
    return " " + " ".join(re.findall(r"[^\W_]+", text)) + " "


def shown(block: Block) -> list[str]:
    """What a neutral block puts on screen: its text, emoji drawn, and its link's and buttons' labels."""
    match block:
        case Section(text, link, button):
            labels = [link.label] if link else []
            return [cards.emojize(text), *labels, *([button.label] if button else [])]
        case Preformatted(text):
            return [text]
        case Actions(buttons):
            return [button.label for button in buttons]
        case Note(text) | Header(text):
            return [cards.emojize(text)]
    raise AssertionError(block)


def buttons_in(value: Any) -> list[dict[str, Any]]:
    """Every button element inside Block Kit, depth first."""
    if isinstance(value, dict):
        found = [value] if value.get("type") == "button" else []
        return found + [button for item in value.values() for button in buttons_in(item)]
    if isinstance(value, list):
        return [button for item in value for button in buttons_in(item)]
    return []


def assert_drawn_whole(reply: Reply, fragment: str, slack: dict[str, Any]) -> None:
    """Nothing unsupported; every block's words on screen in order; every button pressable as sent."""
    assert UNSUPPORTED not in fragment
    page = Page(fragment)
    visible = words(page.text)
    for block in reply.blocks:
        for text in shown(block):
            assert words(text) in visible, (text, page.text)
    drawn = [
        (element.attrs.get("data-action-id"), element.attrs.get("data-value"))
        for element in page.elements
        if "bk-button" in (element.attrs.get("class") or "").split()
    ]
    assert drawn == [(button["action_id"], button["value"]) for button in buttons_in(slack)]


# -- Blocks, exactly ---------------------------------------------------------------------------------------


def test_a_header_is_its_plain_text_with_emoji() -> None:
    assert one({"type": "header", "block_id": "h1", "text": plain("Your settings :sparkles:")}) == (
        '<div class="bk-block bk-header" data-block-id="h1">Your settings ✨</div>'
    )


def test_a_section_with_mrkdwn_text() -> None:
    assert one({"type": "section", "text": mrkdwn("Logged *1h30* at _Acme_.")}) == (
        '<div class="bk-block bk-section"><div class="bk-section-body"><div class="bk-text">'
        "Logged <b>1h30</b> at <i>Acme</i>.</div></div></div>"
    )


def test_a_section_with_plain_text_shows_markup_and_escapes_literally() -> None:
    assert one({"type": "section", "text": plain("*not bold* &amp; <b>\nnext", emoji=False)}) == (
        '<div class="bk-block bk-section"><div class="bk-section-body"><div class="bk-text">'
        "*not bold* &amp;amp; &lt;b&gt;<br>next</div></div></div>"
    )


def test_a_section_with_fields_is_a_grid_of_cells() -> None:
    block = {"type": "section", "fields": [mrkdwn("*Client*"), plain("Acme"), mrkdwn("*Due*"), plain("Fri")]}

    assert one(block) == (
        '<div class="bk-block bk-section"><div class="bk-section-body"><div class="bk-fields">'
        '<div class="bk-field"><b>Client</b></div><div class="bk-field">Acme</div>'
        '<div class="bk-field"><b>Due</b></div><div class="bk-field">Fri</div>'
        "</div></div></div>"
    )


def test_a_section_with_a_button_beside_it() -> None:
    block = {
        "type": "section",
        "block_id": "b7",
        "text": mrkdwn("#7 *Acme*"),
        "accessory": {
            "type": "button",
            "text": plain("Kept"),
            "action_id": "promise.kept#0",
            "value": "7",
            "style": "primary",
        },
    }

    assert one(block) == (
        '<div class="bk-block bk-section" data-block-id="b7"><div class="bk-section-body">'
        '<div class="bk-text">#7 <b>Acme</b></div></div><div class="bk-accessory">'
        '<button type="button" class="bk-button bk-primary" data-action-id="promise.kept#0" data-value="7" '
        'data-block-id="b7">Kept</button></div></div>'
    )


def test_a_section_with_an_image_beside_it() -> None:
    block = {
        "type": "section",
        "text": plain("Chart"),
        "accessory": {"type": "image", "image_url": "https://img.example/c.png", "alt_text": "8 weeks"},
    }

    assert one(block) == (
        '<div class="bk-block bk-section"><div class="bk-section-body"><div class="bk-text">Chart</div></div>'
        '<div class="bk-accessory"><img class="bk-accessory-image" src="https://img.example/c.png" '
        'alt="8 weeks"></div></div>'
    )


def test_a_context_block_holds_small_texts_and_images() -> None:
    block = {
        "type": "context",
        "elements": [
            mrkdwn("Reminders stop once it's _marked_ sent."),
            plain("2 of 3"),
            {"type": "image", "image_url": "http://img.example/a.png", "alt_text": "Ana"},
        ],
    }

    assert one(block) == (
        '<div class="bk-block bk-context"><span class="bk-context-text">Reminders stop once it\'s '
        '<i>marked</i> sent.</span><span class="bk-context-text">2 of 3</span>'
        '<img class="bk-context-image" src="http://img.example/a.png" alt="Ana"></div>'
    )


def test_a_divider() -> None:
    assert one({"type": "divider"}) == '<hr class="bk-block bk-divider">'
    assert one({"type": "divider", "block_id": "d"}) == '<hr class="bk-block bk-divider" data-block-id="d">'


def test_actions_are_a_row_of_buttons_in_each_style_and_a_link_button() -> None:
    block = {
        "type": "actions",
        "block_id": "row",
        "elements": [
            {
                "type": "button",
                "text": plain("Mark sent"),
                "action_id": "a#0",
                "value": "1",
                "style": "primary",
            },
            {"type": "button", "text": plain("Delete"), "action_id": "b#1", "value": "2", "style": "danger"},
            {"type": "button", "text": plain("Snooze :zzz:"), "action_id": "c#2", "value": "3"},
            {
                "type": "button",
                "text": plain("Docs"),
                "action_id": "d#3",
                "url": "https://docs.example/x?a=1&b=2",
            },
        ],
    }

    assert one(block) == (
        '<div class="bk-block bk-actions" data-block-id="row">'
        '<button type="button" class="bk-button bk-primary" data-action-id="a#0" data-value="1" '
        'data-block-id="row">Mark sent</button>'
        '<button type="button" class="bk-button bk-danger" data-action-id="b#1" data-value="2" '
        'data-block-id="row">Delete</button>'
        '<button type="button" class="bk-button" data-action-id="c#2" data-value="3" '
        'data-block-id="row">Snooze 💤</button>'
        '<a class="bk-button" data-action-id="d#3" data-block-id="row" '
        f'href="https://docs.example/x?a=1&amp;b=2" {LINK}>Docs</a>'
        "</div>"
    )


def test_an_image_block_with_its_title_above() -> None:
    block = {
        "type": "image",
        "image_url": "https://img.example/chart.png",
        "alt_text": "Follow-ups on time",
        "title": plain("The last 8 weeks"),
    }

    assert one(block) == (
        '<figure class="bk-block bk-image"><figcaption class="bk-image-title">The last 8 weeks</figcaption>'
        '<img class="bk-image-img" src="https://img.example/chart.png" alt="Follow-ups on time"></figure>'
    )
    assert one({"type": "image", "image_url": "https://img.example/c.png", "alt_text": "c"}) == (
        '<figure class="bk-block bk-image"><img class="bk-image-img" src="https://img.example/c.png" '
        'alt="c"></figure>'
    )


def test_an_image_from_anywhere_but_the_web_shows_its_alt_text() -> None:
    for url in ("javascript:alert(1)", "data:image/png;base64,AAAA", "/files/chart.png", ""):
        assert one({"type": "image", "image_url": url, "alt_text": "chart"}) == (
            '<figure class="bk-block bk-image"><span class="bk-image-unavailable">chart</span></figure>'
        )


def test_a_single_line_input_with_placeholder_and_initial_value() -> None:
    block = {
        "type": "input",
        "block_id": "client",
        "optional": False,
        "label": plain("Client"),
        "element": {
            "type": "plain_text_input",
            "action_id": "client",
            "multiline": False,
            "placeholder": plain("Acme Dental"),
            "initial_value": "Bo Bakery",
        },
    }

    assert one(block) == (
        '<div class="bk-block bk-input" data-block-id="client">'
        '<label class="bk-label" for="bk-input-client">Client</label>'
        '<input type="text" class="bk-text-input" id="bk-input-client" name="client" data-action-id="client" '
        'placeholder="Acme Dental" required="" value="Bo Bakery"></div>'
    )


def test_an_optional_multiline_input_with_a_hint() -> None:
    block = {
        "type": "input",
        "block_id": "remaining",
        "optional": True,
        "label": plain("What is left"),
        "hint": plain("Leave blank if nothing"),
        "element": {
            "type": "plain_text_input",
            "action_id": "remaining",
            "multiline": True,
            "max_length": 500,
        },
    }

    assert one(block) == (
        '<div class="bk-block bk-input" data-block-id="remaining">'
        '<label class="bk-label" for="bk-input-remaining">What is left'
        '<span class="bk-optional"> (optional)</span></label>'
        '<textarea class="bk-text-input" id="bk-input-remaining" name="remaining" data-action-id="remaining" '
        'maxlength="500"></textarea><div class="bk-hint">Leave blank if nothing</div></div>'
    )


def test_checkboxes_with_the_initial_options_ticked() -> None:
    options = [
        {"text": plain("Follow-up e-mails"), "value": "followup"},
        {"text": mrkdwn("*Calls*"), "value": "call", "description": plain("after a cancellation")},
    ]
    block = {
        "type": "input",
        "block_id": "kinds",
        "optional": True,
        "label": plain("Reminders I want"),
        "element": {
            "type": "checkboxes",
            "action_id": "kinds",
            "options": options,
            "initial_options": options[1:],
        },
    }

    assert one(block) == (
        '<div class="bk-block bk-input" data-block-id="kinds">'
        '<label class="bk-label">Reminders I want<span class="bk-optional"> (optional)</span></label>'
        '<div class="bk-checkboxes" data-action-id="kinds">'
        '<label class="bk-checkbox"><input type="checkbox" name="kinds" value="followup">'
        '<span class="bk-option-text">Follow-up e-mails</span></label>'
        '<label class="bk-checkbox"><input type="checkbox" name="kinds" value="call" checked="">'
        '<span class="bk-option-text"><b>Calls</b></span>'
        '<span class="bk-option-description">after a cancellation</span></label>'
        "</div></div>"
    )


@pytest.mark.parametrize(
    "block",
    [
        {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": []}]},
        {"type": "video", "title": plain("x")},
        {"type": "file", "external_id": "F1"},
    ],
    ids=lambda block: block["type"],
)
def test_an_unknown_block_is_shown_as_unsupported_by_name(block: dict[str, Any]) -> None:
    kind = block["type"]
    assert one(block) == f'<span class="bk-unsupported" data-type="{kind}">Unsupported block: {kind}</span>'


def test_unknown_elements_and_text_objects_are_shown_as_unsupported_where_they_stand() -> None:
    select = {"type": "static_select", "action_id": "s", "options": []}
    fragment = render_blocks(
        [
            {
                "type": "actions",
                "elements": [select, {"type": "button", "text": plain("Go"), "action_id": "g"}],
            },
            {"type": "section", "text": mrkdwn("Pick"), "accessory": {"type": "overflow", "options": []}},
            {"type": "context", "elements": [{"type": "rich_text_section"}]},
            {"type": "input", "label": plain("Day"), "element": {"type": "datepicker", "action_id": "d"}},
            {"type": "header", "text": mrkdwn("*not allowed*")},
            {"type": "section", "text": {"type": "markdown", "text": "# x"}},
            {"no": "type"},
        ],
        context=CONTEXT,
    )

    page = Page(fragment)
    unsupported = [
        element.attrs["data-type"] for element in page.elements if element.attrs.get("class") == UNSUPPORTED
    ]
    assert unsupported == [
        "static_select",
        "overflow",
        "rich_text_section",
        "datepicker",
        "mrkdwn",
        "markdown",
        "(no type)",
    ]
    assert "Unsupported block: static_select" in page.text
    # What can be drawn around them still is.
    assert [element.attrs.get("data-action-id") for element in page.having("button")] == ["g"]
    assert "Pick" in page.text


def test_render_plain_draws_emoji_unless_told_not_to() -> None:
    assert render_plain(plain("Save :tada:")) == "Save 🎉"
    assert render_plain(plain("Save :tada:", emoji=False)) == "Save :tada:"
    assert (
        render_plain(mrkdwn("x"))
        == '<span class="bk-unsupported" data-type="mrkdwn">Unsupported block: mrkdwn</span>'
    )


# -- mrkdwn, exactly ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("*bold* _italic_ ~struck~", "<b>bold</b> <i>italic</i> <s>struck</s>"),
        ("*bold _and italic_*", "<b>bold <i>and italic</i></b>"),
        ("_*both*_", "<i><b>both</b></i>"),
        ("Logged *1h30*, then _left_.", "Logged <b>1h30</b>, then <i>left</i>."),
        # Markers inside words, lone or doubled, or not hugging their text stay as typed.
        (
            "acme_dental_2 2*3*4 5 * 3 **x** __y__ * a * _ b _",
            "acme_dental_2 2*3*4 5 * 3 **x** __y__ * a * _ b _",
        ),
        ("*not\nacross lines*", "*not<br>across lines*"),
        ("`code *not bold* :tada:`", '<code class="bk-code">code *not bold* :tada:</code>'),
        ("*bold `code` more*", '<b>bold <code class="bk-code">code</code> more</b>'),
        (
            "Draft:\n```Subject: Visit\n\nHello *Jane* :wave: &lt;3```\nSent?",
            'Draft:<pre class="bk-pre">Subject: Visit\n\nHello *Jane* :wave: &lt;3</pre>Sent?',
        ),
        ("```\nfirst\n```", '<pre class="bk-pre">first</pre>'),
        ("one\ntwo\n\nthree", "one<br>two<br><br>three"),
        ("&lt;b&gt; &amp;amp; Tom &amp; Jerry", "&lt;b&gt; &amp;amp; Tom &amp; Jerry"),
        ('5 &gt; 3 "quoted" it\'s', '5 &gt; 3 "quoted" it\'s'),
        (":white_check_mark: Done :tada::tada:", "✅ Done 🎉🎉"),
        ("*:warning: late*", "<b>⚠️ late</b>"),
        ("at 9:00:00 and 14:00-15:30 :not_a_code: :Tada:", "at 9:00:00 and 14:00-15:30 :not_a_code: :Tada:"),
        (":+1: :100:", "👍 💯"),
    ],
)
def test_mrkdwn_styles_code_escapes_emoji_and_line_breaks(text: str, html: str) -> None:
    assert md(text) == html


@pytest.mark.parametrize(
    ("text", "html"),
    [
        (
            "<https://acme.example/a_b_c?x=1&amp;y=2|the *site*>",
            f'<a class="bk-link" href="https://acme.example/a_b_c?x=1&amp;y=2" {LINK}>the *site*</a>',
        ),
        (
            "<http://acme.example>",
            f'<a class="bk-link" href="http://acme.example" {LINK}>http://acme.example</a>',
        ),
        (
            "Send it: <mailto:jane@acme.example?subject=Visit%20summary&amp;body=Hi|Open in e-mail>",
            'Send it: <a class="bk-link" href="mailto:jane@acme.example?subject=Visit%20summary&amp;body=Hi" '
            f"{LINK}>Open in e-mail</a>",
        ),
        (
            "<mailto:jane@acme.example>",
            f'<a class="bk-link" href="mailto:jane@acme.example" {LINK}>jane@acme.example</a>',
        ),
        (
            "*<https://a.example|bold link>*",
            f'<b><a class="bk-link" href="https://a.example" {LINK}>bold link</a></b>',
        ),
        ("<HTTPS://A.EXAMPLE|caps>", f'<a class="bk-link" href="HTTPS://A.EXAMPLE" {LINK}>caps</a>'),
        # Only the web and e-mail become links; the rest shows its label as text.
        ("<javascript:alert(1)|click me>", "click me"),
        ("<JavaScript:alert(1)>", "JavaScript:alert(1)"),
        ("<data:text/html,&lt;script&gt;|x>", "x"),
        ("< https://a.example|spaced>", "spaced"),
        ("<vbscript:msgbox|y> <file:///etc/passwd|z> <//evil.example|w>", "y z w"),
        # Unescaped brackets still open a control sequence, as in Slack; a lone one is text.
        ("a <b and c> d", "a b and c d"),
        ("a < b, c > d", "a  b, c  d"),
        ("a < b", "a &lt; b"),
        (
            "<@U111> <@U222|bob> <@U999> <@U998|old name>",
            (
                '<span class="bk-mention" data-user-id="U111">@Ana</span> '
                '<span class="bk-mention" data-user-id="U222">@Bo</span> '
                '<span class="bk-mention" data-user-id="U999">@U999</span> '
                '<span class="bk-mention" data-user-id="U998">@old name</span>'
            ),
        ),
        (
            "<#C123|managers> <#C456>",
            (
                '<span class="bk-mention bk-channel" data-channel-id="C123">#managers</span> '
                '<span class="bk-mention bk-channel" data-channel-id="C456">#C456</span>'
            ),
        ),
        (
            "<!here> <!channel> <!everyone> <!here|here>",
            (
                '<span class="bk-mention bk-broadcast">@here</span> '
                '<span class="bk-mention bk-broadcast">@channel</span> '
                '<span class="bk-mention bk-broadcast">@everyone</span> '
                '<span class="bk-mention bk-broadcast">@here</span>'
            ),
        ),
        (
            "<!subteam^S123|@techs> <!subteam^S456>",
            ('<span class="bk-mention">@techs</span> <span class="bk-mention">@S456</span>'),
        ),
        ("<!unknown|shown> <!nothing>", "shown &lt;!nothing&gt;"),
        ("_<@U111>_", '<i><span class="bk-mention" data-user-id="U111">@Ana</span></i>'),
        (
            "`<@U111>`",
            '<code class="bk-code"><span class="bk-mention" data-user-id="U111">@Ana</span></code>',
        ),
    ],
)
def test_mrkdwn_links_and_mentions(text: str, html: str) -> None:
    assert md(text) == html


# 1795446000 is Monday 23 November 2026, 15:00 UTC: 9:00 AM in Chicago, 4:00 PM in Berlin.
STAMP = 1795446000


@pytest.mark.parametrize(
    ("zone", "template", "shown"),
    [
        (CHICAGO, "{date_num}", "2026-11-23"),
        (CHICAGO, "{date}", "November 23rd, 2026"),
        (CHICAGO, "{date_short}", "Nov 23, 2026"),
        (CHICAGO, "{date_long}", "Monday, November 23rd, 2026"),
        (CHICAGO, "{date_pretty}", "Today"),
        (CHICAGO, "{date_short_pretty} at {time}", "Today at 9:00 AM"),
        (CHICAGO, "{date_long_pretty}", "Today"),
        (CHICAGO, "{time_secs}", "9:00:00 AM"),
        (CHICAGO, "Due {date_short} {time}", "Due Nov 23, 2026 9:00 AM"),
        (BERLIN, "{date_num}", "2026-11-23"),
        (BERLIN, "{time}", "4:00 PM"),
        (BERLIN, "{time_secs}", "4:00:00 PM"),
        (BERLIN, "{date_long_pretty}, {time}", "Today, 4:00 PM"),
    ],
)
def test_date_tokens_in_the_viewers_zone(zone: ZoneInfo, template: str, shown: str) -> None:
    context = RenderContext(tz=zone, now=NOW)

    assert md(f"<!date^{STAMP}^{template}|fallback>", context) == (
        f'<time class="bk-date" datetime="2026-11-23T15:00:00+00:00">{shown}</time>'
    )


def test_a_date_near_midnight_falls_on_different_days_in_two_zones() -> None:
    # Tuesday 24 November 2026, 05:30 UTC: still Monday 11:30 PM in Chicago, already Tuesday in Berlin.
    stamp = STAMP + 14 * 3600 + 30 * 60
    text = f"<!date^{stamp}^{{date_long_pretty}} {{time}}|Tue>"

    assert Page(md(text, RenderContext(tz=CHICAGO, now=NOW))).text.strip() == "Today 11:30 PM"
    assert Page(md(text, RenderContext(tz=BERLIN, now=NOW))).text.strip() == "Tomorrow 6:30 AM"


@pytest.mark.parametrize(
    ("offset_days", "pretty", "short_pretty", "long_pretty"),
    [
        (-2, "November 21st, 2026", "Nov 21, 2026", "Saturday, November 21st, 2026"),
        (-1, "Yesterday", "Yesterday", "Yesterday"),
        (1, "Tomorrow", "Tomorrow", "Tomorrow"),
        (2, "November 25th, 2026", "Nov 25, 2026", "Wednesday, November 25th, 2026"),
        (9, "December 2nd, 2026", "Dec 2, 2026", "Wednesday, December 2nd, 2026"),
        (-12, "November 11th, 2026", "Nov 11, 2026", "Wednesday, November 11th, 2026"),
        (-22, "November 1st, 2026", "Nov 1, 2026", "Sunday, November 1st, 2026"),
        (-10, "November 13th, 2026", "Nov 13, 2026", "Friday, November 13th, 2026"),
    ],
)
def test_pretty_dates_name_the_days_next_to_today(
    offset_days: int, pretty: str, short_pretty: str, long_pretty: str
) -> None:
    stamp = STAMP + offset_days * 86400
    drawn = [
        Page(md(f"<!date^{stamp}^{{{token}}}|fallback>")).text.strip()
        for token in ("date_pretty", "date_short_pretty", "date_long_pretty")
    ]

    assert drawn == [pretty, short_pretty, long_pretty]


def test_times_around_noon_and_midnight_use_a_twelve_hour_clock() -> None:
    midnight = int(datetime(2026, 11, 23, 0, 0, 5, tzinfo=CHICAGO).timestamp())
    noon = int(datetime(2026, 11, 23, 12, 30, tzinfo=CHICAGO).timestamp())

    assert Page(md(f"<!date^{midnight}^{{time_secs}}|x>")).text.strip() == "12:00:05 AM"
    assert Page(md(f"<!date^{noon}^{{time}}|x>")).text.strip() == "12:30 PM"


@pytest.mark.parametrize(
    "text",
    [
        f"<!date^{STAMP}^{{ago}}|the fallback>",
        f"<!date^{STAMP}^{{date}} {{nonsense}}|the fallback>",
        "<!date^soon^{date}|the fallback>",
        f"<!date^{10**20}^{{date}}|the fallback>",
        f"<!date^{STAMP}^|the fallback>",
    ],
)
def test_a_date_slack_could_not_draw_shows_its_fallback(text: str) -> None:
    assert md(text) == "the fallback"


def test_a_date_with_a_link_is_a_link_only_to_the_web() -> None:
    assert md(f"<!date^{STAMP}^{{time}}^https://cal.example/e?1&amp;2|x>") == (
        f'<a class="bk-link" href="https://cal.example/e?1&amp;2" {LINK}><time class="bk-date" '
        'datetime="2026-11-23T15:00:00+00:00">9:00 AM</time></a>'
    )
    assert md(f"<!date^{STAMP}^{{time}}^javascript:alert(1)|x>") == (
        '<time class="bk-date" datetime="2026-11-23T15:00:00+00:00">9:00 AM</time>'
    )


def test_the_context_needs_an_aware_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        RenderContext(tz=CHICAGO, now=datetime(2026, 11, 23, 9, 0))


def test_the_emoji_map_has_every_code_the_teams_renderer_draws_and_more() -> None:
    # The Teams renderer's characters are checked one by one in tests/handlers/teams/test_cards.py.
    assert {code: EMOJI[code] for code in cards.EMOJI} == cards.EMOJI
    assert len(EMOJI) >= len(cards.EMOJI) + 40


@pytest.mark.parametrize("code", [*sorted(cards.EMOJI)[:3], "thumbsup", "rotating_light", "eyes"])
def test_an_emoji_code_renders_as_its_character_in_text(code: str) -> None:
    assert md(f"a :{code}: b") == f"a {EMOJI[code]} b"
    assert EMOJI[code] != f":{code}:"


# -- Views -------------------------------------------------------------------------------------------------


def small_modal(**extra: Any) -> dict[str, Any]:
    """A modal with one text input and one tick box, as the bot's forms are built."""
    return {
        "type": "modal",
        "id": "V123",
        "callback_id": "visit.log",
        "private_metadata": '{"channel": "D1"}',
        "title": plain("Log a visit"),
        "submit": plain("Log visit"),
        "close": plain("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": "duration",
                "label": plain("Time spent"),
                "element": {"type": "plain_text_input", "action_id": "duration", "initial_value": "1h"},
            },
            {
                "type": "input",
                "block_id": "new_client",
                "optional": True,
                "label": plain("New client?"),
                "element": {
                    "type": "checkboxes",
                    "action_id": "new_client",
                    "options": [{"text": plain("This is a new client"), "value": "yes"}],
                },
            },
        ],
        **extra,
    }


def test_a_modal_has_its_title_inputs_and_buttons_and_carries_its_ids() -> None:
    assert render_view(small_modal(), context=CONTEXT) == (
        '<form class="bk-view bk-modal" data-view-id="V123" data-callback-id="visit.log" '
        'data-private-metadata="{&quot;channel&quot;: &quot;D1&quot;}">'
        '<div class="bk-modal-header"><div class="bk-modal-title">Log a visit</div></div>'
        '<div class="bk-modal-body">'
        '<div class="bk-block bk-input" data-block-id="duration">'
        '<label class="bk-label" for="bk-input-duration">Time spent</label>'
        '<input type="text" class="bk-text-input" id="bk-input-duration" name="duration" '
        'data-action-id="duration" required="" value="1h"></div>'
        '<div class="bk-block bk-input" data-block-id="new_client">'
        '<label class="bk-label">New client?<span class="bk-optional"> (optional)</span></label>'
        '<div class="bk-checkboxes" data-action-id="new_client"><label class="bk-checkbox">'
        '<input type="checkbox" name="new_client" value="yes"><span class="bk-option-text">This is a new '
        "client</span></label></div></div>"
        "</div>"
        '<div class="bk-modal-footer"><button type="button" class="bk-button bk-close">Cancel</button>'
        '<button type="submit" class="bk-button bk-primary bk-submit">Log visit</button></div>'
        "</form>"
    )


def test_a_modal_without_close_or_submit_gets_slacks_cancel_only() -> None:
    view = {"type": "modal", "title": plain("Note"), "blocks": [{"type": "divider"}]}

    assert render_view(view, context=CONTEXT) == (
        '<form class="bk-view bk-modal"><div class="bk-modal-header"><div class="bk-modal-title">Note</div>'
        '</div><div class="bk-modal-body"><hr class="bk-block bk-divider"></div><div class="bk-modal-footer">'
        '<button type="button" class="bk-button bk-close">Cancel</button></div></form>'
    )


def test_a_modal_shown_again_keeps_what_was_typed_and_shows_each_error_under_its_field() -> None:
    context = RenderContext(
        tz=CHICAGO,
        now=NOW,
        errors={"duration": "How long? For example 1h30.", "new_client": "Tick it\nif new."},
        values={"duration": "ages", "new_client": ["yes"]},
    )

    page = Page(render_view(small_modal(), context=context))

    [text_input] = page.having("input")[:1]
    assert text_input.attrs["value"] == "ages"
    assert "checked" in page.having("input")[1].attrs
    fragment = render_view(small_modal(), context=context)
    assert (
        '<div class="bk-block bk-input bk-has-error" data-block-id="duration">'
        '<label class="bk-label" for="bk-input-duration">Time spent</label>'
        '<input type="text" class="bk-text-input" id="bk-input-duration" name="duration" '
        'data-action-id="duration" required="" value="ages">'
        '<div class="bk-error" role="alert">How long? For example 1h30.</div></div>'
    ) in fragment
    assert '<div class="bk-error" role="alert">Tick it<br>if new.</div></div>' in fragment


@pytest.mark.parametrize(
    "values",
    [
        # Slack's view.state.values, as the page posts them back in view_submission...
        {
            "duration": {"duration": {"type": "plain_text_input", "value": "2h"}},
            "new_client": {"new_client": {"type": "checkboxes", "selected_options": [{"value": "yes"}]}},
        },
        # ...one action's state on its own, or the bare values.
        {
            "duration": {"type": "plain_text_input", "value": "2h"},
            "new_client": {"type": "checkboxes", "selected_options": [{"value": "yes"}]},
        },
        {"duration": {"value": "2h"}, "new_client": {"selected_options": [{"value": "yes"}]}},
        {"duration": "2h", "new_client": frozenset({"yes"})},
    ],
)
def test_kept_values_may_come_as_slacks_view_state_or_bare(values: dict[str, Any]) -> None:
    page = Page(render_view(small_modal(), context=RenderContext(tz=CHICAGO, now=NOW, values=values)))

    text_input, checkbox = page.having("input")
    assert text_input.attrs["value"] == "2h"
    assert "checked" in checkbox.attrs


def test_a_kept_empty_value_or_no_ticks_replace_the_initial_ones() -> None:
    modal = small_modal()
    modal["blocks"][1]["element"]["initial_options"] = modal["blocks"][1]["element"]["options"]
    context = RenderContext(tz=CHICAGO, now=NOW, values={"duration": "", "new_client": []})

    text_input, checkbox = Page(render_view(modal, context=context)).having("input")
    assert text_input.attrs["value"] == ""
    assert "checked" not in checkbox.attrs


def test_a_kept_multiline_value_keeps_its_first_line_break() -> None:
    block = {
        "type": "input",
        "block_id": "work_done",
        "label": plain("What was done"),
        "element": {"type": "plain_text_input", "action_id": "work_done", "multiline": True},
    }
    context = RenderContext(tz=CHICAGO, now=NOW, values={"work_done": "\nfuser & <toner>"})

    assert one(block, context).endswith(
        '<textarea class="bk-text-input" id="bk-input-work_done" name="work_done" data-action-id="work_done" '
        'required="">\n\nfuser &amp; &lt;toner&gt;</textarea></div>'
    )


def test_a_home_tab_is_its_blocks_with_its_id() -> None:
    view = {"type": "home", "id": "VH1", "blocks": [{"type": "header", "text": plain("What's open")}]}

    assert render_view(view, context=CONTEXT) == (
        '<div class="bk-view bk-home" data-view-id="VH1">'
        '<div class="bk-block bk-header">What\'s open</div></div>'
    )


def test_an_unknown_view_type_is_shown_as_unsupported() -> None:
    assert render_view({"type": "workflow_step", "blocks": []}, context=CONTEXT) == (
        '<span class="bk-unsupported" data-type="workflow_step">Unsupported block: workflow_step</span>'
    )


# -- Hostile text ------------------------------------------------------------------------------------------

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(1)' x='",
    "javascript:alert(1)",
    "</textarea><script>alert(1)</script>",
    "</pre><script>alert(2)</script>",
    "<!-- <style>* {display:none}</style>",
    "&lt;script&gt;alert(3)&lt;/script&gt; &amp; &#x3C;",
    "`</code><svg onload=alert(4)>`",
]
TAGS = {
    "a",
    "b",
    "br",
    "button",
    "code",
    "div",
    "figcaption",
    "figure",
    "form",
    "hr",
    "i",
    "img",
    "input",
    "label",
    "pre",
    "s",
    "span",
    "textarea",
    "time",
}
ATTRIBUTES = {
    "alt",
    "aria-label",
    "checked",
    "class",
    "datetime",
    "for",
    "href",
    "id",
    "maxlength",
    "minlength",
    "name",
    "placeholder",
    "rel",
    "required",
    "role",
    "src",
    "target",
    "type",
    "value",
}


def assert_harmless(fragment: str) -> Page:
    """Only our tags and attributes, links only to the web or e-mail, images only from the web."""
    page = Page(fragment)
    for element in page.elements:
        assert element.tag in TAGS, element
        for name, value in element.attrs.items():
            assert name in ATTRIBUTES or name.startswith("data-"), element
            if name == "href":
                assert re.match(r"(https?://|mailto:)", value or "", re.IGNORECASE), element
            if name == "src":
                assert re.match(r"https?://", value or "", re.IGNORECASE), element
    return page


def kitchen_sink(bad: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A message and a modal with the hostile text in every place a block can carry text or an id."""
    button = {
        "type": "button",
        "text": plain(bad),
        "action_id": bad,
        "value": bad,
        "url": bad,
        "style": bad,
        "accessibility_label": bad,
    }
    blocks: list[dict[str, Any]] = [
        {"type": "header", "block_id": bad, "text": plain(bad)},
        {"type": "section", "block_id": bad, "text": mrkdwn(escape(bad)), "accessory": button},
        {"type": "section", "text": mrkdwn(bad), "fields": [mrkdwn(bad), plain(bad)]},
        {
            "type": "section",
            "text": mrkdwn(f"<{bad}|{bad}> <https://a.example/{bad}|{bad}> <@U666> <@{bad}>"),
        },
        {
            "type": "section",
            "text": mrkdwn(f"<#{bad}|{bad}> <!date^{STAMP}^{bad}|{bad}> <!date^{STAMP}^{{time}}^{bad}|x>"),
        },
        {"type": "section", "text": mrkdwn(f"```{bad}``` `{bad}` *{bad}* _{bad}_")},
        {
            "type": "context",
            "elements": [mrkdwn(bad), plain(bad), {"type": "image", "image_url": bad, "alt_text": bad}],
        },
        {
            "type": "actions",
            "block_id": bad,
            "elements": [button, {**button, "url": f"https://a.example/{bad}"}],
        },
        {"type": "image", "image_url": f"https://img.example/{bad}", "alt_text": bad, "title": plain(bad)},
        {"type": bad},
    ]
    inputs = [
        {
            "type": "input",
            "block_id": bad,
            "label": plain(bad),
            "hint": plain(bad),
            "element": {
                "type": "plain_text_input",
                "action_id": bad,
                "placeholder": plain(bad),
                "initial_value": bad,
                "multiline": multiline,
            },
        }
        for multiline in (False, True)
    ]
    inputs.append(
        {
            "type": "input",
            "block_id": "ticks",
            "label": plain(bad),
            "element": {
                "type": "checkboxes",
                "action_id": bad,
                "options": [{"text": mrkdwn(bad), "value": bad, "description": plain(bad)}],
                "initial_options": [{"text": mrkdwn(bad), "value": bad}],
            },
        }
    )
    modal: dict[str, Any] = {
        "type": "modal",
        "id": bad,
        "callback_id": bad,
        "private_metadata": bad,
        "title": plain(bad),
        "submit": plain(bad),
        "close": plain(bad),
        "blocks": [*blocks, *inputs],
    }
    return blocks, modal


@pytest.mark.parametrize("bad", HOSTILE)
def test_hostile_text_anywhere_is_shown_as_text_and_never_becomes_markup(bad: str) -> None:
    blocks, modal = kitchen_sink(bad)
    context = RenderContext(users={"U666": bad}, tz=CHICAGO, now=NOW, errors={bad: bad}, values={bad: bad})

    message = assert_harmless(render_blocks(blocks, context=context))
    view = assert_harmless(render_view(modal, context=context))
    modal["type"] = "home"
    assert_harmless(render_view(modal, context=context))

    # The bot escapes what people type before it reaches mrkdwn: it arrives on screen exactly as typed.
    assert bad in message.text
    assert f"@{bad}" in message.text
    for page in (message, view):
        pressed = [element for element in page.elements if element.attrs.get("data-action-id") == bad]
        assert pressed
        assert all(element.attrs.get("data-value") in (bad, None) for element in pressed)
        assert all(element.attrs.get("data-block-id") in (bad, None) for element in pressed)
    assert {
        element.attrs.get("value") for element in view.having("input") if element.attrs.get("type") == "text"
    } == {bad}
    assert view.having("form")[0].attrs == {
        "class": "bk-view bk-modal",
        "data-view-id": bad,
        "data-callback-id": bad,
        "data-private-metadata": bad,
    }
    assert bad in view.text


@pytest.mark.parametrize("bad", HOSTILE)
def test_hostile_markup_the_bot_did_not_escape_is_still_only_text(bad: str) -> None:
    for text in (bad, f"*{bad}*", f"<https://a.example|{bad}>", f"{bad}\n```{bad}```"):
        assert_harmless(md(text))


# -- Every reply the bot can make --------------------------------------------------------------------------


@dataclass
class Bot:
    """The core on a migrated SQLite file, its clock, and every reply it made, by name."""

    core: Core
    services: Services
    clock: FrozenClock
    replies: dict[str, Reply]

    def visit(self, name: str, text: str, who: Actor = ANA, *, shows: str) -> Reply:
        return self.keep(name, self.core.command(Invocation(who, "visit", text, f"k-{name}")).reply, shows)

    def promise(self, name: str, text: str, who: Actor = ANA, *, shows: str) -> Reply:
        return self.keep(name, self.core.command(Invocation(who, "promise", text, f"k-{name}")).reply, shows)

    def press(self, name: str, action: str, value: str, who: Actor = ANA, *, shows: str) -> Reply:
        return self.keep(name, self.core.press(Press(who, action, value)), shows)

    def keep(self, name: str, reply: Reply, shows: str) -> Reply:
        # Each step must be the reply it is named for, or the list below would prove less than it says.
        text = " ".join(line for block in reply.blocks for line in shown(block))
        assert shows in text, (name, text)
        assert name not in self.replies, name
        self.replies[name] = reply
        return reply


def button_value(reply: Reply, action: str) -> str:
    """The value of the reply's first button for an action."""
    for button in buttons_in(build_message(reply)):
        if action_name(button["action_id"]) == action:
            value: str = button["value"]
            return value
    raise AssertionError(f"no {action} button in {reply}")


@pytest.fixture(scope="module")
def bot(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    """Ana, Bo and Mo (a manager) through a week of commands, presses and forms, every reply kept."""
    path = tmp_path_factory.mktemp("sandbox") / "nudgebot.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    settings = Settings(_env_file=None, database_url=f"sqlite:///{path}", default_timezone="UTC")  # type: ignore[call-arg]
    clock = FrozenClock(NOW)
    services = Services(
        settings=settings.model_copy(update={"manager_ids": "U444"}),
        sessions=make_session_factory(engine),
        clock=clock,
    )
    core = Core(services)
    bot = Bot(core, services, clock, {})
    script(bot)
    yield bot
    engine.dispose()


def script(bot: Bot) -> None:
    """The commands and presses that make each kind of reply, in an order that makes each one possible."""
    core, clock = bot.core, bot.clock
    bot.visit("first command, time zone unknown", "Café Müller 45m reset the VPN", shows="Logged 45m")
    for actor, name, zone in (
        (ANA, "Ana", "America/Chicago"),
        (BO, "Bo", "Europe/Berlin"),
        (MO, "Mo", "UTC"),
    ):
        core.update_profile(actor, Profile(name, zone))
    bot.keep("help visit", usage("visit"), "Log a visit")
    bot.visit("help visit, typed", "help", shows="Plan an appointment")
    bot.promise("help promise, typed", "help", shows="Record a promise")
    bot.keep("help without files", usage("visit", shares_files=False), "Monthly report")
    bot.keep("an error", error("Something was off & <wrong>.", "/visit Acme Dental 1h"), "For example")
    bot.keep("working", WORKING, "Working on it")
    bot.keep("failed", FAILED, "Something went wrong")
    bot.keep("file failed", FILE_FAILED, "attach the file")
    bot.keep("already done", ALREADY_DONE, "only do things once")

    bot.visit(
        "visit logged, no e-mail address",
        '"Acme Dental" 1h30 replaced *fuser* & <toner>; todo: order toner',
        shows="Logged 1h30",
    )
    bot.visit(
        "contact set", "contact Acme Dental Jane Roe jane@acme.example +1 555 0100", shows="Saved the contact"
    )
    bot.visit(
        "visit logged, with e-mail", "Acme Dental 2h swapped the switch", shows="follow-up e-mail for Jane"
    )
    bot.visit("did you mean", "Acme Dentl 1h fixed the printer", shows="Did you mean")
    bot.visit("parse error", "plan Acme Dental", shows="For example")
    bot.visit("unknown client", "cancel Zebra Zoo", shows="I don't know a client")
    wide = bot.visit(
        "appointment with a wide window", "plan Acme Dental Friday 8-12", shows="Can you narrow it"
    )
    appointment = button_value(wide, "window.narrow")
    bot.press("window narrowed", "window.narrow", appointment, shows="one-hour window")
    bot.visit("appointment planned", 'plan "Bo Bakery" tomorrow 9-10', shows="Bo Bakery")
    cancelled = bot.visit("appointment cancelled", "cancel Bo Bakery technician ill", shows="Cancelled")
    call = button_value(cancelled, "call.logged")
    bot.press("call pressed", "call.logged", call, shows="Logged a call")
    bot.press("call pressed again", "call.logged", call, shows="All done")
    bot.visit("call logged", "call Acme Dental voicemail", shows="left a voicemail")
    bot.visit("cadence set", "cadence Acme Dental 14", shows="14")
    bot.visit("hours set", "hours 7:30-16", shows="7:30")
    bot.visit("hours shown", "hours", shows="Your working hours:")
    bot.visit("paused", "pause until Monday", shows="Reminders paused")
    bot.keep("home while paused", core.home(ANA), "Reminders paused until")
    bot.visit("resumed", "resume", shows="Reminders are on again")
    bot.visit("list all", "list", shows="Acme Dental")
    bot.visit("list one client", "list Acme Dental", shows="Acme Dental")
    bot.visit("nothing to list", "list", BO, shows="Nothing open")

    added = bot.promise("promise added", "Acme Dental send the revised quote by Friday", shows="Promise #1")
    promise = button_value(added, "promise.kept")
    bot.promise(
        "second promise added", '"Bo Bakery" call back about the NAS by Wednesday', shows="Promise #2"
    )
    bot.promise("promises listed", "list", shows="Promises")
    bot.promise("no promises", "list", BO, shows="no open promises")
    bot.promise("promise moved", f"move {promise} to next Tuesday", shows="Moved #1")
    bot.press("move hint pressed", "promise.movehint", promise, shows="/promise move")
    bot.promise("promise kept", f"done {promise}", shows="kept")
    bot.press("kept pressed again", "promise.kept", promise, shows="already marked kept")
    bot.promise("someone else's promise", "done 2", BO, shows="isn't one of yours")

    bot.visit("report", "report Acme Dental", shows="The report for")
    bot.visit("report refused", "report Acme Dental", BO, shows="Only the technicians")
    bot.visit("digest refused", "digest", shows="Only managers")
    bot.visit("digest asked", "digest", MO, shows="on its way")
    bot.visit("digest here without a channel", "digest here", MO, shows="DIGEST_CHANNEL")
    in_channel = Seen(conversation=Conversation("C123", "channel", "https://slack.example"))
    here = core.command(Invocation(MO, "visit", "digest here", "k-digest-here", seen=in_channel)).reply
    bot.keep("digest here", here, "posted in this channel")

    with bot.services.sessions.begin() as session:
        visit_id = session.scalars(select(Visit.id).order_by(Visit.id.desc())).first()
        acme = session.scalars(select(Client).where(Client.name == "Acme Dental")).one()
        acme_id, workspace_id = acme.id, acme.workspace_id
    assert visit_id is not None
    bot.press("follow-up snoozed", "followup.snooze", str(visit_id), shows="remind you about the follow-up")
    bot.press("follow-up sent", "followup.sent", str(visit_id), shows="marked sent")
    bot.press("follow-up sent again", "followup.sent", str(visit_id), shows="All done")
    bot.press("check-in up to date", "checkin.touch", f"{acme_id}:call", shows="was last touched")
    bot.press("running late", "appointment.late", appointment, shows="Acme Dental")
    bot.press("button out of date", "no.such", "1", shows="out of date")

    bot.keep("home", core.home(ANA), "What's open")
    bot.keep("home for a manager", core.home(MO), "Team overview")
    bot.keep("home with a notice", core.home(ANA, notice=bot.replies["call pressed"]), "Logged a call")
    submitted = core.submit(
        Submission(
            ANA, VISIT_FORM, {"client": "Acme Dental", "duration": "1h", "work_done": "cabling"}, frozenset()
        )
    )
    assert submitted.reply is not None
    bot.keep("visit form submitted", submitted.reply, "Logged 1h")
    submitted = core.submit(
        Submission(
            ANA,
            PROMISE_FORM,
            {"client": "Newco", "text": "quote", "due": "Friday"},
            frozenset({NEW_CLIENT}),
            "f2",
        )
    )
    assert submitted.reply is not None
    bot.keep("promise form submitted", submitted.reply, "Promise #3")

    # Two weeks on: Acme Dental (every 14 days) is due a check-in, promise #2 is overdue.
    clock.advance(days=16)
    with bot.services.sessions.begin() as session:
        technician = session.scalars(select(Technician).where(Technician.user_id == "U111")).one()
        hours = nudges.working_hours(technician, ZoneInfo("UTC"))
        unsent = session.scalars(select(Visit.id).where(Visit.followup_sent_at.is_(None))).first()
        for name, subject, kind in (
            ("nudge: follow-up", f"visit:{unsent}", nudges.FOLLOWUP),
            ("nudge: call", f"appointment:{call.split(':')[0]}", nudges.CALL),
            ("nudge: appointment today", f"appointment:{appointment}", nudges.APPOINTMENT),
            ("nudge: promise", "promise:2", nudges.PROMISE),
            ("nudge: check-in", f"client:{acme_id}", nudges.CHECKIN),
        ):
            reply = nudges.compose(session, Nudge(id=1, subject=subject, kind=kind), hours, clock.now)
            bot.keep(name, reply, "")
        week = digest.gather(session, workspace_id=workspace_id, end=NOW + timedelta(days=7), tz=CHICAGO)
    composed = digest.compose(week)
    for number, reply in enumerate((composed.summary, *composed.details)):
        bot.keep(f"digest part {number}", reply, "Team digest" if number == 0 else "")
    bot.keep("home, two weeks on", core.home(ANA), "Check-ins due")
    bot.press("check-in snoozed", "checkin.snooze", str(acme_id), shows="I'll remind you about")
    bot.press("check-in snoozed again", "checkin.snooze", str(acme_id), shows="already snoozed")
    bot.press("check-in logged", "checkin.touch", f"{acme_id}:email", shows="Logged an e-mail")


def gapped_digest(services: Services) -> digest.Digest:
    """The digest of a week with every kind of gap and undeliverable reminders, seeded as the digest's
    own tests seed it."""
    seed = Seed(services, team="T222")
    ana = seed.technician("U111", "Ana")
    bo = seed.technician("U222", None)
    acme = seed.client("Acme & <Dental>", ana, touched=at(20))
    cafe = seed.client("Café Müller", bo, phone="+1 555 0100", touched=at(20, month=10))
    seed.client("Dormant & Co", None, created=at(1, month=9))
    seed.visit(ana, acme, at(16, 12), sent=at(16, 15))
    seed.visit(ana, acme, at(18), sent=at(20))
    seed.visit(bo, cafe, at(17), minutes=45)
    seed.cancelled(bo, cafe, at(18, 14), at(17))
    seed.promise(ana, acme, "order *toner*", at(18, 17), done=at(20, 17))
    seed.promise(bo, cafe, "send the quote", at(19, 23))
    for hour, reason in ((10, "user_not_found"), (11, "token_revoked"), (12, "weird_error")):
        seed.nudge(ana, status=NudgeStatus.DEAD, created=at(17, hour), reason=reason)
    for day in (3, 5, 10, 17, 19):
        seed.visit(ana, acme, at(day), minutes=90, sent=at(day, 16))
    return seed.digest()


MESSAGES = [
    "first command, time zone unknown",
    "help visit",
    "help visit, typed",
    "help promise, typed",
    "help without files",
    "an error",
    "working",
    "failed",
    "file failed",
    "already done",
    "visit logged, no e-mail address",
    "contact set",
    "visit logged, with e-mail",
    "did you mean",
    "parse error",
    "unknown client",
    "appointment with a wide window",
    "window narrowed",
    "appointment planned",
    "appointment cancelled",
    "call pressed",
    "call pressed again",
    "call logged",
    "cadence set",
    "hours set",
    "hours shown",
    "paused",
    "resumed",
    "list all",
    "list one client",
    "nothing to list",
    "promise added",
    "second promise added",
    "promises listed",
    "no promises",
    "promise moved",
    "move hint pressed",
    "promise kept",
    "kept pressed again",
    "someone else's promise",
    "report",
    "report refused",
    "digest refused",
    "digest asked",
    "digest here without a channel",
    "digest here",
    "follow-up snoozed",
    "follow-up sent",
    "follow-up sent again",
    "check-in up to date",
    "check-in snoozed",
    "check-in snoozed again",
    "check-in logged",
    "running late",
    "button out of date",
    "visit form submitted",
    "promise form submitted",
    "nudge: follow-up",
    "nudge: call",
    "nudge: appointment today",
    "nudge: promise",
    "nudge: check-in",
]
HOMES = ["home while paused", "home", "home for a manager", "home with a notice", "home, two weeks on"]


def test_the_script_names_every_reply_it_makes(bot: Bot) -> None:
    parts = {name for name in bot.replies if name.startswith("digest part ")}

    assert len(parts) >= 2
    assert set(bot.replies) - parts == {*MESSAGES, *HOMES}


@pytest.mark.parametrize("name", MESSAGES)
def test_every_message_the_bot_sends_is_drawn_whole(bot: Bot, name: str) -> None:
    reply = bot.replies[name]
    message = build_message(reply)

    fragment = render_blocks(message["blocks"], context=CONTEXT)

    assert_drawn_whole(reply, fragment, message)
    assert_harmless(fragment)


def test_every_part_of_the_digest_is_drawn_whole(bot: Bot) -> None:
    parts = [reply for name, reply in bot.replies.items() if name.startswith("digest part ")]
    gapped = gapped_digest(bot.services)
    parts += [gapped.summary, *gapped.details]

    for reply in parts:
        message = build_message(reply)
        assert_drawn_whole(reply, render_blocks(message["blocks"], context=CONTEXT), message)
    thread = " ".join(
        Page(render_blocks(build_message(reply)["blocks"], context=CONTEXT)).text for reply in gapped.details
    )
    for heading in (
        "Follow-up e-mails not sent",
        "Cancelled, and nobody has phoned",
        "Promises broken",
        "Clients overdue for a check-in",
        "Reminders that could not be delivered",
        "Acme & <Dental>",
    ):
        assert heading in thread


@pytest.mark.parametrize("name", HOMES)
def test_every_app_home_is_drawn_whole(bot: Bot, name: str) -> None:
    reply = bot.replies[name]
    view = {**build_home(reply), "id": "VHOME"}

    fragment = render_view(view, context=CONTEXT)

    assert fragment.startswith('<div class="bk-view bk-home" data-view-id="VHOME">')
    assert_drawn_whole(reply, fragment, view)


def forms(bot: Bot) -> list[Form]:
    """Every form the bot shows."""
    return [
        visit_form(),
        promise_form(),
        bot.core.settings_form(ANA),
        bot.core.form("visit"),
        bot.core.form("promise"),
    ]


def test_every_form_is_a_modal_drawn_whole(bot: Bot) -> None:
    for form in forms(bot):
        view = {**build_modal(form, private_metadata={"channel": "D111"}), "id": "VFORM"}

        fragment = render_view(view, context=CONTEXT)

        assert UNSUPPORTED not in fragment
        page = assert_harmless(fragment)
        visible = words(page.text)
        for text in filter(None, (form.title, form.submit, "Cancel", cards.emojize(form.intro))):
            assert words(text) in visible
        controls = {
            element.attrs.get("name"): element
            for element in page.elements
            if element.tag in ("input", "textarea")
        }
        for field in form.fields:
            assert words(field.label) in visible
            assert field.id in controls, field
            control = controls[field.id]
            if isinstance(field, FormField) and field.placeholder:
                assert control.attrs["placeholder"] == field.placeholder
            if isinstance(field, FormField) and field.initial:
                assert control.attrs.get("value") == field.initial
        assert page.having("form")[0].attrs["data-callback-id"] == form.kind


def test_a_form_refused_by_the_bot_is_shown_again_with_its_errors_and_what_was_typed(bot: Bot) -> None:
    typed = {"client": "Acme Dental", "duration": "forever & <ever>", "work_done": "", "remaining": "toner"}
    outcome = bot.core.submit(Submission(ANA, VISIT_FORM, typed, frozenset(), "bad-form"))
    assert set(outcome.errors) == {"duration", "work_done"}
    view = {**build_modal(visit_form(), private_metadata={}), "id": "VFORM"}
    context = RenderContext(tz=CHICAGO, now=NOW, errors=outcome.errors, values={**typed, NEW_CLIENT: ["yes"]})

    page = assert_harmless(render_view(view, context=context))

    errors = [element for element in page.elements if element.attrs.get("class") == "bk-error"]
    assert len(errors) == 2
    for message in outcome.errors.values():
        assert message in page.text
    controls = {
        element.attrs.get("name"): element
        for element in page.elements
        if element.tag in ("input", "textarea")
    }
    assert controls["client"].attrs["value"] == "Acme Dental"
    assert controls["duration"].attrs["value"] == "forever & <ever>"
    assert "checked" in controls[NEW_CLIENT].attrs
    assert "toner" in page.text
    failed = [
        element.attrs["data-block-id"]
        for element in page.elements
        if "bk-has-error" in (element.attrs.get("class") or "")
    ]
    assert failed == ["duration", "work_done"]
