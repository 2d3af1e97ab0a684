"""Migration 0005 on a database made at the revision before it, with Slack data in it, on both backends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url

from bot.core import Core
from bot.people import TEAMS, Actor, Invocation
from bot.services import Services
from bot.settings import Settings
from storage.db import make_engine, make_session_factory, normalize_url
from storage.migrate import current_revision, head_revision, upgrade
from storage.models import Client, Nudge, NudgeStatus, Technician, Visit, Workspace
from tests.conftest import BACKENDS, POSTGRES

# The revision before platforms, and one older (0004 itself copies tables on SQLite).
BEFORE = ("0004", "0003")
THEN = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture(params=[(backend, revision) for backend in BACKENDS for revision in BEFORE])
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of its own, migrated only to a revision before platforms."""
    backend, revision = request.param
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        upgrade(engine, revision)
        yield engine
        engine.dispose()
        return
    assert POSTGRES is not None
    admin_url = make_url(normalize_url(POSTGRES))
    name = f"nudgebot_upgrade_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(admin_url.set(database=name).render_as_string(hide_password=False))
    upgrade(engine, revision)
    yield engine
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def _seed_slack_rows(engine: Engine) -> None:
    """What a Slack deployment held before 0005, written with those revisions' column names."""
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO workspaces (slack_team_id, created_at) VALUES ('T111', :at)"), {"at": THEN}
        )
        connection.execute(
            text(
                "INSERT INTO technicians (workspace_id, slack_user_id, display_name, timezone, created_at) "
                "VALUES (1, 'U111', 'Ana', 'America/Chicago', :at)"
            ),
            {"at": THEN},
        )
        connection.execute(
            text(
                "INSERT INTO clients (workspace_id, name, match_key, owner_id, checkin_cadence_days, "
                "created_at) VALUES (1, 'Acme Dental', 'acme dental', 1, 30, :at)"
            ),
            {"at": THEN},
        )
        connection.execute(
            text(
                "INSERT INTO visits (workspace_id, client_id, technician_id, visited_at, minutes, "
                "work_done, created_at) VALUES (1, 1, 1, :at, 90, 'replaced fuser', :at)"
            ),
            {"at": THEN},
        )
        connection.execute(
            text(
                "INSERT INTO nudges (workspace_id, technician_id, subject, kind, period, status, due_at, "
                "next_attempt_at, attempts, channel, message_ts, created_at) VALUES (1, 1, 'visit:1', "
                "'followup', 'first', 'sent', :at, :at, 1, 'D0123ABC', '1700000000.000100', :at)"
            ),
            {"at": THEN},
        )


def test_upgrading_keeps_every_slack_row_and_makes_it_a_slack_workspace(old_database: Engine) -> None:
    _seed_slack_rows(old_database)

    upgrade(old_database)

    assert current_revision(old_database) == head_revision()
    sessions = make_session_factory(old_database)
    with sessions.begin() as session:
        workspace = session.scalars(select(Workspace)).one()
        assert (workspace.id, workspace.platform, workspace.external_id) == (1, "slack", "T111")
        assert workspace.digest_channel is None
        technician = session.scalars(select(Technician)).one()
        assert (technician.user_id, technician.display_name, technician.member_id) == ("U111", "Ana", None)
        assert [(v.client_id, v.technician_id, v.minutes) for v in session.scalars(select(Visit))] == [
            (1, 1, 90)
        ]
        assert session.scalars(select(Client.owner_id)).one() == 1
        nudge = session.scalars(select(Nudge)).one()
        assert (nudge.status, nudge.channel, nudge.message_ts) == (
            NudgeStatus.SENT,
            "D0123ABC",
            "1700000000.000100",
        )


def _services(engine: Engine) -> Services:
    settings = Settings(_env_file=None, database_url="sqlite://", default_timezone="UTC")  # type: ignore[call-arg]
    return Services(settings=settings, sessions=make_session_factory(engine), clock=lambda: NOW)


def test_a_slack_command_after_the_upgrade_finds_the_same_technician_and_client(old_database: Engine) -> None:
    _seed_slack_rows(old_database)
    upgrade(old_database)
    core = Core(_services(old_database))

    handled = core.command(Invocation(Actor("T111", "U111"), "visit", "Acme Dental 45m reset the VPN", "k1"))

    assert handled.reply.tone == "ok", handled.reply
    with make_session_factory(old_database).begin() as session:
        assert len(session.scalars(select(Technician)).all()) == 1
        assert len(session.scalars(select(Client)).all()) == 1
        visits = session.scalars(select(Visit).order_by(Visit.id)).all()
        assert [(v.technician_id, v.client_id, v.minutes) for v in visits] == [(1, 1, 90), (1, 1, 45)]


def test_a_teams_tenant_with_the_same_id_is_a_workspace_of_its_own(old_database: Engine) -> None:
    _seed_slack_rows(old_database)
    upgrade(old_database)
    core = Core(_services(old_database))

    core.command(Invocation(Actor("T111", "U111", TEAMS), "visit", '"Acme Dental" 30m swapped toner', "k2"))

    with make_session_factory(old_database).begin() as session:
        workspaces = session.scalars(select(Workspace).order_by(Workspace.id)).all()
        assert [(w.platform, w.external_id) for w in workspaces] == [("slack", "T111"), ("teams", "T111")]
        clients = session.scalars(select(Client).order_by(Client.id)).all()
        assert [(c.workspace_id, c.name) for c in clients] == [(1, "Acme Dental"), (2, "Acme Dental")]
