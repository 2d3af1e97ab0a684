"""The scheduler: fixed, code-defined jobs with explicit ids in a memory job store."""

from __future__ import annotations

import logging
from datetime import datetime

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from bot.services import Services
from jobs.housekeeping import purge_request_keys

logger = logging.getLogger(__name__)

JOB_DEFAULTS = {
    # Run late rather than never (after a pause or a busy spell), once, never two at a time.
    "misfire_grace_time": 3600,
    "coalesce": True,
    "max_instances": 1,
}


def housekeeping(services: Services, at: datetime | None = None) -> None:
    """Purge old replay keys."""
    now = at or services.clock()
    with services.sessions.begin() as session:
        purged = purge_request_keys(session, now=now)
    if purged:
        logger.info("purged %s old request keys", purged)


def run_once(services: Services, *, at: datetime | None = None) -> None:
    """Every job once, as if it were `at`."""
    housekeeping(services, at)


def build_scheduler(services: Services) -> BackgroundScheduler:
    """A scheduler holding our jobs; nothing user-defined and nothing pickled lives in it."""
    # Said explicitly: a persistent (SQLAlchemy) job store would pickle jobs and run them twice when
    # several processes share it; our schedules live in our own tables instead.
    options = {"job_defaults": JOB_DEFAULTS, "jobstores": {"default": MemoryJobStore()}}
    # A background scheduler in both processes: `python -m jobs` waits on its own stop event, so a
    # SIGTERM never has to unwind through the scheduler's loop.
    scheduler = BackgroundScheduler(**options)
    scheduler.add_job(
        housekeeping, "interval", hours=1, id="housekeeping", replace_existing=True, args=[services]
    )
    return scheduler
