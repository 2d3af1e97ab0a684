"""When the database fails a write, every kind of request still gets a kind answer: no 500, no silence."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from handlers.slack.standin import SlackStandIn
from storage.models import Promise, Visit
from storage.repositories import count_rows
from tests.handlers.slack.support import locked
from tests.harness import BotServer, SlackClient, button, text_of

SORRY = "Something went wrong on my side and nothing was saved. Please try again."


@contextmanager
def writes_fail(engine: Engine, table: str) -> Iterator[None]:
    """Make every insert into and update of `table` fail in the database, as a full disk or a bug would."""
    name = f"test_fail_{table}"
    if engine.dialect.name == "sqlite":
        create = [
            f"CREATE TRIGGER {name}_{op} BEFORE {op} ON {table} BEGIN SELECT RAISE(ABORT, 'injected'); END"
            for op in ("INSERT", "UPDATE")
        ]
        drop = [f"DROP TRIGGER {name}_{op}" for op in ("INSERT", "UPDATE")]
    else:
        create = [
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'injected'; END $$",
            f"CREATE TRIGGER {name} BEFORE INSERT OR UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {name}()",
        ]
        drop = [f"DROP TRIGGER {name} ON {table}", f"DROP FUNCTION {name}()"]
    with engine.begin() as connection:
        for statement in create:
            connection.execute(text(statement))
    try:
        yield
    finally:
        with engine.begin() as connection:
            for statement in drop:
                connection.execute(text(statement))


def test_a_command_that_fails_is_answered_with_an_apology(
    slack: SlackClient, engine: Engine, session: Session
) -> None:
    with writes_fail(engine, "visits"):
        response = slack.command("Acme Dental 1h30 replaced fuser")

    assert response.status_code == 200
    assert response.json()["text"] == "Something went wrong"
    assert SORRY in text_of(response.json())
    assert count_rows(session, Visit) == 0


def test_a_button_that_fails_is_acked_and_answered_with_an_apology(
    slack: SlackClient, fake_slack: SlackStandIn, engine: Engine, session: Session
) -> None:
    message = slack.command("Acme Dental 1h30 replaced fuser").json()

    with writes_fail(engine, "visits"):
        response = slack.press(button(message, "Mark follow-up sent"), name="failed-press")
        [answer] = fake_slack.wait_for_responses("failed-press")

    assert response.status_code == 200
    assert SORRY in text_of(answer.params)
    assert session.get(Visit, 1) is not None
    assert session.get(Visit, 1).followup_sent_at is None  # type: ignore[union-attr]


def test_a_form_that_fails_stays_open_with_an_apology_on_it(
    slack: SlackClient, fake_slack: SlackStandIn, engine: Engine, session: Session
) -> None:
    with writes_fail(engine, "promises"):
        response = slack.submit(
            "promise.add", {"client": "Acme Dental", "text": "send the quote", "due": "Friday"}
        )

    assert response.status_code == 200
    assert response.json() == {"response_action": "errors", "errors": {"client": SORRY}}
    assert count_rows(session, Promise) == 0
    assert fake_slack.calls("chat.postMessage") == []


def test_a_slow_form_that_then_fails_is_followed_by_an_apology_by_direct_message(
    patient_bot: BotServer, fake_slack: SlackStandIn, engine: Engine, session: Session, database_url: str
) -> None:
    slack = SlackClient(patient_bot.url, fake_slack)
    try:
        with writes_fail(engine, "visits"):
            with locked(database_url, engine):
                response = slack.submit(
                    "visit.log", {"client": "Acme Dental", "duration": "1h", "work_done": "fuser"}
                )
                assert (response.status_code, response.text) == (200, "")
            [message] = fake_slack.wait_for("chat.postMessage")
    finally:
        slack.close()

    assert message.params["channel"] == "U111"
    assert message.params["text"] == "Something went wrong"
    assert SORRY in text_of(message.params)
    assert count_rows(session, Visit) == 0
