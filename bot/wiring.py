"""The composition root: settings in, services out; shared by `python -m bot` and `python -m jobs`."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.exc import OperationalError

from bot.notify import Notifier, Notifiers
from bot.people import SLACK, TEAMS
from bot.services import Services
from bot.settings import Settings, SettingsError
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade


def configure_logging(level: str) -> None:
    """One log format for every process; the chat SDKs' request logs stay at WARNING unless asked for."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if level != "DEBUG":
        # httpx logs every request's URL at INFO; the Teams SDK resets the httpx logger's level to its
        # own client logger's, so that one is set too.
        for name in (
            "slack_sdk",
            "slack_bolt",
            "microsoft_teams",
            "httpx",
            "microsoft_teams.common.http.client",
            # APScheduler says "Running job …" at INFO for every run of every job: every 10 s.
            "apscheduler.executors",
        ):
            logging.getLogger(name).setLevel(logging.WARNING)
    # Bolt reads SLACK_BOT_TOKEN itself and warns that our authorize function wins; that is intended.
    logging.getLogger("slack_bolt").addFilter(lambda record: "will be unused" not in record.getMessage())


def build_services(settings: Settings, *, migrate: bool | None = None) -> Services:
    """Engine, migrations (unless AUTO_MIGRATE=false) and the session factory."""
    engine = make_engine(settings.database_url)
    services = Services(settings=settings, sessions=make_session_factory(engine))
    if settings.auto_migrate if migrate is None else migrate:
        migrate_database(services)
    return services


def migrate_database(services: Services) -> None:
    """Apply pending migrations; a database that can't be reached is a one-line `SettingsError`."""
    engine = services.sessions.kw["bind"]
    try:
        upgrade(engine)
    except OperationalError as failure:
        engine.dispose()
        # The driver's first line says what is wrong (no such file, connection refused) without the password.
        reason = str(failure.orig).strip().splitlines()[0] if failure.orig is not None else "unreachable"
        raise SettingsError(f"DATABASE_URL cannot be used: {reason}") from None


def build_notifier(settings: Settings, *, teams_pacing: Any = None) -> Notifier:
    """One notifier for every platform this deployment serves; each nudge goes out through its own.

    `teams_pacing` is the serving front's count of Teams' rate limits, when the scheduler runs in the
    same process: replies and reminders then keep within the limits together.
    """
    by_platform: dict[str, Notifier] = {}
    if settings.slack_on:
        from handlers.slack.notifier import SlackNotifier

        token, _ = settings.require_slack()
        by_platform[SLACK] = SlackNotifier(token=token, base_url=settings.slack_api_url)
    if settings.teams_on:
        from handlers.teams.notifier import TeamsNotifier

        by_platform[TEAMS] = TeamsNotifier(settings, pacing=teams_pacing)
    return Notifiers(by_platform)
