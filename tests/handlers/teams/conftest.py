"""Fixtures for the Teams adapter: fake Microsoft services on loopback, and the real bot with Teams on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from bot.services import Services
from bot.settings import Settings
from storage.db import make_session_factory
from tests.fakes.microsoft import FakeMicrosoft
from tests.harness import BotServer, FrozenClock
from tests.teams_client import APP_ID, APP_PASSWORD, MO, TENANT, TeamsClient


@pytest.fixture
def microsoft() -> Iterator[FakeMicrosoft]:
    """Bot Framework's keys, Entra's token endpoint and the Bot Connector, on a loopback port."""
    with FakeMicrosoft(app_id=APP_ID, tenant_id=TENANT, client_secret=APP_PASSWORD) as fake:
        yield fake


def teams_settings_for(database_url: str, microsoft: FakeMicrosoft, **overrides: object) -> Settings:
    """Settings with Teams on (and Slack off), pointed at the fakes."""
    values: dict[str, object] = {
        "_env_file": None,
        "teams_app_id": APP_ID,
        "teams_app_password": APP_PASSWORD,
        "teams_tenant_id": TENANT,
        "teams_openid_url": microsoft.openid_url,
        "teams_login_url": microsoft.login_endpoint,
        # The fake Bot Connector is on loopback; only in tests may the bot's token go there.
        "teams_connector_hosts": "127.0.0.1",
        "database_url": database_url,
        "host": "127.0.0.1",
        "port": 0,
        "run_jobs": False,
        "auto_migrate": False,
        "log_level": "INFO",
        "default_timezone": "UTC",
        "manager_ids": MO,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def teams_settings(database_url: str, microsoft: FakeMicrosoft) -> Settings:
    """Settings for the bot under test, given explicitly so the developer's environment can't leak in."""
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
