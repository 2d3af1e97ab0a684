"""A workspace whose very first request is refused (nothing stored) still works for every later request."""

from __future__ import annotations

from sqlalchemy.orm import Session

from storage.models import Client, Visit, Workspace
from storage.repositories import count_rows
from tests.harness import SlackClient, text_of


def test_a_refused_first_command_does_not_break_the_next_one(slack: SlackClient, session: Session) -> None:
    refused = slack.command("Acme Dental replaced fuser")
    assert "How long did the visit take?" in text_of(refused.json())
    # Nothing from the refused text is stored (the profile fetched after it may store the technician).
    assert (count_rows(session, Client), count_rows(session, Visit)) == (0, 0)

    logged = slack.command("Acme Dental 1h replaced fuser")

    assert logged.status_code == 200
    assert logged.json()["text"] == "Logged 1h at Acme Dental"
    assert (count_rows(session, Workspace), count_rows(session, Visit)) == (1, 1)


def test_a_refused_first_form_does_not_break_the_next_command(slack: SlackClient, session: Session) -> None:
    refused = slack.submit("visit.log", {"client": "Acme Dental", "duration": "", "work_done": "fuser"})
    assert refused.json()["response_action"] == "errors"

    logged = slack.command("Acme Dental 1h replaced fuser")

    assert logged.json()["text"] == "Logged 1h at Acme Dental"
    assert count_rows(session, Visit) == 1
