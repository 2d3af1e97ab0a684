"""App Home views within Block Kit's limits however much is open: built by the core, rendered for Slack."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from bot.core import Core
from bot.people import Actor
from bot.replies import Reply, Section
from bot.services import Services
from bot.settings import Settings
from handlers.slack.render import build_home
from storage.models import (
    Appointment,
    AppointmentStatus,
    Client,
    Promise,
    Technician,
    Visit,
    Workspace,
)
from tests.harness import MONDAY_MORNING, buttons

NOW = MONDAY_MORNING
LONG = "x" * 2990
NAME = "N" * 190


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """U222 is a manager."""
    return settings.model_copy(update={"manager_ids": "U222"})


def _seed(session: Session, owner: str) -> None:
    """`owner` (Ana, U111, or Bo, U222, a manager) with more open than a Home can show; 122 technicians."""
    workspace = Workspace(external_id="T111", created_at=NOW)
    session.add(workspace)
    session.flush()
    ana = Technician(
        workspace_id=workspace.id,
        user_id="U111",
        display_name="Ana " + "A" * 190,
        timezone="America/Chicago",
        created_at=NOW,
    )
    bo = Technician(
        workspace_id=workspace.id,
        user_id="U222",
        display_name="Bo",
        timezone="Europe/Berlin",
        created_at=NOW,
    )
    others = [
        Technician(workspace_id=workspace.id, user_id=f"U9{n:03d}", display_name=f"Tech {n}", created_at=NOW)
        for n in range(120)
    ]
    session.add_all([ana, bo, *others])
    session.flush()
    old = NOW - timedelta(days=60)
    clients = [
        Client(
            workspace_id=workspace.id,
            name=f"{NAME} {n}",
            match_key=f"client {n}",
            owner_id=ana.id,
            contact_name="Jane " + "R" * 180,
            contact_email="jane@acme.example",
            contact_phone="+1 555 0100",
            checkin_cadence_days=30,
            created_at=old,
        )
        for n in range(80)
    ]
    session.add_all(clients)
    session.flush()
    technician_id = ana.id if owner == "U111" else bo.id
    for client in clients:
        client.owner_id = technician_id
    common = {"workspace_id": workspace.id, "technician_id": technician_id}
    session.add_all(
        Visit(
            **common,
            client_id=clients[n].id,
            visited_at=old + timedelta(hours=n),
            minutes=90,
            work_done=LONG,
            remaining=LONG,
            created_at=old,
        )
        for n in range(40)
    )
    session.add_all(
        Appointment(
            **common,
            client_id=clients[n].id,
            window_start=NOW + timedelta(days=1, hours=n),
            window_end=NOW + timedelta(days=1, hours=n + 1),
            status=AppointmentStatus.CANCELLED,
            cancelled_at=NOW - timedelta(hours=n),
            created_at=old,
        )
        for n in range(40)
    )
    session.add_all(
        Appointment(
            **common,
            client_id=clients[n].id,
            window_start=NOW + timedelta(hours=n),
            window_end=NOW + timedelta(hours=n + 1),
            status=AppointmentStatus.PLANNED,
            created_at=old,
        )
        for n in range(30)
    )
    session.add_all(
        Promise(
            **common,
            client_id=clients[n % 80].id,
            text=LONG,
            due_at=NOW + timedelta(days=n - 30),
            times_moved=0,
            created_at=old,
        )
        for n in range(60)
    )


@pytest.fixture
def core(services: Services) -> Core:
    """The core over a database holding far more than a Home can show."""
    with services.sessions.begin() as session:
        _seed(session, "U111")
    return Core(services)


def assert_within_slack_limits(reply: Reply) -> dict[str, Any]:
    """The rendered Home obeys Block Kit's limits, and the core needed no cutting by the renderer."""
    assert len(reply.blocks) <= 100
    view = build_home(reply)
    blocks = view["blocks"]
    assert len(blocks) == len(reply.blocks)
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "actions":
            assert len(block["elements"]) <= 25
    for found in buttons(view):
        assert len(found["value"]) <= 2000
        assert len(found["text"]["text"]) <= 75
    return view


def headers(view: dict[str, Any]) -> list[str]:
    return [block["text"]["text"] for block in view["blocks"] if block["type"] == "header"]


def test_a_technicians_home_with_many_items_fits_and_keeps_the_settings(core: Core) -> None:
    reply = core.home(Actor("T111", "U111"))

    view = assert_within_slack_limits(reply)
    assert headers(view) == [
        "What's open",
        "Follow-ups to send (40)",
        "Calls to make (40)",
        "Promises by due date (60)",
        "Appointments coming up (30)",
        "Check-ins due (80)",
        "Your settings",
    ]
    notes = [block["elements"][0]["text"] for block in view["blocks"] if block["type"] == "context"]
    assert notes == [
        "…and 32 more: /visit list",
        "…and 32 more: /visit list",
        "…and 52 more: /promise list",
        "…and 22 more: /visit list",
        "…and 72 more: the reminders bring each one",
    ]
    assert [found["action_id"] for found in buttons(view)][-1] == "home.settings#0"
    assert "Team overview" not in headers(view)
    # The first follow-up comes with its draft and both of the reminder's buttons.
    labels = [found["text"]["text"] for found in buttons(view)]
    assert labels[:2] == ["Mark sent", "Snooze until tomorrow"]


def test_a_managers_home_with_a_large_team_keeps_the_overview_and_settings(core: Core) -> None:
    reply = core.home(Actor("T111", "U222"))

    view = assert_within_slack_limits(reply)
    assert headers(view)[-2:] == ["Team overview", "Your settings"]
    notes = [block["elements"][0]["text"] for block in view["blocks"] if block["type"] == "context"]
    assert notes == ["…and 35 more: the digest covers everyone."]
    assert [found["action_id"] for found in buttons(view)][-2:] == ["digest.request#0", "home.settings#0"]


def test_a_manager_with_many_items_a_large_team_and_a_long_answer_on_top_still_fits(
    services: Services,
) -> None:
    with services.sessions.begin() as session:
        _seed(session, "U222")
    notice = Reply(summary="done", blocks=tuple(Section(LONG) for _ in range(10)))

    reply = Core(services).home(Actor("T111", "U222"), notice)

    view = assert_within_slack_limits(reply)
    assert headers(view) == [
        "What's open",
        "Follow-ups to send (40)",
        "Calls to make (40)",
        "Promises by due date (60)",
        "Appointments coming up (30)",
        "Check-ins due (80)",
        "Team overview",
        "Your settings",
    ]
    # At most three blocks of the answer, right under the heading.
    assert [block["type"] for block in view["blocks"][1:5]] == ["section", "section", "section", "header"]
    assert [found["action_id"] for found in buttons(view)][-2:] == ["digest.request#0", "home.settings#0"]
