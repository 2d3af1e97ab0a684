"""Hearing the client typed to the bot in Teams: the notice and its button, the client's word, the repair."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Notice, Risk
from tests.teams_client import TeamsClient, action, ask, lines, pressed, walk


def test_a_notice_in_teams_is_drafted_and_acknowledged_with_its_button(
    teams: TeamsClient, session: Session
) -> None:
    ask(teams, 'visit contact "Acme Dental" Jane Roe jane@acme.example +1 555 0100')

    drafted = ask(teams, 'visit notify Acme Dental "reboot the mail server" Saturday 22:00-23:00')

    assert lines(drafted)[0].startswith(
        "\N{PUBLIC ADDRESS LOUDSPEAKER} Drafted the notice to Acme Dental: reboot the mail server, Sat 28 Nov"
    )
    done = pressed(teams, action(drafted, "Client acknowledged"))
    assert lines(done)[0].startswith("\N{WHITE HEAVY CHECK MARK} Noted: Acme Dental knows about reboot")
    session.expire_all()
    assert session.scalars(select(Notice.acknowledged_via)).one() == "button"


def test_an_unhappy_client_in_teams_is_at_risk_until_repaired_and_happy_again(
    teams: TeamsClient, session: Session
) -> None:
    ask(teams, "visit Acme Dental 1h replaced the fuser")

    unhappy = ask(teams, "visit feedback Acme Dental 1 waited two days")

    assert lines(unhappy)[1].startswith(
        "\N{POLICE CARS REVOLVING LIGHT} Acme Dental is unhappy, so they're at risk"
    )
    repaired = pressed(teams, action(unhappy, "Log a repair call"))
    assert lines(repaired)[1].startswith("\N{WRENCH} Logged the repair for Acme Dental.")
    happy = pressed(teams, action(repaired, "Happy 😀"))
    assert (
        lines(happy)[-1] == "\N{PARTY POPPER} Acme Dental is happy again: off the at-risk list after 0 days."
    )
    session.expire_all()
    assert session.scalars(select(Risk.closed_how)).one() == "happy again"


def test_the_visit_forms_mood_is_one_choice_in_teams_and_unhappy_puts_the_client_at_risk(
    teams: TeamsClient, session: Session
) -> None:
    form = ask(teams, "visit")
    [mood] = [element for element in walk(form) if element.get("id") == "mood"]
    assert (mood["type"], mood["isMultiSelect"], mood["style"]) == ("Input.ChoiceSet", False, "expanded")
    assert [choice["value"] for choice in mood["choices"]] == ["5", "3", "1"]

    card = pressed(
        teams,
        action(form, "Log visit"),
        inputs={
            "client": "Acme Dental",
            "duration": "1h",
            "work_done": "new dock",
            "new_client": "true",
            "mood": "1",
        },
    )

    assert "Their mood: 🙁 1/5" in lines(card)
    session.expire_all()
    assert session.scalars(select(Risk.closed_at)).one() is None


def test_the_teams_home_card_shows_a_client_at_risk_first(teams: TeamsClient) -> None:
    ask(teams, "visit Acme Dental 1h replaced the fuser")
    ask(teams, "visit feedback Acme Dental 2 slow to come back")

    home = ask(teams, "home")

    shown = lines(home)
    assert shown[1] == "Clients at risk (1)"
    assert shown[2].startswith("\N{POLICE CARS REVOLVING LIGHT} Acme Dental: at risk for 0 days (🙁 2/5")
    assert "Log a repair call" in [
        found["title"] for found in walk(home) if found.get("type") == "Action.Execute"
    ]
