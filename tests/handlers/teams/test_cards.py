"""Adaptive Cards from the core's replies and forms: literal user text, routable buttons, within size."""

from __future__ import annotations

import ast
import base64
import io
import re
from pathlib import Path
from typing import Any

import pytest

from bot.forms import promise_form, visit_form
from bot.help import usage
from bot.nudges import KINDS
from bot.replies import (
    Actions,
    Attachment,
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
    error,
)
from handlers.teams.cards import (
    CARD_CONTENT_TYPE,
    CARD_SCHEMA,
    EMOJI,
    FORM_VERB,
    MAX_MESSAGE_BYTES,
    MAX_TEXT,
    MAX_TEXT_BYTES,
    attachment,
    build_card,
    build_elements,
    build_form,
    build_image_card,
    button_value,
    emojize,
    form_inputs,
    is_home,
    message_size,
)
from tests.handlers.teams.cards_support import assert_valid_card, elements, of_type, texts

BOT = Path(__file__).resolve().parents[3] / "bot"
NOTE = {"isSubtle": True, "size": "Small"}
MORE = {"type": "TextRun", "text": "…more than fits here.", **NOTE}
WARNING = "\N{WARNING SIGN}\N{VARIATION SELECTOR-16}"


def run(text: str, **style: Any) -> dict[str, Any]:
    """A TextRun as the renderer writes it."""
    return {"type": "TextRun", "text": text, **style}


def line(*runs: dict[str, Any], spacing: str | None = None) -> dict[str, Any]:
    """A RichTextBlock holding one line."""
    block: dict[str, Any] = {"type": "RichTextBlock", "inlines": list(runs)}
    if spacing is not None:
        block["spacing"] = spacing
    return block


def card_of(body: list[dict[str, Any]], fallback: str) -> dict[str, Any]:
    """The card envelope around a body."""
    return {
        "$schema": CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": body,
        "fallbackText": fallback,
        "msteams": {"width": "Full"},
    }


def size_of(card: dict[str, Any]) -> int:
    """The card's size as the message Teams would weigh."""
    return message_size({"type": "message", "attachments": [attachment(card)]})


def section_runs(text: str) -> list[dict[str, Any]]:
    """The runs of a one-line section."""
    [block] = build_elements(Section(text))
    runs: list[dict[str, Any]] = block["inlines"]
    return runs


def test_a_reply_with_every_block_type_becomes_an_exact_card() -> None:
    reply = Reply(
        summary="Logged 1h30 at Acme Dental",
        blocks=(
            Header("Acme Dental :tada:"),
            Section(
                ":white_check_mark: Logged *1h30* at Acme Dental.\nThe follow-up is drafted:",
                link=Link("Open in e-mail", "mailto:jane@acme.example?subject=Visit%20summary"),
                button=Button("Mark follow-up sent", "visit.followup_sent", "12", "primary"),
            ),
            Preformatted("Subject: Visit summary\n\nHello *Jane*, :wave:"),
            Actions(
                (Button("Kept", "promise.kept", "7"), Button("Cancel it", "visit.cancel", "8", "danger"))
            ),
            Note("Reminders stop once it's _marked_ sent."),
        ),
        files=(Attachment("acme.txt", "The report", b"report"),),
    )

    card = build_card(reply)

    assert card == card_of(
        [
            line(run("Acme Dental 🎉", size="Large", weight="Bolder")),
            line(run("✅ Logged "), run("1h30", weight="Bolder"), run(" at Acme Dental.")),
            line(run("The follow-up is drafted:"), spacing="None"),
            {
                "type": "ActionSet",
                "actions": [
                    {
                        "type": "Action.OpenUrl",
                        "title": "Open in e-mail",
                        "url": "mailto:jane@acme.example?subject=Visit%20summary",
                    },
                    {
                        "type": "Action.Execute",
                        "title": "Mark follow-up sent",
                        "verb": "visit.followup_sent",
                        "data": {"value": "12"},
                        "style": "positive",
                    },
                ],
            },
            {
                "type": "Container",
                "style": "emphasis",
                "items": [
                    line(run("Subject: Visit summary", fontType="Monospace")),
                    line(run("Hello *Jane*, :wave:", fontType="Monospace"), spacing="Medium"),
                ],
            },
            {
                "type": "ActionSet",
                "actions": [
                    {
                        "type": "Action.Execute",
                        "title": "Kept",
                        "verb": "promise.kept",
                        "data": {"value": "7"},
                    },
                    {
                        "type": "Action.Execute",
                        "title": "Cancel it",
                        "verb": "visit.cancel",
                        "data": {"value": "8"},
                        "style": "destructive",
                    },
                ],
            },
            line(
                run("Reminders stop once it's ", **NOTE),
                run("marked", **NOTE, italic=True),
                run(" sent.", **NOTE),
            ),
        ],
        "Logged 1h30 at Acme Dental",
    )
    assert_valid_card(card)


@pytest.mark.parametrize(
    ("text", "runs"),
    [
        (
            "*Acme Dental* is _due_",
            [run("Acme Dental", weight="Bolder"), run(" is "), run("due", italic=True)],
        ),
        ("*Acme _Dental_*", [run("Acme ", weight="Bolder"), run("Dental", weight="Bolder", italic=True)]),
        ("_Acme *Dental*_", [run("Acme ", italic=True), run("Dental", italic=True, weight="Bolder")]),
        ("(*a*), _b_.", [run("("), run("a", weight="Bolder"), run("), "), run("b", italic=True), run(".")]),
        ("acme_dental_2 and snake_case_name", [run("acme_dental_2 and snake_case_name")]),
        ("2*3*4, 5 * 3 * 2, *x *, * y*", [run("2*3*4, 5 * 3 * 2, *x *, * y*")]),
        ("*bold*s and _it_x", [run("*bold*s and _it_x")]),
        (":white_check_mark: Done :tada:", [run("✅ Done 🎉")]),
        (":warning: :bust_in_silhouette:_Jane_", [run(f"{WARNING} 👤"), run("Jane", italic=True)]),
        ("Between 9:00:00 and 14:00-15:30 at 23:59:59", [run("Between 9:00:00 and 14:00-15:30 at 23:59:59")]),
        (":not_an_emoji: :Warning: :x:", [run(":not_an_emoji: :Warning: ❌")]),
        ("12:30:calendar: ok", [run("12:30📆 ok")]),
    ],
)
def test_the_cores_markup_becomes_styled_text_runs(text: str, runs: list[dict[str, Any]]) -> None:
    assert section_runs(text) == runs


def test_each_line_is_its_own_block_and_a_blank_line_leaves_a_gap() -> None:
    body = build_elements(Section("\n\nOne\ntwo\r\n\n  \n\nthree\nfour\n\n"))

    assert body == [
        line(run("One")),
        line(run("two"), spacing="None"),
        line(run("three"), spacing="Medium"),
        line(run("four"), spacing="None"),
    ]


HOSTILE = "[click](https://evil.example) **x** __y__ <at>Boss</at> &lt; ![p](https://evil.example/p.png) `c`"


@pytest.mark.parametrize(
    "block",
    [
        Section(HOSTILE),
        Note(HOSTILE),
        Header(HOSTILE),
        Preformatted(HOSTILE),
        Section(f"{HOSTILE}\n{HOSTILE}"),
    ],
)
def test_typed_text_stays_literal_and_can_never_become_a_link_or_a_mention(block: Any) -> None:
    card = build_card(Reply(summary="Acme", blocks=(block,)))

    assert "".join(texts(card)) in (HOSTILE, HOSTILE * 2)
    assert of_type(card, "TextBlock") == []
    assert of_type(card, "Action.OpenUrl") == []
    assert not [element for element in elements(card) if "selectAction" in element or "entities" in element]
    assert_valid_card(card)


def test_typed_text_in_a_form_stays_in_plain_inputs_and_runs() -> None:
    card = build_form(
        visit_form(), key="k1", values={"client": HOSTILE}, errors={"client": f"I don't know {HOSTILE}"}
    )

    assert of_type(card, "TextBlock") == []
    assert of_type(card, "Input.Text")[0]["value"] == HOSTILE
    assert f"I don't know {HOSTILE}" in texts(card)
    assert_valid_card(card)


def test_a_section_link_opens_a_web_page_and_a_link_alone_gets_its_own_action_set() -> None:
    body = build_elements(Section("See the quote", link=Link("Open the quote", "https://acme.example/q/1")))

    assert body == [
        line(run("See the quote")),
        {
            "type": "ActionSet",
            "actions": [
                {"type": "Action.OpenUrl", "title": "Open the quote", "url": "https://acme.example/q/1"}
            ],
        },
    ]


def test_a_section_with_only_a_button_and_no_text_is_just_the_button() -> None:
    assert build_elements(Section("", button=Button("Snooze", "promise.snooze", "7"))) == [
        {
            "type": "ActionSet",
            "actions": [
                {
                    "type": "Action.Execute",
                    "title": "Snooze",
                    "verb": "promise.snooze",
                    "data": {"value": "7"},
                }
            ],
        }
    ]


def test_buttons_on_the_home_view_say_so_in_their_data() -> None:
    reply = Reply(
        summary="What's open",
        blocks=(
            Section("Promise 7", button=Button("Kept", "promise.kept", "7", "primary")),
            Actions((Button("Send me the digest", "digest.request", "now"),)),
        ),
    )

    card = build_card(reply, home=True)

    executes = of_type(card, "Action.Execute")
    assert [action["data"] for action in executes] == [
        {"value": "7", "home": True},
        {"value": "now", "home": True},
    ]
    assert [is_home(action["data"]) for action in executes] == [True, True]
    assert [button_value(action["data"]) for action in executes] == ["7", "now"]
    assert [is_home(action["data"]) for action in of_type(build_card(reply), "Action.Execute")] == [
        False,
        False,
    ]
    assert_valid_card(card)


def test_a_button_that_carries_json_comes_back_unchanged() -> None:
    value = '{"c": "visit", "t": "Acme “Dental”, 1h", "k": "", "n": true}'
    [action] = of_type(
        build_card(Reply("?", (Actions((Button("Yes", "client.choose", value),)),))), "Action.Execute"
    )

    assert button_value(action["data"]) == value


def test_long_button_and_link_titles_are_clipped_to_what_teams_shows() -> None:
    card = build_card(
        Reply(
            summary="Long",
            blocks=(
                Section("x", link=Link("L" * 80, "https://acme.example")),
                Actions((Button(":tada: " + "B" * 80, "a.b", "1"), Button("C" * 75, "a.c", "2"))),
            ),
        )
    )

    titles = [action["title"] for action in of_type(card, "Action.OpenUrl") + of_type(card, "Action.Execute")]
    assert titles == ["L" * 74 + "…", "🎉 " + "B" * 72 + "…", "C" * 75]
    assert_valid_card(card)


def test_a_row_of_buttons_shows_the_first_six() -> None:
    buttons = tuple(Button(f"Day {n}", "nudge.snooze", str(n)) for n in range(8))

    [action_set] = build_elements(Actions(buttons))

    assert [action["data"]["value"] for action in action_set["actions"]] == ["0", "1", "2", "3", "4", "5"]


def test_an_empty_row_of_buttons_adds_nothing() -> None:
    assert build_elements(Actions(())) == []


def test_a_refusal_shows_its_first_section_in_the_attention_colour() -> None:
    card = build_card(error("I don't know “Acme”.", "/visit Acme Dental 1h30 replaced fuser"))

    assert card == card_of(
        [
            line(run(f"{WARNING} I don't know “Acme”.", color="Attention")),
            line(run("For example:")),
            line(run("/visit Acme Dental 1h30 replaced fuser"), spacing="None"),
        ],
        "I don't know “Acme”.",
    )
    assert_valid_card(card)


def test_the_attention_colour_is_for_the_first_section_even_under_a_header() -> None:
    reply = Reply("No", (Header("Oops"), Section("*Acme* is unknown"), Section("Try again")), tone="error")

    assert build_card(reply)["body"][1:] == [
        line(run("Acme", color="Attention", weight="Bolder"), run(" is unknown", color="Attention")),
        line(run("Try again")),
    ]


@pytest.mark.parametrize("command", ["visit", "promise"])
def test_the_help_is_a_valid_card_with_its_headings_in_bold(command: str) -> None:
    card = build_card(usage(command))

    first = card["body"][0]["inlines"][0]
    assert first == run("Log a visit" if command == "visit" else "Record a promise", weight="Bolder")
    assert card["fallbackText"] == f"How to use /{command}"
    assert card["body"][-1]["inlines"][0]["isSubtle"] is True
    assert of_type(card, "TextBlock") == []
    assert_valid_card(card)


def test_a_reply_too_big_for_one_message_keeps_whole_blocks_from_the_start_and_says_so() -> None:
    blocks = tuple(
        Section(f"*Client {n}*: " + "visited, followed up and kept a promise; " * 40) for n in range(300)
    )
    reply = Reply(summary="Team digest", blocks=blocks)

    card = build_card(reply)

    body = card["body"]
    assert body[-1] == line(MORE)
    kept = body[:-1]
    assert 0 < len(kept) < 300
    assert kept == [element for block in blocks[: len(kept)] for element in build_elements(block)]
    # The cut is as late as it can be: one more block would not fit.
    longer = card_of([*kept, *build_elements(blocks[len(kept)]), body[-1]], "Team digest")
    assert size_of(longer) > MAX_MESSAGE_BYTES
    assert size_of(card) <= MAX_MESSAGE_BYTES
    assert_valid_card(card)


def test_a_reply_that_fits_is_not_cut() -> None:
    blocks = tuple(Section(f"Client {n}") for n in range(200))

    card = build_card(Reply(summary="Many", blocks=blocks))

    assert texts(card) == [f"Client {n}" for n in range(200)]


def test_one_huge_section_is_clipped_rather_than_dropped() -> None:
    card = build_card(Reply(summary="Huge", blocks=(Section("x" * 50_000), Note("After"))))

    assert card["body"] == [line(run("x" * (MAX_TEXT - 1) + "…")), line(run("After", **NOTE))]
    assert_valid_card(card)


@pytest.mark.parametrize("text", ["*a* b " * 500, "line\n" * 600, "*\x01* " * 750])
def test_a_text_whose_markup_or_lines_multiply_its_size_gets_at_most_half_a_message(text: str) -> None:
    body = build_elements(Section(text))

    assert sum(message_size(element) + 4 for element in body) <= MAX_TEXT_BYTES
    assert texts({"body": body})[-1] == "…"
    assert_valid_card(build_card(Reply(summary="Big", blocks=(Section(text), Section(text), Section(text)))))


def test_files_are_left_to_the_adapter_and_the_summary_is_the_fallback() -> None:
    reply = Reply(summary="Your report", files=(Attachment("a.txt", "A", b"a"),))

    assert build_card(reply) == card_of([], "Your report")


def test_a_long_summary_is_clipped_in_the_fallback_text() -> None:
    assert build_card(Reply(summary="s" * 5000))["fallbackText"] == "s" * (MAX_TEXT - 1) + "…"


KIND_OPTIONS = (
    ("followup", "Follow-up e-mails"),
    ("call", "Calls after cancellations"),
    ("promise", "Promises"),
)
SMALL_FORM = Form(
    kind="visit.log",
    title="Log a visit",
    submit="Log visit",
    intro="I'll draft the *follow-up* from this.",
    fields=(
        FormField("client", "Client", "Acme Dental"),
        FormField("work_done", "What was done", multiline=True),
        FormField("remaining", "What is left", optional=True, initial="Order toner"),
        Checkbox("new_client", "This is a new client"),
        Choices("kinds", "Reminders I want", KIND_OPTIONS, chosen=frozenset({"call"})),
    ),
)
SUBMIT = {
    "type": "ActionSet",
    "actions": [
        {
            "type": "Action.Execute",
            "title": "Log visit",
            "verb": FORM_VERB,
            "data": {"kind": "visit.log", "key": "req-1"},
            "associatedInputs": "auto",
            "style": "positive",
        }
    ],
}
CHOICES = [
    {"title": "Follow-up e-mails", "value": "followup"},
    {"title": "Calls after cancellations", "value": "call"},
    {"title": "Promises", "value": "promise"},
]


def test_a_new_form_is_an_exact_card() -> None:
    card = build_form(SMALL_FORM, key="req-1")

    assert card == card_of(
        [
            line(run("Log a visit", size="Large", weight="Bolder")),
            line(
                run("I'll draft the ", **NOTE),
                run("follow-up", **NOTE, weight="Bolder"),
                run(" from this.", **NOTE),
            ),
            {
                "type": "Input.Text",
                "id": "client",
                "label": "Client",
                "isMultiline": False,
                "isRequired": True,
                "placeholder": "Acme Dental",
            },
            {
                "type": "Input.Text",
                "id": "work_done",
                "label": "What was done",
                "isMultiline": True,
                "isRequired": True,
            },
            {
                "type": "Input.Text",
                "id": "remaining",
                "label": "What is left",
                "isMultiline": False,
                "isRequired": False,
                "value": "Order toner",
            },
            {
                "type": "Input.Toggle",
                "id": "new_client",
                "title": "This is a new client",
                "valueOn": "true",
                "valueOff": "false",
                "value": "false",
                "wrap": True,
            },
            {
                "type": "Input.ChoiceSet",
                "id": "kinds",
                "label": "Reminders I want",
                "isMultiSelect": True,
                "style": "expanded",
                "isRequired": False,
                "choices": CHOICES,
                "wrap": True,
                "value": "call",
            },
            SUBMIT,
        ],
        "Log a visit",
    )
    assert_valid_card(card)


def test_a_form_shown_again_keeps_what_was_typed_and_puts_each_error_under_its_field() -> None:
    card = build_form(
        SMALL_FORM,
        key="req-1",
        values={"client": "Acme Dentl", "work_done": "Replaced the fuser\nand the drum"},
        ticked=frozenset({"new_client"}),
        chosen={"kinds": frozenset({"promise", "followup", "nonsense"})},
        errors={
            "client": "I don't know “Acme Dentl”. Did you mean “Acme Dental”?",
            "kinds": "Pick one or more.",
        },
    )

    assert card["body"][2:] == [
        {
            "type": "Input.Text",
            "id": "client",
            "label": "Client",
            "isMultiline": False,
            "isRequired": True,
            "placeholder": "Acme Dental",
            "value": "Acme Dentl",
            "errorMessage": "I don't know “Acme Dentl”. Did you mean “Acme Dental”?",
        },
        line(run("I don't know “Acme Dentl”. Did you mean “Acme Dental”?", color="Attention")),
        {
            "type": "Input.Text",
            "id": "work_done",
            "label": "What was done",
            "isMultiline": True,
            "isRequired": True,
            "value": "Replaced the fuser\nand the drum",
        },
        {
            "type": "Input.Text",
            "id": "remaining",
            "label": "What is left",
            "isMultiline": False,
            "isRequired": False,
            "value": "Order toner",
        },
        {
            "type": "Input.Toggle",
            "id": "new_client",
            "title": "This is a new client",
            "valueOn": "true",
            "valueOff": "false",
            "value": "true",
            "wrap": True,
        },
        {
            "type": "Input.ChoiceSet",
            "id": "kinds",
            "label": "Reminders I want",
            "isMultiSelect": True,
            "style": "expanded",
            "isRequired": False,
            "choices": CHOICES,
            "wrap": True,
            "value": "followup,promise",
            "errorMessage": "Pick one or more.",
        },
        line(run("Pick one or more.", color="Attention")),
        SUBMIT,
    ]
    assert_valid_card(card)


def test_a_cleared_field_stays_cleared_and_nothing_chosen_shows_nothing_ticked() -> None:
    card = build_form(SMALL_FORM, key="req-1", values={"remaining": ""}, chosen={"kinds": frozenset()})

    inputs = {element["id"]: element for element in elements(card) if "id" in element}
    assert "value" not in inputs["remaining"]
    assert "value" not in inputs["kinds"]


def test_an_error_for_no_field_is_shown_at_the_top() -> None:
    card = build_form(SMALL_FORM, key="req-1", errors={"form": "That form has expired."})

    assert card["body"][2] == line(run("That form has expired.", color="Attention"))


def test_a_form_field_may_not_shadow_the_forms_own_data() -> None:
    form = Form(kind="x", title="X", submit="Go", fields=(FormField("key", "Key"),))

    with pytest.raises(ValueError, match="reserved"):
        build_form(form, key="req-1")


@pytest.mark.parametrize("form", [visit_form(), promise_form()], ids=["visit", "promise"])
def test_the_cores_forms_are_valid_cards_with_a_routable_submit(form: Form) -> None:
    card = build_form(form, key="req-9")

    [submit] = of_type(card, "Action.Execute")
    assert (submit["verb"], submit["data"], submit["title"]) == (
        FORM_VERB,
        {"kind": form.kind, "key": "req-9"},
        form.submit,
    )
    assert [element["id"] for element in elements(card) if element.get("type", "").startswith("Input.")] == [
        field.id for field in form.fields
    ]
    assert_valid_card(card)


def submitted(card: dict[str, Any]) -> dict[str, Any]:
    """The data Teams sends back for a card: the submit's data merged with each input's value."""
    [submit] = of_type(card, "Action.Execute")
    data = dict(submit["data"])
    for element in elements(card):
        if element.get("type", "").startswith("Input."):
            data[element["id"]] = element.get("value", "")
    return data


def test_a_form_comes_back_as_it_was_filled_in() -> None:
    values = {"client": "Café Müller, “GmbH”", "work_done": "Fuser\nDrum", "remaining": ""}
    ticked = frozenset({"new_client"})
    chosen = {"kinds": frozenset({"followup", "promise"})}
    card = build_form(SMALL_FORM, key="req-1", values=values, ticked=ticked, chosen=chosen)

    assert form_inputs(SMALL_FORM, submitted(card)) == (values, ticked, chosen)


def test_a_settings_like_form_with_the_cores_reminder_kinds_round_trips() -> None:
    form = Form(
        kind="settings",
        title="Your settings",
        submit="Save settings",
        fields=(
            FormField("hours", "Working hours", initial="8:00-18:00"),
            Choices("kinds", "Reminders", KINDS),
        ),
    )
    every = frozenset(kind for kind, _ in KINDS)
    card = build_form(form, key="req-2", chosen={"kinds": every})

    assert_valid_card(card)
    assert form_inputs(form, submitted(card)) == ({"hours": "8:00-18:00"}, frozenset(), {"kinds": every})


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"client": 3, "work_done": None, "remaining": ["a"], "new_client": True, "kinds": ["call"]},
        {"client": {"x": 1}, "new_client": "yes", "kinds": 7},
        {"new_client": "True", "kinds": "nonsense, ,,"},
    ],
)
def test_a_missing_or_mistyped_input_reads_as_empty(data: dict[str, Any]) -> None:
    assert form_inputs(SMALL_FORM, data) == (
        {"client": "", "work_done": "", "remaining": ""},
        frozenset(),
        {"kinds": frozenset()},
    )


def test_chosen_values_are_trimmed_and_only_the_forms_options_count() -> None:
    _, ticked, chosen = form_inputs(SMALL_FORM, {"kinds": " call ,promise,admin", "new_client": "true"})

    assert (ticked, chosen) == (frozenset({"new_client"}), {"kinds": frozenset({"call", "promise"})})


def test_data_that_is_not_a_mapping_reads_as_an_empty_form() -> None:
    garbage: Any = ["client", "Acme"]

    assert form_inputs(SMALL_FORM, garbage) == (
        {"client": "", "work_done": "", "remaining": ""},
        frozenset(),
        {"kinds": frozenset()},
    )


@pytest.mark.parametrize(
    ("data", "value", "home"),
    [
        ({"value": "12", "home": True}, "12", True),
        ({"value": "12"}, "12", False),
        ({}, "", False),
        ({"value": 12, "home": "true"}, "", False),
        ({"value": None, "home": 1}, "", False),
        ({"value": ["12"], "home": [True]}, "", False),
        ("garbage", "", False),
        (None, "", False),
    ],
)
def test_a_buttons_data_is_read_back_defensively(data: Any, value: str, home: bool) -> None:
    assert (button_value(data), is_home(data)) == (value, home)


def test_message_size_counts_utf16_bytes_of_the_json() -> None:
    assert message_size({"text": "é🎉"}) == len('{"text": "é🎉"}'.encode("utf-16-le")) == 30
    assert message_size({"n": 1}) == len('{"n": 1}') * 2


def test_message_size_leaves_out_base64_images_but_counts_other_text() -> None:
    image = {"type": "Image", "url": "data:image/png;base64," + "QUJD" * 1000, "altText": "Chart"}
    typed = {"text": "data:image/png;base64,QUJD", "url": "data:text/plain,hello"}

    assert (
        message_size(image)
        == len('{"type": "Image", "url": "data:image/png;base64,", "altText": "Chart"}') * 2
    )
    assert (
        message_size(typed)
        == len('{"text": "data:image/png;base64,QUJD", "url": "data:text/plain,hello"}') * 2
    )
    # Quoted inside typed text, the same characters are escaped, so they count in full.
    quoted = {"text": '"url": "data:image/png;base64,QUJD"'}
    assert message_size(quoted) == len('{"text": "\\"url\\": \\"data:image/png;base64,QUJD\\""}') * 2


def chart_png() -> bytes:
    """A small PNG drawn the way the digest's chart is: matplotlib's Agg canvas, in memory."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(2, 1), dpi=50)
    FigureCanvasAgg(figure)
    figure.add_subplot().plot([0, 1, 2], [50, 80, 65])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def test_the_chart_is_shown_inline_under_its_title() -> None:
    png = chart_png()
    file = Attachment("nudgebot-8-weeks.png", "The team's last 8 weeks :sparkles:", png, "image/png")

    card = build_image_card(file)

    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert card == card_of(
        [
            line(run("The team's last 8 weeks ✨", size="Large", weight="Bolder")),
            {
                "type": "Image",
                "url": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
                "altText": "The team's last 8 weeks :sparkles:",
            },
        ],
        "The team's last 8 weeks :sparkles:",
    )
    assert_valid_card(card)


def test_a_big_chart_still_fits_because_teams_does_not_count_base64_images() -> None:
    file = Attachment("big.png", "Big", b"\x89PNG\r\n\x1a\n" + bytes(300_000), "image/png")

    card = build_image_card(file)

    assert size_of(card) < 1000
    assert_valid_card(card)


def test_a_file_that_is_not_an_image_cannot_be_shown_in_a_card() -> None:
    with pytest.raises(ValueError, match="text/plain"):
        build_image_card(Attachment("report.txt", "Report", b"hello"))


def test_a_card_travels_as_an_adaptive_card_attachment() -> None:
    card = build_card(Reply(summary="Hi"))

    assert attachment(card) == {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
    assert CARD_CONTENT_TYPE == "application/vnd.microsoft.card.adaptive"


def test_the_schema_check_catches_what_teams_would_refuse() -> None:
    card = build_card(Reply(summary="Hi", blocks=(Section("Hi", button=Button("Go", "a.go", "1")),)))
    wrapped = {**card, "body": [{**card["body"][0], "wrap": True}, *card["body"][1:]]}
    no_verb = build_card(Reply(summary="Hi", blocks=(Section("Hi", button=Button("Go", "a.go", "1")),)))
    del no_verb["body"][1]["actions"][0]["verb"]

    with pytest.raises(AssertionError, match="wrap"):
        assert_valid_card(wrapped)
    with pytest.raises(AssertionError):
        assert_valid_card(no_verb)


@pytest.mark.parametrize(
    ("code", "character"),
    [
        ("white_check_mark", "✅"),
        ("warning", WARNING),
        ("email", "📧"),
        ("zzz", "💤"),
        ("telephone_receiver", "📞"),
        ("calendar", "📆"),
        ("hourglass_flowing_sand", "⏳"),
        ("handshake", "🤝"),
        ("wave", "👋"),
        ("sparkles", "✨"),
        ("clock8", "🕗"),
        ("earth_africa", "🌍"),
        ("palm_tree", "🌴"),
        ("bell", "🔔"),
        ("ballot_box_with_check", "\N{BALLOT BOX WITH CHECK}\N{VARIATION SELECTOR-16}"),
        ("mailbox_with_mail", "📬"),
        ("tada", "🎉"),
        ("arrow_right", "\N{BLACK RIGHTWARDS ARROW}\N{VARIATION SELECTOR-16}"),
        ("bust_in_silhouette", "👤"),
        ("page_facing_up", "📄"),
        ("x", "❌"),
    ],
)
def test_each_slack_emoji_code_has_its_unicode_character(code: str, character: str) -> None:
    assert EMOJI[code] == character
    assert emojize(f"a :{code}: b") == f"a {character} b"


EMOJI_CODE = re.compile(r":([a-z0-9_+-]+):")


def emoji_codes_in(path: Path) -> set[str]:
    """The :code: names inside the string literals (f-strings included) of one source file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    strings = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    # Times such as 9:00:00 or 14:00-15:30 look like codes but are only digits.
    return {
        name for text in strings for name in EMOJI_CODE.findall(text) if not re.fullmatch(r"[0-9-]+", name)
    }


def test_every_emoji_code_the_core_writes_has_a_unicode_character() -> None:
    used = {
        (path.relative_to(BOT).as_posix(), name)
        for path in BOT.rglob("*.py")
        for name in emoji_codes_in(path)
    }

    assert len({name for _, name in used}) >= 15
    assert sorted((path, name) for path, name in used if name not in EMOJI) == []
