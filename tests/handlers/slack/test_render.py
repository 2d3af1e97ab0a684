"""Block Kit built from the core's neutral replies and forms: escaped, and always within Slack's limits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.replies import (
    Actions,
    Block,
    Button,
    Checkbox,
    Form,
    FormField,
    Header,
    Link,
    Note,
    Preformatted,
    Reply,
    Section,
)
from handlers.slack.render import (
    MAX_BLOCKS,
    MAX_BUTTON_LABEL,
    MAX_BUTTON_VALUE,
    MAX_SECTION,
    MAX_TITLE,
    action_name,
    build_block,
    build_blocks,
    build_button,
    build_home,
    build_message,
    build_modal,
    escape,
)

MAX_ACTIONS = 25


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("a & b", "a &amp; b"),
        ("<@U111> <!channel>", "&lt;@U111&gt; &lt;!channel&gt;"),
        ("1 > 0 < 2", "1 &gt; 0 &lt; 2"),
        ("&amp;", "&amp;amp;"),
        ("*bold* _it_ “8–9am”", "*bold* _it_ “8–9am”"),
    ],
)
def test_escape_neutralises_only_slacks_three_markup_characters(text: str, escaped: str) -> None:
    assert escape(text) == escaped


def test_a_reply_becomes_fallback_text_and_blocks() -> None:
    reply = Reply(
        summary="Logged 1h30 at Acme & Co",
        blocks=(
            Section(
                "Logged 1h30 at *Acme & Co* <@U222>",
                link=Link("Open in e-mail", "mailto:jane@acme.example?subject=Visit%20summary"),
                button=Button("Mark follow-up sent", "visit.followup_sent", "12", "primary"),
            ),
            Preformatted("Hello Jane,\n\nWhat was done: <b>fuser</b>"),
            Actions((Button("Kept", "promise.kept", "7"), Button("Snooze", "promise.snooze", "7"))),
            Note("Reminders stop once it's marked sent."),
        ),
    )

    assert build_message(reply) == {
        "text": "Logged 1h30 at Acme &amp; Co",
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "Logged 1h30 at *Acme &amp; Co* &lt;@U222&gt; "
                    "<mailto:jane@acme.example?subject=Visit%20summary|Open in e-mail>",
                },
                "accessory": {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Mark follow-up sent", "emoji": True},
                    "action_id": "visit.followup_sent#0",
                    "value": "12",
                    "style": "primary",
                },
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "```Hello Jane,\n\nWhat was done: &lt;b&gt;fuser&lt;/b&gt;```",
                },
            },
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Kept", "emoji": True},
                        "action_id": "promise.kept#0",
                        "value": "7",
                    },
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Snooze", "emoji": True},
                        "action_id": "promise.snooze#1",
                        "value": "7",
                    },
                ],
            },
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": "Reminders stop once it's marked sent."}],
            },
        ],
    }


def test_link_delimiters_in_url_and_label_cannot_break_out() -> None:
    block = build_block(Section("Draft", link=Link("a|b <c>", "https://x.example/?q=a|b>c")))

    assert block["text"]["text"] == "Draft <https://x.example/?q=a%7Cb%3Ec|a/b &lt;c&gt;>"


def test_section_text_at_the_limit_is_kept_and_one_over_is_clipped() -> None:
    assert build_block(Section("x" * MAX_SECTION))["text"]["text"] == "x" * MAX_SECTION
    assert build_block(Section("x" * (MAX_SECTION + 1)))["text"]["text"] == "x" * (MAX_SECTION - 1) + "…"


def test_escaping_that_grows_the_text_is_clipped_after_escaping() -> None:
    text = build_block(Section("<" * 1000))["text"]["text"]

    # 749 whole escapes fit before the ellipsis; the 750th would be cut in half, so it goes.
    assert text == "&lt;" * 749 + "…"
    assert len(text) <= MAX_SECTION


def test_a_long_section_is_clipped_before_its_link_so_the_link_survives() -> None:
    text = build_block(Section("x" * 5000, link=Link("Open", "https://x.example/d")))["text"]["text"]

    assert len(text) == MAX_SECTION
    assert text.endswith("… <https://x.example/d|Open>")


def test_preformatted_keeps_its_fences_when_clipped() -> None:
    text = build_block(Preformatted("y" * 5000))["text"]["text"]

    assert text == "```" + "y" * (MAX_SECTION - 7) + "…```"


def test_notes_are_escaped_and_clipped() -> None:
    block = build_block(Note("<" * 1000))

    assert block["type"] == "context"
    assert block["elements"][0]["text"] == "&lt;" * 749 + "…"


def test_button_label_and_value_are_cut_to_slacks_limits() -> None:
    element = build_button(Button("L" * 100, "visit.snooze", "v" * 3000), 3)

    assert element == {
        "type": "button",
        "text": {"type": "plain_text", "text": "L" * (MAX_BUTTON_LABEL - 1) + "…", "emoji": True},
        "action_id": "visit.snooze#3",
        "value": "v" * MAX_BUTTON_VALUE,
    }


def test_button_label_of_exactly_the_limit_is_kept() -> None:
    assert build_button(Button("L" * MAX_BUTTON_LABEL, "a", "1"))["text"]["text"] == "L" * MAX_BUTTON_LABEL


def test_action_ids_are_unique_within_an_actions_block_and_map_back_to_the_action() -> None:
    buttons = tuple(Button(f"Option {i}", "promise.kept", str(i)) for i in range(3))

    elements = build_block(Actions(buttons))["elements"]

    assert [e["action_id"] for e in elements] == ["promise.kept#0", "promise.kept#1", "promise.kept#2"]
    assert [action_name(e["action_id"]) for e in elements] == ["promise.kept"] * 3


def test_an_actions_block_holds_at_most_25_buttons() -> None:
    block = build_block(Actions(tuple(Button(str(i), "a", str(i)) for i in range(30))))

    assert [e["value"] for e in block["elements"]] == [str(i) for i in range(MAX_ACTIONS)]


@pytest.mark.parametrize(
    ("action_id", "name"),
    [("visit.followup_sent#0", "visit.followup_sent"), ("visit.call#12", "visit.call"), ("plain", "plain")],
)
def test_action_name(action_id: str, name: str) -> None:
    assert action_name(action_id) == name


def test_fifty_blocks_fit() -> None:
    blocks = build_blocks(Reply("s", tuple(Section(str(i)) for i in range(MAX_BLOCKS))))

    assert [b["text"]["text"] for b in blocks] == [str(i) for i in range(MAX_BLOCKS)]


def test_more_than_fifty_blocks_end_with_a_note_saying_so() -> None:
    blocks = build_blocks(Reply("s", tuple(Section(str(i)) for i in range(MAX_BLOCKS + 10))))

    assert len(blocks) == MAX_BLOCKS
    assert [b["text"]["text"] for b in blocks[:-1]] == [str(i) for i in range(MAX_BLOCKS - 1)]
    assert blocks[-1] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "…more than fits here."}],
    }


def test_fallback_text_is_escaped_and_clipped() -> None:
    assert build_message(Reply("&" * 1000))["text"] == "&amp;" * 599 + "…"


def test_modal_from_a_form() -> None:
    form = Form(
        kind="visit.log",
        title="Log a visit to a client today",
        submit="Log the visit and draft the e-mail",
        fields=(
            FormField("client", "Client", placeholder="Acme Dental"),
            FormField("work", "What did you do?", multiline=True, initial="replaced fuser"),
            FormField("left", "What is left?", optional=True),
            Checkbox("new_client", "This is a new client"),
        ),
        intro="Logs a visit & drafts the follow-up.",
    )

    view = build_modal(form, private_metadata={"channel": "C111"})

    assert view == {
        "type": "modal",
        "callback_id": "visit.log",
        "title": {"type": "plain_text", "text": "Log a visit to a client…", "emoji": True},
        "submit": {"type": "plain_text", "text": "Log the visit and draft…", "emoji": True},
        "close": {"type": "plain_text", "text": "Cancel", "emoji": True},
        "private_metadata": '{"channel": "C111"}',
        "blocks": [
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": "Logs a visit &amp; drafts the follow-up."}],
            },
            {
                "type": "input",
                "block_id": "client",
                "optional": False,
                "label": {"type": "plain_text", "text": "Client", "emoji": True},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "client",
                    "multiline": False,
                    "placeholder": {"type": "plain_text", "text": "Acme Dental", "emoji": True},
                },
            },
            {
                "type": "input",
                "block_id": "work",
                "optional": False,
                "label": {"type": "plain_text", "text": "What did you do?", "emoji": True},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "work",
                    "multiline": True,
                    "initial_value": "replaced fuser",
                },
            },
            {
                "type": "input",
                "block_id": "left",
                "optional": True,
                "label": {"type": "plain_text", "text": "What is left?", "emoji": True},
                "element": {"type": "plain_text_input", "action_id": "left", "multiline": False},
            },
            {
                "type": "input",
                "block_id": "new_client",
                "optional": True,
                "label": {"type": "plain_text", "text": "New client?", "emoji": True},
                "element": {
                    "type": "checkboxes",
                    "action_id": "new_client",
                    "options": [
                        {
                            "text": {"type": "plain_text", "text": "This is a new client", "emoji": True},
                            "value": "yes",
                        }
                    ],
                },
            },
        ],
    }
    assert len(view["title"]["text"]) == MAX_TITLE
    assert json.loads(view["private_metadata"]) == {"channel": "C111"}


def test_home_keeps_headers_and_at_most_100_blocks() -> None:
    view = build_home(Reply("s", (Header("What's open"), *(Section(str(i)) for i in range(150)))))

    assert view["type"] == "home"
    assert view["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "What's open", "emoji": True},
    }
    assert len(view["blocks"]) == 100
    assert view["blocks"][-2]["text"]["text"] == "97"
    assert view["blocks"][-1]["elements"][0]["text"] == "…more than fits here: /visit list"


def test_a_section_with_a_very_long_link_never_leaves_link_markup_open() -> None:
    text = build_block(Section("Draft", link=Link("Open", "https://x.example/" + "a" * MAX_SECTION)))["text"][
        "text"
    ]

    assert len(text) <= MAX_SECTION
    assert text.count("<") == text.count(">")


def test_clipping_never_leaves_half_an_entity() -> None:
    text = build_block(Section("&" * MAX_SECTION))["text"]["text"]

    assert text.removesuffix("…").endswith("&amp;")


def test_a_checkbox_option_label_is_cut_to_75_characters() -> None:
    form = Form(kind="k", title="t", submit="s", fields=(Checkbox("c", "x" * 100),))

    option = build_modal(form, private_metadata={})["blocks"][0]["element"]["options"][0]

    assert len(option["text"]["text"]) <= MAX_BUTTON_LABEL


# Long runs of the characters that grow when escaped, as well as arbitrary text.
TEXT = st.one_of(
    st.text(max_size=200),
    st.builds(
        lambda char, count: char * count,
        st.sampled_from(["&", "<", ">", "x", "é", "|"]),
        st.integers(0, 4000),
    ),
)
URL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789%:/?=&.-_@+", max_size=1800)
BUTTON = st.builds(
    Button,
    label=TEXT,
    action=st.text(alphabet="abcdefghijklmnopqrstuvwxyz._", min_size=1, max_size=40),
    value=TEXT,
    style=st.sampled_from([None, "primary", "danger"]),
)
BLOCK: st.SearchStrategy[Block] = st.one_of(
    st.builds(
        Section,
        text=TEXT,
        link=st.none() | st.builds(Link, label=st.text(max_size=100), url=URL),
        button=st.none() | BUTTON,
    ),
    st.builds(Preformatted, text=TEXT),
    st.builds(Actions, buttons=st.lists(BUTTON, min_size=1, max_size=30).map(tuple)),
    st.builds(Note, text=TEXT),
)


def check_button(element: dict[str, Any], button: Button) -> None:
    assert len(element["text"]["text"]) <= MAX_BUTTON_LABEL
    assert len(element["value"]) <= MAX_BUTTON_VALUE
    assert action_name(element["action_id"]) == button.action


@settings(max_examples=100, deadline=None)
@given(TEXT, st.lists(BLOCK, max_size=60))
def test_any_reply_renders_within_slacks_limits(summary: str, blocks: list[Block]) -> None:
    message = build_message(Reply(summary, tuple(blocks)))

    assert len(message["text"]) <= MAX_SECTION
    assert len(message["blocks"]) <= MAX_BLOCKS
    for built, block in zip(message["blocks"], blocks, strict=False):
        match block:
            case Section(_, link, button):
                assert len(built["text"]["text"]) <= MAX_SECTION
                if link is not None:
                    assert built["text"]["text"].endswith(">")
                if button is not None:
                    check_button(built["accessory"], button)
            case Preformatted():
                assert len(built["text"]["text"]) <= MAX_SECTION
            case Actions(buttons):
                assert len(built["elements"]) <= MAX_ACTIONS
                ids = [element["action_id"] for element in built["elements"]]
                assert len(set(ids)) == len(ids)
                for element, button in zip(built["elements"], buttons, strict=False):
                    check_button(element, button)
            case Note():
                assert len(built["elements"][0]["text"]) <= MAX_SECTION
