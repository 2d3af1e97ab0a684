"""`python -m bot` runs the bot; `python -m bot migrate` only applies database migrations (release phase)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.settings import SettingsError, load_settings
from bot.wiring import build_services, configure_logging

logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, read settings and run."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="Nudgebot, the Slack bot.")
    parser.add_argument("action", nargs="?", choices=["serve", "migrate"], default="serve")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        if args.action == "serve":
            settings.require_slack()
    except SettingsError as problem:
        sys.stderr.write(f"nudgebot: {problem}\n")
        return 2
    configure_logging(settings.log_level)
    if args.action == "migrate":
        build_services(settings, migrate=True)
        return 0
    services = build_services(settings)

    from handlers.slack.app import TokenRejected
    from handlers.slack.server import build_front, run_front
    from jobs.scheduler import build_scheduler

    scheduler = build_scheduler(services, blocking=False) if settings.run_jobs else None
    if scheduler is not None:
        scheduler.start()
    try:
        asyncio.run(run_front(build_front(services), settings))
    except TokenRejected as problem:
        sys.stderr.write(f"nudgebot: {problem}\n")
        return 2
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
