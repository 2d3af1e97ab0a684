"""The ack comes first: no Web API call and no long database wait stands between a command and its answer."""

from __future__ import annotations

import time

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from handlers.slack.standin import SlackStandIn
from storage.models import Visit
from storage.repositories import count_rows
from tests.handlers.slack.support import locked, wait_for_profile
from tests.harness import BotServer, SlackClient, text_of

VISIT = "Acme Dental 1h30 replaced fuser; todo: order toner"
SLOW_SLACK_S = 5


def test_a_first_visit_is_answered_before_slack_returns_the_profile(
    slack: SlackClient, fake_slack: SlackStandIn, session: Session
) -> None:
    fake_slack.delay("users.info", SLOW_SLACK_S)

    response = slack.command(VISIT)
    answered_at = time.monotonic()

    assert response.status_code == 200
    assert response.json()["text"] == "Logged 1h30 at Acme Dental"
    [lookup] = fake_slack.wait_for("users.info")
    assert lookup.params["user"] == "U111"
    # The fake holds users.info for 5 s after receiving it: an answer before then did not wait for it.
    assert answered_at < lookup.received_at + SLOW_SLACK_S
    assert [call.api_method for call in fake_slack.calls()] == ["auth.test", "users.info"]
    assert count_rows(session, Visit) == 1

    technician = wait_for_profile(session, timeout=SLOW_SLACK_S + 5)
    # The e-mail too: an imported client list may name its owner by it.
    assert (technician.display_name, technician.full_name, technician.timezone, technician.email) == (
        "Ana",
        "Ana Tech",
        "America/Chicago",
        "Ana@example.com",
    )


def test_a_visit_behind_a_long_database_lock_is_acked_at_once_and_answered_later(
    patient_bot: BotServer, fake_slack: SlackStandIn, session: Session, database_url: str, engine: Engine
) -> None:
    slack = SlackClient(patient_bot.url, fake_slack)
    try:
        with locked(database_url, engine):
            response = slack.command(VISIT, trigger_id="trigger-locked")

            assert response.status_code == 200
            assert response.json()["text"] == "Working on it…"
            assert response.json()["response_type"] == "ephemeral"
            assert fake_slack.responses("trigger-locked") == []
    finally:
        slack.close()

    [answer] = fake_slack.wait_for_responses("trigger-locked", timeout=10)
    assert answer.params["replace_original"] is True
    assert answer.params["response_type"] == "ephemeral"
    assert "Logged 1h30 at *Acme Dental*" in text_of(answer.params)
    assert count_rows(session, Visit) == 1
