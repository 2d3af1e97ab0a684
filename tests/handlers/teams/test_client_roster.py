"""The client list typed to the bot in Teams: `visit clients` and its buttons give what Slack gives."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Client
from tests.teams_client import MO, TeamsClient, action, ask, lines, pressed


def test_clients_list_and_archive_in_teams(teams: TeamsClient, session: Session) -> None:
    ask(teams, "visit Acme Dental 1h replaced the fuser")
    ask(teams, "visit Beta Law 1h new laptop")

    listed = ask(teams, "visit clients")

    assert lines(listed)[0] == "Clients (2)"
    assert any(line.startswith("Acme Dental · ") for line in lines(listed))
    archived = pressed(teams, action(listed, "Archive"))
    assert lines(archived)[0].startswith(
        "\N{FILE CABINET}\N{VARIATION SELECTOR-16} Archived Acme Dental: no more"
    )
    session.expire_all()
    stored = {c.name: c.archived_at for c in session.scalars(select(Client))}
    assert stored["Beta Law"] is None
    assert stored["Acme Dental"] is not None


def test_merge_in_teams_asks_then_merges(teams: TeamsClient, session: Session) -> None:
    ask(teams, "visit Acme Dental 1h replaced the fuser")
    asked_new = ask(teams, 'visit contact "Acme Dentl" Jane Roe')
    pressed(teams, action(asked_new, "New client “Acme Dentl”"))

    asked = ask(teams, "visit merge Acme Dentl into Acme Dental")
    done = pressed(teams, action(asked, "Merge into Acme Dental"))

    assert lines(done) == [
        "\N{TWISTED RIGHTWARDS ARROWS} Merged Acme Dentl into Acme Dental: its history is Acme Dental's now."
    ]
    session.expire_all()
    assert [c.contact_name for c in session.scalars(select(Client))] == ["Jane Roe"]


def test_export_in_teams_points_to_the_server_command(teams: TeamsClient) -> None:
    assert lines(ask(teams, "visit export", user=MO)) == [
        "I can't send files in Teams: whoever runs Nudgebot can write the same export with "
        "`python -m bot export DIR` (see docs/export.md)."
    ]
