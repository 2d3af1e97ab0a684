"""Migrations, column types and insert-or-ignore on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import StatementError

from storage.db import make_engine, make_session_factory, normalize_url
from storage.migrate import alembic_config, current_revision, head_revision, upgrade
from storage.models import Base, ProcessedRequest, Workspace
from storage.repositories import claim_request, ensure_technician, ensure_workspace
from storage.types import UTCDateTime


def test_the_database_is_at_the_newest_revision_and_matches_the_models(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {table.name for table in Base.metadata.sorted_tables} <= tables


def test_migrations_go_down_to_nothing_and_up_again(engine: Engine) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert current_revision(engine) is None
    assert "visits" not in inspect(engine).get_table_names()

    upgrade(engine)

    assert current_revision(engine) == head_revision()


def test_constraints_are_named_by_the_convention(engine: Engine) -> None:
    inspector = inspect(engine)
    assert inspector.get_pk_constraint("visits")["name"] == "pk_visits"
    assert {fk["name"] for fk in inspector.get_foreign_keys("touches")} == {
        "fk_touches_client_id_clients",
        "fk_touches_technician_id_technicians",
        "fk_touches_visit_id_visits",
        "fk_touches_workspace_id_workspaces",
    }
    assert [u["name"] for u in inspector.get_unique_constraints("clients")] == [
        "uq_clients_workspace_id_match_key"
    ]


def test_times_come_back_as_the_same_utc_instant(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    berlin_noon = datetime(2026, 3, 29, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    with sessions.begin() as session:
        session.add(ProcessedRequest(key="k", received_at=berlin_noon))
    with sessions.begin() as session:
        stored = session.scalars(select(ProcessedRequest)).one().received_at
    assert stored == datetime(2026, 3, 29, 10, 0, tzinfo=UTC)
    assert stored.tzinfo is UTC


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 29, 12, 0, tzinfo=timezone(timedelta(hours=2))),
        datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
        datetime(2026, 6, 1, 3, 4, 5, 60, tzinfo=ZoneInfo("America/Chicago")),
    ],
)
def test_sqlite_stores_a_time_as_the_text_its_own_dialect_writes(moment: datetime) -> None:
    # UTCDateTime writes SQLite's text itself (in one step, for speed): rows stored before, and the
    # SQL that compares them as text, must see exactly what SQLAlchemy's DATETIME would have written.
    dialect = sqlite.dialect()
    ours = UTCDateTime().bind_processor(dialect)
    theirs = sqlite.DATETIME().bind_processor(dialect)
    assert ours is not None
    assert theirs is not None
    assert ours(moment) == theirs(moment.astimezone(UTC).replace(tzinfo=None))
    assert ours(None) is None
    with pytest.raises(ValueError, match="naive datetime"):
        ours(moment.replace(tzinfo=None))


def test_a_naive_time_is_refused_and_nothing_is_stored(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        session.add(ProcessedRequest(key="k", received_at=datetime(2026, 1, 1)))
        with pytest.raises(StatementError, match="naive datetime"):
            session.flush()
        session.rollback()
    with sessions.begin() as session:
        assert session.scalars(select(ProcessedRequest)).all() == []


def test_a_request_key_is_claimed_once(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    now = datetime(2026, 11, 23, tzinfo=UTC)
    with sessions.begin() as session:
        assert claim_request(session, key="command:T1", now=now) is True
    with sessions.begin() as session:
        assert claim_request(session, key="command:T1", now=now) is False
        assert claim_request(session, key="command:T2", now=now) is True


def test_concurrent_first_requests_create_one_workspace_and_one_technician(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    now = datetime(2026, 11, 23, tzinfo=UTC)
    barrier = threading.Barrier(6)
    ids: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def first_request() -> None:
        try:
            barrier.wait()
            with sessions.begin() as session:
                workspace = ensure_workspace(session, team_id="T111", now=now)
                technician = ensure_technician(session, workspace_id=workspace.id, user_id="U111", now=now)
                ids.append((workspace.id, technician.id))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=first_request) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(set(ids)) == 1
    with sessions.begin() as session:
        assert len(session.scalars(select(Workspace)).all()) == 1


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db.example:5432/nb", "postgresql+psycopg://u:p@db.example:5432/nb"),
        ("postgresql://u@localhost/nb", "postgresql+psycopg://u@localhost/nb"),
        ("postgresql+psycopg://u@localhost/nb", "postgresql+psycopg://u@localhost/nb"),
        ("sqlite:///nudgebot.db", "sqlite:///nudgebot.db"),
    ],
)
def test_database_urls_as_heroku_and_others_give_them(given: str, expected: str) -> None:
    assert normalize_url(given) == expected


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/wal.db")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_the_models_and_the_migrations_describe_the_same_schema(engine: Engine) -> None:
    # Every schema change is an Alembic revision: autogenerate must find nothing left to do.
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
