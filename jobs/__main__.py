"""`python -m jobs` runs the scheduler alone; `python -m jobs run-once [--at ISO-8601]` runs each job once."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from datetime import UTC, datetime

from bot.settings import SettingsError, load_settings
from bot.wiring import build_notifier, build_services, configure_logging
from jobs.scheduler import build_scheduler, run_once
from jobs.status import outbox_status

logger = logging.getLogger(__name__)


def _instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        # argparse would otherwise say "invalid _instant value".
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO-8601 instant; for example 2026-11-23T15:00:00Z"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(prog="python -m jobs", description="Nudgebot's scheduled jobs.")
    sub = parser.add_subparsers(dest="action")
    once = sub.add_parser("run-once", help="run every job once and exit")
    once.add_argument("--at", type=_instant, help="act as if it were this instant (ISO 8601, UTC if no zone)")
    sub.add_parser("status", help="show the outbox: pending, sent, dead (and why)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        if args.action != "status":
            settings.require_platforms()
    except SettingsError as problem:
        sys.stderr.write(f"nudgebot: {problem}\n")
        return 2
    configure_logging(settings.log_level)
    # SIGTERM (how platforms stop a worker) and Ctrl-C only set an event: running jobs finish, we exit 0.
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        services = build_services(settings)
    except SettingsError as problem:
        sys.stderr.write(f"nudgebot: {problem}\n")
        return 2
    if args.action == "status":
        sys.stdout.write(outbox_status(services))
        return 0
    notifier = build_notifier(settings)
    if args.action == "run-once":
        run_once(services, notifier, at=args.at)
        return 0
    scheduler = build_scheduler(services, notifier)
    scheduler.start()
    stop.wait()
    scheduler.shutdown(wait=True)
    logger.info("scheduler stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
