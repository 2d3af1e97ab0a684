"""A client list sent to the bot in a Slack DM: downloaded with the bot's token, imported, answered."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.settings import Settings
from handlers.slack.standin import SlackStandIn
from storage.models import Client
from tests.harness import SlackClient, payload, text_of
from tests.reminders import introduce

ANA, BO = "U111", "U222"
CSV = (
    b"Company Name,Primary Contact,Email,Account Manager,Last Contact Date\r\n"
    b"Acme Dental,Jane Roe,jane@acme.example,Ana,2026-11-02\r\n"
    b"Beta Law,Joe Bloggs,joe@beta.example,Bo,2026-10-14\r\n"
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Bo (U222) is a manager."""
    return settings.model_copy(update={"manager_ids": BO})


@pytest.fixture(autouse=True)
def people(slack: SlackClient, session: Session) -> None:
    introduce(slack, session, ANA)
    introduce(slack, session, BO)


def dm_event(
    user: str, *, text: str = "", file: dict[str, Any] | None = None, event_id: str = "Ev1"
) -> dict[str, Any]:
    body = copy.deepcopy(payload("app_home_opened"))
    body["event_id"] = event_id
    body["event"] = {
        "type": "message",
        "channel": f"D{user}",
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": "1700000100.000100",
        "event_ts": "1700000100.000100",
    }
    if file is not None:
        body["event"].update(subtype="file_share", files=[file])
    return body


def dms_to(fake: SlackStandIn, user: str, count: int = 1) -> list[str]:
    sent = fake.wait_for("chat.postMessage", count=count)
    return [text_of(call.params) for call in sent if call.params.get("channel") == user]


def names(session: Session) -> list[str]:
    session.expire_all()
    return sorted(session.scalars(select(Client.name)))


def test_a_manager_sends_a_csv_and_the_clients_are_imported(
    slack: SlackClient, fake_slack: SlackStandIn, session: Session
) -> None:
    file = fake_slack.host_file("clients.csv", CSV)

    response = slack.event(dm_event(BO, file=file))

    assert response.status_code == 200
    [answer] = dms_to(fake_slack, BO)
    assert answer == ":clipboard: *clients.csv*: Imported 2 rows: 2 created, 0 updated, 0 unchanged."
    assert names(session) == ["Acme Dental", "Beta Law"]
    [download] = [r for r in fake_slack.requests() if r.path.startswith("/files-pri/")]
    assert download.token in fake_slack.valid_tokens


def test_a_dry_run_and_the_problems_are_answered_and_nothing_is_stored(
    slack: SlackClient, fake_slack: SlackStandIn, session: Session
) -> None:
    bad = CSV + b"Gamma Ltd,Cy,not-an-email,Sam Unknown,\r\n"
    slack.event(dm_event(BO, file=fake_slack.host_file("clients.csv", bad)))
    slack.event(dm_event(BO, text="dry run", file=fake_slack.host_file("ok.csv", CSV), event_id="Ev2"))

    answers = dms_to(fake_slack, BO, count=2)
    answers.sort(key=lambda answer: "Dry run" in answer)

    assert answers[0].split("\n") == [
        ":clipboard: *clients.csv*: Nothing imported: 1 of 3 rows have problems (listed above). Fix them and "
        "import again, or send it again with “skip bad rows” in the message to import the other rows.",
        "```line 4: “not-an-email” is not an e-mail address (e.g. jane@acmedental.com)",
        "line 4: no technician is called “Sam Unknown”: write their chat display name, e-mail or user id "
        "(they appear once they have used Nudgebot), or leave the owner empty```",
    ]
    assert answers[1] == (
        ":clipboard: *ok.csv*: Dry run, nothing written: 2 rows would give 2 created, 0 updated, 0 unchanged."
    )
    assert names(session) == []


def test_only_managers_import_and_a_retried_event_imports_once(
    slack: SlackClient, fake_slack: SlackStandIn, session: Session
) -> None:
    slack.event(dm_event(ANA, file=fake_slack.host_file("clients.csv", CSV)))
    [refused] = dms_to(fake_slack, ANA)
    assert refused.startswith(":warning: Only managers can import the client list")
    assert names(session) == []

    file = fake_slack.host_file("clients.csv", CSV)
    slack.event(dm_event(BO, file=file, event_id="Ev9"))
    slack.event(dm_event(BO, file=file, event_id="Ev9"))

    answers = dms_to(fake_slack, BO, count=3)
    imported, replayed = sorted(answers)
    assert imported.startswith(":clipboard: *clients.csv*: Imported 2 rows: 2 created")
    assert replayed.startswith("I've already acted on that")
    assert names(session) == ["Acme Dental", "Beta Law"]


def test_a_file_that_is_not_csv_or_cannot_be_fetched_gets_a_clear_answer(
    slack: SlackClient, fake_slack: SlackStandIn, session: Session
) -> None:
    slack.event(dm_event(BO, file=fake_slack.host_file("photo.png", b"\x89PNG", mimetype="image/png")))
    elsewhere = {
        **fake_slack.host_file("clients.csv", CSV),
        "url_private_download": "https://evil.example/x.csv",
    }
    slack.event(dm_event(BO, file=elsewhere, event_id="Ev3"))

    answers = sorted(dms_to(fake_slack, BO, count=2))

    assert answers[0].startswith(":warning: I couldn't read that file from Slack")
    assert answers[1] == (
        ":warning: “photo.png” isn't a CSV file: export the client list from your PSA as CSV and send that."
    )
    # Neither the picture nor a file elsewhere than Slack's file host was fetched.
    assert [r.path for r in fake_slack.requests() if r.path.startswith("/files-pri/")] == []
    assert names(session) == []


def test_words_typed_in_the_dm_get_a_hint(slack: SlackClient, fake_slack: SlackStandIn) -> None:
    slack.event(dm_event(ANA, text="hello?"))

    [hint] = dms_to(fake_slack, ANA)
    assert hint.startswith(":wave: I answer `/visit` and `/promise`")
