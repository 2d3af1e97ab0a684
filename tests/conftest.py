"""Fixtures: databases (SQLite always, PostgreSQL when TEST_DATABASE_URL is set), the fake Slack and the fake
Microsoft services, the bot with Slack or Teams on."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import ORMExecuteState, Session

from bot.services import Services
from bot.settings import Settings
from handlers.slack.standin import SlackStandIn
from storage.db import make_engine, make_session_factory, normalize_url
from storage.migrate import upgrade
from storage.models import Base
from tests.fakes.microsoft import FakeMicrosoft
from tests.harness import (
    BOT_TOKEN,
    MONDAY_MORNING,
    SIGNING_SECRET,
    BotServer,
    FrozenClock,
    SlackClient,
    migrated_postgres,
)
from tests.teams_client import APP_ID, APP_PASSWORD, TENANT, TeamsClient, teams_settings_for

POSTGRES = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"] if POSTGRES else ["sqlite"]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test so each starts empty and fast."""
    path = tmp_path_factory.mktemp("template") / "nudgebot.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of our own on the PostgreSQL server, migrated once and dropped at the end."""
    assert POSTGRES is not None
    with migrated_postgres(POSTGRES, "nudgebot_test") as url:
        yield url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """An empty, migrated database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "nudgebot.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the test database."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    """A session for looking at what the bot stored: it never holds SQLite's write lock, and every
    query reloads rows, so what it shows is what the bot committed last."""
    reader = create_engine(normalize_url(database_url))
    with Session(reader) as session:

        @event.listens_for(session, "do_orm_execute")
        def _fresh(state: ORMExecuteState) -> None:
            if state.is_select:
                state.update_execution_options(populate_existing=True)

        yield session
    reader.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    """Monday 23 November 2026, 09:00 in Chicago, until a test moves it."""
    return FrozenClock(MONDAY_MORNING)


@pytest.fixture
def fake_slack() -> Iterator[SlackStandIn]:
    """The fake Slack Web API, knowing Ana (Chicago) and Bo (Berlin)."""
    with SlackStandIn(valid_tokens={BOT_TOKEN}) as fake:
        fake.add_user("U111", real_name="Ana Tech", display_name="Ana", tz="America/Chicago")
        fake.add_user("U222", real_name="Bo Berg", display_name="Bo", tz="Europe/Berlin")
        yield fake


@pytest.fixture
def settings(database_url: str, fake_slack: SlackStandIn) -> Settings:
    """Settings for the bot under test, given explicitly so the developer's environment can't leak in."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token=BOT_TOKEN,  # type: ignore[arg-type]
        slack_signing_secret=SIGNING_SECRET,  # type: ignore[arg-type]
        slack_app_token=None,
        slack_api_url=fake_slack.base_url,
        database_url=database_url,
        host="127.0.0.1",
        port=0,
        run_jobs=False,
        auto_migrate=False,
        log_level="INFO",
        default_timezone="UTC",
    )


@pytest.fixture
def services(settings: Settings, engine: Engine, clock: FrozenClock) -> Services:
    """The services the bot runs on."""
    return Services(settings=settings, sessions=make_session_factory(engine), clock=clock)


@pytest.fixture
def bot(services: Services) -> Iterator[BotServer]:
    """The real bot, serving HTTP on a loopback port."""
    server = BotServer(services).start()
    yield server
    server.stop()


@pytest.fixture
def slack(bot: BotServer, fake_slack: SlackStandIn) -> Iterator[SlackClient]:
    """Sends signed requests to the bot, as Slack would."""
    client = SlackClient(bot.url, fake_slack)
    yield client
    client.close()


@pytest.fixture
def microsoft() -> Iterator[FakeMicrosoft]:
    """Bot Framework's keys, Entra's token endpoint and the Bot Connector, on a loopback port."""
    with FakeMicrosoft(app_id=APP_ID, tenant_id=TENANT, client_secret=APP_PASSWORD) as fake:
        yield fake


@pytest.fixture
def teams_settings(database_url: str, microsoft: FakeMicrosoft) -> Settings:
    """Settings with Teams on (and Slack off), pointed at the fakes."""
    return teams_settings_for(database_url, microsoft)


@pytest.fixture
def teams_services(teams_settings: Settings, engine: Engine, clock: FrozenClock) -> Services:
    """The services the bot runs on, with Teams on."""
    return Services(settings=teams_settings, sessions=make_session_factory(engine), clock=clock)


@pytest.fixture
def teams_bot(teams_services: Services) -> Iterator[BotServer]:
    """The real bot, serving HTTP on a loopback port, with Teams on."""
    server = BotServer(teams_services).start()
    yield server
    server.stop()


@pytest.fixture
def teams(teams_bot: BotServer, microsoft: FakeMicrosoft) -> Iterator[TeamsClient]:
    """Sends signed activities to the bot, as Teams would."""
    client = TeamsClient(teams_bot.url, microsoft)
    yield client
    client.close()
