"""`python -m bot` runs the bot; `python -m bot migrate` only applies database migrations (release phase);
`python -m bot import clients FILE.csv` imports a client list (bot.clientlist.cli); `python -m bot export DIR`
writes everything of a workspace to files, and `python -m bot import all FILE.json` restores them
(bot.clientlist.backup)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from types import FrameType

from bot.services import Services
from bot.settings import LogLevel, SettingsError, load_settings
from bot.wiring import build_notifier, build_services, configure_logging, migrate_database

logger = logging.getLogger(__name__)


def _stop(signum: int, frame: FrameType | None) -> None:
    """SIGTERM is how platforms ask us to stop: unwind (closing the scheduler and pools) and exit 0."""
    raise SystemExit(0)


def _fail(problem: Exception) -> int:
    sys.stderr.write(f"nudgebot: {problem}\n")
    return 2


async def _serve(services: Services) -> None:
    from handlers.front import build_front, run_front
    from jobs.scheduler import build_scheduler

    settings = services.settings
    front = build_front(services)
    # Check the token before migrating or starting jobs, so a rejected one stops start-up with one line.
    await front.warm_up()
    if settings.auto_migrate:
        migrate_database(services)
    # In one process, Teams replies and reminders count against Teams' rate limits together.
    pacing = front.teams.listeners.messenger.pacing if front.teams is not None else None
    scheduler = (
        build_scheduler(services, build_notifier(settings, teams_pacing=pacing))
        if settings.run_jobs
        else None
    )
    if scheduler is not None:
        scheduler.start()
    try:
        await run_front(front, settings)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)


SANDBOX_ANNOUNCE = (
    "Nudgebot's sandbox: the real bot with a stand-in for Slack, at {url} — open it in your browser"
)
NO_PLATFORM_ANNOUNCE = "No Slack or Teams settings: starting the sandbox at {url} — open it in your browser"


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, read settings and run."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["import"]:
        from bot.clientlist.cli import main as import_main

        configure_logging("WARNING")
        return import_main(argv[1:])
    if argv[:1] == ["export"]:
        from bot.clientlist.backup import export_main

        configure_logging("WARNING")
        return export_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Nudgebot, the Slack and Teams bot.",
        epilog="python -m bot import clients FILE.csv imports a client list (python -m bot import -h); "
        "python -m bot export DIR writes a workspace to files; python -m bot import all FILE.json "
        "restores them.",
    )
    parser.add_argument(
        "action",
        nargs="?",
        choices=["serve", "migrate", "sandbox", "start"],
        default="serve",
        help="serve (default), migrate, sandbox (try it in a browser), or start: serve, or the sandbox "
        "when no chat platform is configured (what scripts/run does)",
    )
    parser.add_argument("--port", type=int, help="sandbox: the port on 127.0.0.1 (default 3000, or PORT)")
    parser.add_argument("--db", help="sandbox: a database URL (default: sqlite:///sandbox.db)")
    parser.add_argument("--demo", action="store_true", help="sandbox: load the demo company at start")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        announce = None
        if args.action == "sandbox":
            announce = SANDBOX_ANNOUNCE
        elif args.action == "start" and not (settings.slack_on or settings.teams_on):
            announce = NO_PLATFORM_ANNOUNCE
        elif args.action in ("serve", "start"):
            settings.require_platforms()
    except SettingsError as problem:
        return _fail(problem)
    # The sandbox says its one line and stays quiet, unless LOG_LEVEL asks for more.
    quiet = announce is not None and "log_level" not in settings.model_fields_set
    level: LogLevel = "WARNING" if quiet else settings.log_level
    configure_logging(level)
    # uvicorn hands SIGTERM back to the handler it found once it has shut down; with the default one the
    # process would die by the signal (exit -15) before the scheduler is shut down.
    signal.signal(signal.SIGTERM, _stop)
    from handlers.slack.app import TokenRejected

    try:
        if announce is not None:
            from handlers.slack.sandbox.run import main as sandbox

            port = settings.port if args.port is None else args.port
            return sandbox(
                port=port, database_url=args.db, demo=args.demo, announce=announce, log_level=level
            )
        if args.action == "migrate":
            build_services(settings, migrate=True)
            return 0
        asyncio.run(_serve(build_services(settings, migrate=False)))
    except (SettingsError, TokenRejected) as problem:
        return _fail(problem)
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
