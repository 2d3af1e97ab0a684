"""Slack payloads into the core's neutral requests, with Slack's markup undone from what people typed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.people import Actor, Invocation, Press, Submission
from handlers.slack.render import escape
from handlers.slack.translate import actor, invocation, plain_text, press, submission

PAYLOADS = Path(__file__).parents[2] / "payloads"


def payload(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return loaded


@pytest.mark.parametrize(
    ("typed", "plain"),
    [
        ("<mailto:jane@acme.example|jane@acme.example>", "jane@acme.example"),
        ("<mailto:jane@acme.example>", "jane@acme.example"),
        ("<https://acme.example/ticket/12|the ticket>", "the ticket"),
        ("<https://acme.example>", "https://acme.example"),
        ("<@U111|ana>", "@ana"),
        ("<@U111>", "@U111"),
        ("<#C111|general>", "#general"),
        ("<#C111>", "#C111"),
        ("<!channel>", "@channel"),
        ("<!here>", "@here"),
        ("&amp; &lt; &gt;", "& < >"),
        ("&amp;lt;", "&lt;"),
        ("Tom &amp; Jerry &lt;3", "Tom & Jerry <3"),
        (
            "contact Acme Dental Jane Roe <mailto:jane@acme.example|jane@acme.example> +1 555 0100",
            "contact Acme Dental Jane Roe jane@acme.example +1 555 0100",
        ),
        ("plan “Café Müller GmbH” Friday 8–9am", "plan “Café Müller GmbH” Friday 8–9am"),
    ],
)
def test_plain_text_undoes_slack_markup(typed: str, plain: str) -> None:
    assert plain_text(typed) == plain


@pytest.mark.parametrize(
    ("typed", "plain"),
    [
        ("<!subteam^S111|@field-team>", "@field-team"),
        ("<!date^1392734382^{date}|Feb 18, 2014>", "Feb 18, 2014"),
    ],
)
def test_plain_text_of_labelled_special_mentions(typed: str, plain: str) -> None:
    assert plain_text(typed) == plain


@given(st.text())
def test_text_escaped_as_slack_sends_it_comes_back_as_typed(text: str) -> None:
    assert plain_text(escape(text)) == text


def test_invocation_from_a_slash_command() -> None:
    body = payload("slash_command.json") | {
        "text": "contact Acme Dental <mailto:jane@acme.example|jane@acme.example>",
        "trigger_id": "1111.2222.abcd",
    }

    assert invocation(body) == Invocation(
        actor=Actor(workspace="T111", user="U111"),
        command="visit",
        text="contact Acme Dental jane@acme.example",
        request_key="command:1111.2222.abcd",
    )


def test_invocation_of_promise_without_a_trigger_has_no_request_key() -> None:
    body = payload("slash_command.json") | {"command": "/promise", "text": "list"}

    assert invocation(body) == Invocation(Actor("T111", "U111"), "promise", "list", None)


def test_press_maps_the_action_id_back_to_the_action_name() -> None:
    body = payload("block_actions.json")
    action = body["actions"][0] | {"action_id": "visit.followup_sent#2", "value": "12"}

    assert press(body, action) == Press(Actor("T111", "U111"), "visit.followup_sent", "12")


def test_submission_reads_text_inputs_ticked_boxes_and_chosen_values() -> None:
    body = payload("view_submission.json")
    body["view"] |= {
        "callback_id": "visit.log",
        "state": {
            "values": {
                "client": {"client": {"type": "plain_text_input", "value": "Acme Dental"}},
                "left": {"left": {"type": "plain_text_input", "value": None}},
                "new_client": {"new_client": {"type": "checkboxes", "selected_options": [{"value": "yes"}]}},
                "other": {"other": {"type": "checkboxes", "selected_options": []}},
            }
        },
    }

    assert submission(body) == Submission(
        actor=Actor("T111", "U111"),
        kind="visit.log",
        values={"client": "Acme Dental", "left": ""},
        ticked=frozenset({"new_client"}),
        request_key="view:V111",
        chosen={"new_client": frozenset({"yes"}), "other": frozenset()},
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"team_id": "T111", "user_id": "U111"}, Actor("T111", "U111")),
        ({"team": {"id": "T111"}, "user": {"id": "U111"}}, Actor("T111", "U111")),
        ({"user": {"id": "U111", "team_id": "T111"}}, Actor("T111", "U111")),
        ({}, Actor("", "")),
    ],
)
def test_actor_from_each_payload_shape(body: dict[str, Any], expected: Actor) -> None:
    assert actor(body) == expected
