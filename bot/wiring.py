"""The composition root: settings in, services out; shared by `python -m bot` and `python -m jobs`."""

from __future__ import annotations

import logging

from bot.services import Services
from bot.settings import Settings
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade


def configure_logging(level: str) -> None:
    """One log format for every process; the Slack SDK's request logs stay at WARNING unless asked for."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if level != "DEBUG":
        logging.getLogger("slack_sdk").setLevel(logging.WARNING)
        logging.getLogger("slack_bolt").setLevel(logging.WARNING)
    # Bolt reads SLACK_BOT_TOKEN itself and warns that our authorize function wins; that is intended.
    logging.getLogger("slack_bolt").addFilter(lambda record: "will be unused" not in record.getMessage())


def build_services(settings: Settings, *, migrate: bool | None = None) -> Services:
    """Engine, migrations (unless AUTO_MIGRATE=false) and the session factory."""
    engine = make_engine(settings.database_url)
    if settings.auto_migrate if migrate is None else migrate:
        upgrade(engine)
    return Services(settings=settings, sessions=make_session_factory(engine))
