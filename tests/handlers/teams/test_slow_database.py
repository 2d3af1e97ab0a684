"""When the database is slower than Teams will wait: the request is answered in time, the person later."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.services import Services
from storage.models import Visit
from tests.fakes.microsoft import FakeMicrosoft
from tests.handlers.slack.support import locked
from tests.handlers.teams.cards_support import assert_valid_card
from tests.harness import BotServer
from tests.teams_client import ANA_CHAT, TeamsClient, action, ask, card_of, invoke_card, text_of

# Long enough that a held lock outlasts it, short enough to keep the test quick.
BUDGET_S = 0.3


@pytest.fixture
def impatient(teams_services: Services, microsoft: FakeMicrosoft) -> Iterator[TeamsClient]:
    """The bot with Teams on and a short budget for the core, so a held database lock outlasts it."""
    server = BotServer(teams_services)
    assert server.front.teams is not None
    server.front.teams.listeners.budget_s = BUDGET_S
    server.start()
    client = TeamsClient(server.url, microsoft)
    yield client
    client.close()
    server.stop()


def test_a_command_held_up_by_the_database_is_answered_in_time_and_the_card_follows(
    impatient: TeamsClient, microsoft: FakeMicrosoft, database_url: str, engine: Engine, session: Session
) -> None:
    with locked(database_url, engine):
        started = time.monotonic()
        response = impatient.say("visit Acme Dental 1h30 replaced fuser")
        answered_in = time.monotonic() - started
        time.sleep(BUDGET_S)
        assert microsoft.sent() == []

    assert response.status_code == 200
    # Teams waits about 15 s; the bot answered once its own budget ran out.
    assert answered_in < 5
    card = impatient.card_sent(ANA_CHAT)
    assert_valid_card(card)
    assert text_of(card).startswith("✅ Logged 1h30 at Acme Dental.")
    assert len(session.scalars(select(Visit)).all()) == 1


def test_a_press_held_up_by_the_database_gets_a_working_card_then_the_answer_replaces_it(
    impatient: TeamsClient, microsoft: FakeMicrosoft, database_url: str, engine: Engine, session: Session
) -> None:
    mark = action(ask(impatient, "visit Acme Dental 1h30 replaced fuser"), "Mark follow-up sent")

    with locked(database_url, engine):
        working = invoke_card(impatient.press(mark))

    assert text_of(working) == "Working on it… this card updates in a moment."
    update = microsoft.wait_for(lambda call: call.kind == "update" and call.ok)
    assert (update.conversation_id, update.activity_id) == (ANA_CHAT, "1763902800500")
    answer = card_of(update.json_body)
    assert_valid_card(answer)
    assert text_of(answer).startswith("📧 Follow-up to Acme Dental marked sent.")
    assert session.scalars(select(Visit)).one().followup_sent_at is not None
