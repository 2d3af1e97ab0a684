"""`/visit` and `/promise` typed alone open a form; what comes back is checked, stored once and confirmed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.slack.standin import SlackStandIn
from storage.models import Client, Feedback, ProcessedRequest, Promise, Risk, Visit, Workspace
from storage.repositories import count_rows
from tests.harness import SlackClient, text_of

GOOD_VISIT = {
    "client": "Acme Dental",
    "duration": "1h30",
    "work_done": "replaced fuser",
    "remaining": "order toner",
}
HOW_LONG = "How long? For example 1h30, 90m, 1.5h or 1:30 (up to 24 hours)."
GOOD_PROMISE = {"client": "Acme Dental", "text": "send the revised quote", "due": "Friday"}


@pytest.mark.parametrize(
    ("command", "callback_id", "fields"),
    [
        ("/visit", "visit.log", ["client", "duration", "work_done", "remaining", "mood", "new_client"]),
        ("/promise", "promise.add", ["client", "text", "due", "new_client"]),
    ],
)
def test_a_command_without_text_opens_its_form(
    command: str,
    callback_id: str,
    fields: list[str],
    slack: SlackClient,
    fake_slack: SlackStandIn,
    session: Session,
) -> None:
    response = slack.command("", command=command, trigger_id="trigger-form")

    assert response.status_code == 200
    assert response.text == ""
    [opened] = fake_slack.wait_for("views.open")
    assert opened.params["trigger_id"] == "trigger-form"
    view = opened.params["view"]
    assert (view["type"], view["callback_id"]) == ("modal", callback_id)
    assert [block["block_id"] for block in view["blocks"] if block["type"] == "input"] == fields
    assert [block["element"]["action_id"] for block in view["blocks"] if block["type"] == "input"] == fields
    assert len(fake_slack.calls("views.open")) == 1
    assert count_rows(session, Workspace) == 0


@pytest.mark.parametrize(
    ("callback_id", "values", "errors"),
    [
        (
            "visit.log",
            {**GOOD_VISIT, "duration": "forever", "work_done": ""},
            {
                "duration": HOW_LONG,
                "work_done": "A few words on what you did: they go into the follow-up e-mail.",
            },
        ),
        ("visit.log", {**GOOD_VISIT, "duration": "25h"}, {"duration": HOW_LONG}),
        ("visit.log", {**GOOD_VISIT, "client": "  "}, {"client": "Which client? For example: Acme Dental"}),
        (
            "promise.add",
            {**GOOD_PROMISE, "text": "", "due": "someday"},
            {
                "text": "What did you promise? For example: send the revised quote",
                "due": "When is it due? For example: Friday, tomorrow 5pm or 2026-12-03",
            },
        ),
        (
            "promise.add",
            {**GOOD_PROMISE, "due": "2026-11-02"},
            {"due": "That date is already past. When will you do it?"},
        ),
    ],
    ids=["no duration or work", "over a day", "no client", "no text or date", "past date"],
)
def test_bad_values_come_back_as_errors_on_their_fields_and_nothing_is_stored(
    callback_id: str,
    values: dict[str, str],
    errors: dict[str, str],
    slack: SlackClient,
    fake_slack: SlackStandIn,
    session: Session,
) -> None:
    response = slack.submit(callback_id, values)

    assert response.status_code == 200
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert answer["errors"] == errors
    for model in (Visit, Promise, Client, Workspace, ProcessedRequest):
        assert count_rows(session, model) == 0, model.__name__
    assert fake_slack.calls("chat.postMessage") == []


@pytest.mark.parametrize(
    ("callback_id", "values"), [("visit.log", GOOD_VISIT), ("promise.add", GOOD_PROMISE)]
)
def test_a_near_miss_client_name_is_an_error_naming_the_client_it_resembles(
    callback_id: str, values: dict[str, str], slack: SlackClient, session: Session
) -> None:
    slack.command("Acme Dental 1h fixed printer")

    response = slack.submit(callback_id, {**values, "client": "Acme Dentl"})

    assert response.json() == {
        "response_action": "errors",
        "errors": {
            "client": "I don't know “Acme Dentl”. Did you mean “Acme Dental”? "
            "If it really is a new client, tick “This is a new client”."
        },
    }
    assert [client.name for client in session.scalars(select(Client))] == ["Acme Dental"]
    assert (count_rows(session, Visit), count_rows(session, Promise)) == (1, 0)


def test_ticking_new_client_creates_the_near_miss_as_a_new_client(
    slack: SlackClient, session: Session
) -> None:
    slack.command("Acme Dental 1h fixed printer")

    response = slack.submit("visit.log", {**GOOD_VISIT, "client": "Acme Dentl"}, ticked=("new_client",))

    assert response.status_code == 200
    assert response.text == ""
    assert sorted(client.name for client in session.scalars(select(Client))) == ["Acme Dental", "Acme Dentl"]
    visit = session.scalars(select(Visit).order_by(Visit.id.desc())).first()
    assert visit is not None
    assert visit.client.name == "Acme Dentl"


def test_a_good_visit_form_is_stored_and_confirmed_by_direct_message(
    slack: SlackClient, fake_slack: SlackStandIn, session: Session
) -> None:
    response = slack.submit("visit.log", GOOD_VISIT, view_id="VGOOD")

    assert response.status_code == 200
    assert response.text == ""
    visit = session.scalars(select(Visit)).one()
    assert (visit.client.name, visit.minutes, visit.work_done, visit.remaining) == (
        "Acme Dental",
        90,
        "replaced fuser",
        "order toner",
    )
    [message] = fake_slack.wait_for("chat.postMessage")
    assert message.params["channel"] == "U111"
    assert message.params["text"] == "Logged 1h30 at Acme Dental"
    assert "What was done: replaced fuser" in text_of(message.params)


def test_the_clients_mood_chosen_on_the_visit_form_is_their_word_and_unhappy_puts_them_at_risk(
    slack: SlackClient, fake_slack: SlackStandIn, session: Session
) -> None:
    [opened] = (slack.command("", trigger_id="t-mood"), fake_slack.wait_for("views.open"))[1]
    [mood] = [block for block in opened.params["view"]["blocks"] if block.get("block_id") == "mood"]
    assert mood["element"]["type"] == "radio_buttons"
    assert [option["value"] for option in mood["element"]["options"]] == ["5", "3", "1"]
    assert mood["optional"] is True

    response = slack.submit("visit.log", GOOD_VISIT, picked={"mood": "1"}, view_id="VMOOD")

    assert response.status_code == 200
    [message] = fake_slack.wait_for("chat.postMessage")
    assert "Their mood: 🙁 1/5" in text_of(message.params)
    assert ":rotating_light: *Acme Dental* is unhappy, so they're *at risk*" in text_of(message.params)
    feedback = session.scalars(select(Feedback)).one()
    assert (feedback.score, feedback.source, feedback.visit_id) == (
        1,
        "visit",
        session.scalars(select(Visit)).one().id,
    )
    assert session.scalars(select(Risk)).one().closed_at is None


def test_a_good_promise_form_is_stored_and_confirmed_by_direct_message(
    slack: SlackClient, fake_slack: SlackStandIn, session: Session
) -> None:
    response = slack.submit("promise.add", GOOD_PROMISE, view_id="VPROMISE")

    assert response.status_code == 200
    assert response.text == ""
    promise = session.scalars(select(Promise)).one()
    assert (promise.client.name, promise.text) == ("Acme Dental", "send the revised quote")
    assert promise.due_at == datetime(2026, 11, 27, 23, 59, tzinfo=UTC)
    [message] = fake_slack.wait_for("chat.postMessage")
    assert message.params["channel"] == "U111"
    assert message.params["text"] == f"Promise #{promise.id} to Acme Dental, due Fri 27 Nov"


def test_the_same_form_submitted_twice_is_stored_once(
    slack: SlackClient, fake_slack: SlackStandIn, session: Session
) -> None:
    first = slack.submit("visit.log", GOOD_VISIT, view_id="VTWICE")
    second = slack.submit("visit.log", GOOD_VISIT, view_id="VTWICE")

    assert first.status_code == second.status_code == 200
    assert count_rows(session, Visit) == 1
    confirmations = fake_slack.wait_for("chat.postMessage", count=2)
    texts = sorted(call.params["text"] for call in confirmations)
    assert texts == ["Already done", "Logged 1h30 at Acme Dental"]


def test_a_form_corrected_after_errors_is_stored_once(slack: SlackClient, session: Session) -> None:
    wrong = slack.submit("visit.log", {**GOOD_VISIT, "duration": "a while"}, view_id="VFIXED")
    fixed = slack.submit("visit.log", GOOD_VISIT, view_id="VFIXED")

    assert wrong.json()["response_action"] == "errors"
    assert fixed.text == ""
    assert count_rows(session, Visit) == 1
