"""`/visit report` through signed requests: the e-mail text in the ack, the file shared in the DM after it."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.settings import Settings
from handlers.slack.standin import SlackStandIn
from storage.models import ProcessedRequest, Technician
from storage.repositories import count_rows
from tests.handlers.slack.support import locked
from tests.harness import BotServer, FrozenClock, SlackClient, text_of
from tests.reminders import chicago, introduce

ACME_NOVEMBER = """To: Jane Roe <jane@acme.example>
Subject: Acme Dental: monthly report, November 2026

Hello Jane,

Here is a summary of our work for Acme Dental in November 2026 so far.

Visits
- Mon 2 Nov, Ana (1h30): replaced fuser
  Left: order toner
- Wed 18 Nov, Ana (45m): new router

Total time: 2h15 over 2 visits

Promises due or kept in November 2026
- send the revised quote (due Fri 27 Nov): not yet due

Still open
- order toner (left from the visit on Mon 2 Nov)

If you have any questions, reply to this e-mail or give us a call.

Best regards,
Ana"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """U333 is a manager."""
    return settings.model_copy(update={"manager_ids": "U333"})


@pytest.fixture(autouse=True)
def acme(slack: SlackClient, fake_slack: SlackStandIn, session: Session, clock: FrozenClock) -> None:
    """Ana's November at Acme Dental, seen on Monday 23 November at 9:00 in Chicago."""
    fake_slack.add_user("U333", real_name="Mo Manager", display_name="Mo", tz="America/New_York")
    introduce(slack, session)
    clock.now = chicago(11, 2, 10)
    slack.command('contact "Acme Dental" Jane Roe jane@acme.example +1 555 0100')
    slack.command("Acme Dental 1h30 replaced fuser; todo: order toner")
    slack.command("Acme Dental send the revised quote by 2026-11-27", command="/promise")
    clock.now = chicago(11, 18, 15)
    slack.command("Acme Dental 45m new router")
    clock.now = chicago(11, 23, 9)


def unescaped(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def preformatted(message: dict[str, Any]) -> str:
    """The text of the message's one ``` block, as the person would copy it."""
    [block] = [b for b in message["blocks"] if b["type"] == "section" and b["text"]["text"].startswith("```")]
    return unescaped(block["text"]["text"][3:-3])


def test_the_report_is_in_the_reply_and_its_file_is_shared_privately_after_the_ack(
    slack: SlackClient, fake_slack: SlackStandIn
) -> None:
    response = slack.command("report Acme Dental")

    assert response.status_code == 200
    message = response.json()
    assert message["response_type"] == "ephemeral"
    assert message["text"] == "The report for Acme Dental, November 2026"
    assert preformatted(message) == ACME_NOVEMBER
    shown = text_of(message)
    assert ":page_facing_up: The report for *Acme Dental*, November 2026 so far: 2 visits, 2h15." in shown
    assert "Send it from your mail program: <mailto:jane@acme.example?subject=Acme%20Dental" in shown
    assert "I'm also sending it to you as a file, acme-dental-2026-11.txt, in your DMs." in shown
    [shared] = fake_slack.wait_for_files()
    assert (shared.filename, shared.title, shared.channel, shared.thread_ts) == (
        "acme-dental-2026-11.txt",
        "Acme Dental: monthly report, November 2026",
        "DU111",
        None,
    )
    assert shared.content.decode("utf-8") == ACME_NOVEMBER
    [opened] = fake_slack.calls("conversations.open")
    assert opened.params["users"] == "U111"


def test_a_past_month_is_a_file_of_its_own(slack: SlackClient, fake_slack: SlackStandIn) -> None:
    message = slack.command("report Acme Dental October").json()

    assert "No visits in October 2026." in preformatted(message)
    [shared] = fake_slack.wait_for_files()
    assert shared.filename == "acme-dental-2026-10.txt"
    assert shared.content.decode() == preformatted(message)


def test_someone_who_does_not_look_after_the_client_is_refused_and_gets_no_file(
    slack: SlackClient, fake_slack: SlackStandIn, session: Session
) -> None:
    before = count_rows(session, Technician), count_rows(session, ProcessedRequest)

    refused = slack.command("report Acme Dental November", user="U222").json()

    assert text_of(refused).split("\n")[0] == (
        ":warning: Only the technicians who look after Acme Dental and managers can produce its report. "
        "Ana looks after it and can send it to you."
    )
    assert (count_rows(session, Technician), count_rows(session, ProcessedRequest)) == before
    # The next report is the first file shared: the refusal shared none.
    slack.command("report Acme Dental November")
    [shared] = fake_slack.wait_for_files()
    assert shared.channel == "DU111"


def test_a_technician_with_a_visit_to_the_client_may_produce_it(
    slack: SlackClient, fake_slack: SlackStandIn
) -> None:
    slack.command("Acme Dental 30m swapped a cable", user="U222")

    message = slack.command("report Acme Dental", user="U222").json()

    assert "- Mon 23 Nov, " in preformatted(message)
    [shared] = fake_slack.wait_for_files()
    assert shared.channel == "DU222"


def test_a_manager_may_produce_any_clients_report(slack: SlackClient, fake_slack: SlackStandIn) -> None:
    message = slack.command("report Acme Dental November", user="U333").json()

    assert "- Mon 2 Nov, Ana (1h30): replaced fuser" in preformatted(message)
    [shared] = fake_slack.wait_for_files()
    assert shared.channel == "DU333"


def test_an_unknown_client_asks_which_was_meant(slack: SlackClient, fake_slack: SlackStandIn) -> None:
    message = slack.command("report Acme Dentl November").json()

    assert (
        text_of(message).split("\n")[0]
        == "I don't know a client called “Acme Dentl”. Did you mean *Acme Dental*?"
    )
    assert [b["text"]["text"] for b in message["blocks"][1]["elements"]] == ["Acme Dental"]


def test_a_bad_month_is_refused_with_an_example(slack: SlackClient) -> None:
    message = slack.command("report Acme Dental 2026-13").json()

    assert text_of(message) == (
        ":warning: I can't tell which month “2026-13” is: write it like November, Nov 2026, 2026-11 or "
        "last month.\nFor example:\n/visit report Acme Dental November"
    )


def test_a_long_month_fits_the_reply_and_the_file_holds_all_of_it(
    slack: SlackClient, fake_slack: SlackStandIn, clock: FrozenClock
) -> None:
    clock.now = chicago(11, 3, 8)
    for number in range(30):
        clock.advance(hours=8)
        slack.command(
            # Slack escapes what people type, as here.
            f"Acme Dental 1h visit {number} &amp; checked &lt;all&gt; printers on floor {number}; todo: toner"
        )
    clock.now = chicago(11, 23, 9)

    message = slack.command("report Acme Dental").json()

    for block in message["blocks"]:
        assert len(block.get("text", {}).get("text", "")) <= 3000
    shown = preformatted(message)
    assert shown.endswith("\n…")
    assert "That's the start: the whole report is in the file acme-dental-2026-11.txt, in your DMs." in (
        text_of(message)
    )
    [shared] = fake_slack.wait_for_files()
    whole = shared.content.decode()
    assert whole.startswith(shown[: -len("…")])
    assert whole.count(", Ana (1h): visit ") == 30
    assert "visit 29 & checked <all> printers on floor 29" in whole
    assert whole.endswith("Best regards,\nAna")


def test_a_file_that_cannot_be_shared_is_logged_and_the_person_told(
    slack: SlackClient, fake_slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    fake_slack.fail("files.completeUploadExternal", error="not_in_channel")
    caplog.set_level(logging.WARNING, logger="handlers.slack.listeners")

    message = slack.command("report Acme Dental").json()

    assert preformatted(message) == ACME_NOVEMBER
    [dm] = fake_slack.wait_for("chat.postMessage")
    assert dm.params["channel"] == "U111"
    assert text_of(dm.params) == (
        ":warning: I couldn't attach the file here, sorry. Its text is in my reply above."
    )
    assert fake_slack.shared_files() == []
    assert "could not share a file with U111: not_in_channel" in caplog.text


def test_a_late_answer_shares_its_file_too(
    patient_bot: BotServer, fake_slack: SlackStandIn, database_url: str, engine: Engine
) -> None:
    slack = SlackClient(patient_bot.url, fake_slack)
    try:
        with locked(database_url, engine):
            response = slack.command("report Acme Dental", trigger_id="trigger-late")
            assert response.json()["text"] == "Working on it…"
    finally:
        slack.close()

    [answer] = fake_slack.wait_for_responses("trigger-late", timeout=10)
    assert preformatted(answer.params) == ACME_NOVEMBER
    [shared] = fake_slack.wait_for_files(timeout=10)
    assert (shared.channel, shared.content.decode()) == ("DU111", ACME_NOVEMBER)
