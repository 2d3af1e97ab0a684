"""The scheduler: fixed, code-defined jobs with explicit ids in a memory job store."""

from __future__ import annotations

import functools
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from bot.notify import Notifier
from bot.services import Services
from jobs.digest import explain_off, plan_digests, send_digests
from jobs.housekeeping import purge_request_keys
from jobs.planners import plan
from jobs.sender import Pacer, SendReport, send_due

logger = logging.getLogger(__name__)

# Who holds a lease: enough to tell processes apart in the outbox and the logs.
SENDER_ID = f"{socket.gethostname()}:{os.getpid()}"
MAX_PASSES = 500

JOB_DEFAULTS = {
    # Run late rather than never (after a pause or a busy spell), once, never two at a time.
    "misfire_grace_time": 3600,
    "coalesce": True,
    "max_instances": 1,
}


def housekeeping(services: Services) -> None:
    """Purge old replay keys (by the wall clock: a run as of another instant must keep fresh ones)."""
    now = services.real_now()
    with services.sessions.begin() as session:
        purged = purge_request_keys(session, now=now)
    if purged:
        logger.info("purged %s old request keys", purged)


def plan_nudges(services: Services) -> int:
    """Write every nudge due now into the outbox, and the latest weekly digest; returns how many were due."""
    now = services.clock()
    with services.sessions.begin() as session:
        due = plan(session, now=now, default_tz=ZoneInfo(services.settings.default_timezone))
        return due + plan_digests(session, now=now, settings=services.settings)


def send_nudges(services: Services, notifier: Notifier, pacer: Pacer) -> SendReport:
    """Deliver due nudges until none is left to claim (or Slack asks us to wait)."""
    total = SendReport()
    for _ in range(MAX_PASSES):
        report = send_due(services, notifier, owner=SENDER_ID, pacer=pacer)
        for name in ("claimed", "sent", "skipped", "dead", "retried"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        if not report.claimed or report.rate_limited:
            total.rate_limited |= report.rate_limited
            break
    # Digests after the reminders: a digest is long, and a reminder is more urgent than its report.
    for _ in range(MAX_PASSES):
        report = send_digests(services, notifier, owner=SENDER_ID, pacer=pacer)
        for name in ("claimed", "sent", "skipped", "dead", "retried"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        if not report.claimed or report.rate_limited:
            total.rate_limited |= report.rate_limited
            break
    if total.claimed:
        logger.info("nudges: %s", total)
    return total


def run_once(services: Services, notifier: Notifier, *, at: datetime | None = None) -> SendReport:
    """Every job once, as if it were `at`: housekeeping, planning, then sending what is due.

    Only what is due, and when, follows `at`; leases, rate-limit gates and retention stay on real time.
    """
    if at is not None:
        services = replace(services, clock=lambda: at, real_clock=services.real_clock or services.clock)
    explain_off(services.settings)
    housekeeping(services)
    plan_nudges(services)
    return send_nudges(services, notifier, Pacer())


def _holding(lock: threading.Lock, function: Callable[..., object]) -> Callable[..., object]:
    @functools.wraps(function)
    def run(*args: object) -> object:
        with lock:
            return function(*args)

    return run


def build_scheduler(
    services: Services, notifier: Notifier, *, lock: threading.Lock | None = None
) -> BackgroundScheduler:
    """A scheduler holding our jobs; nothing user-defined and nothing pickled lives in it.

    With a `lock`, each job runs holding it (the sandbox moves its clock between jobs, never during one).
    """
    # Said explicitly: a persistent (SQLAlchemy) job store would pickle jobs and run them twice when
    # several processes share it; our schedules live in our own tables instead.
    options = {"job_defaults": JOB_DEFAULTS, "jobstores": {"default": MemoryJobStore()}}
    # A background scheduler in both processes: `python -m jobs` waits on its own stop event, so a
    # SIGTERM never has to unwind through the scheduler's loop.
    scheduler = BackgroundScheduler(**options)
    explain_off(services.settings)
    jobs = (
        (plan_nudges, {"minutes": 5}, "plan", [services]),
        (send_nudges, {"seconds": 10}, "send", [services, notifier, Pacer()]),
        (housekeeping, {"hours": 1}, "housekeeping", [services]),
    )
    for function, every, job_id, args in jobs:
        job = function if lock is None else _holding(lock, function)
        scheduler.add_job(job, "interval", **every, id=job_id, replace_existing=True, args=args)
    return scheduler
