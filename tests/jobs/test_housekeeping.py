"""Housekeeping: old replay keys are purged on schedule, and the scheduler holds only code-defined jobs."""

from __future__ import annotations

from datetime import timedelta

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services import Services
from bot.wiring import build_notifier
from jobs.scheduler import build_scheduler, housekeeping, plan_nudges, run_once, send_nudges
from storage.models import ProcessedRequest
from tests.harness import MONDAY_MORNING, FrozenClock

AT = MONDAY_MORNING


def store_keys(services: Services) -> None:
    """Replay keys received at various ages before AT."""
    ages = {
        "command:two-days": timedelta(days=2),
        "command:a-day-and-a-second": timedelta(days=1, seconds=1),
        "command:exactly-a-day": timedelta(days=1),
        "view:an-hour": timedelta(hours=1),
        "choose:just-now": timedelta(0),
    }
    with services.sessions.begin() as writer:
        writer.add_all(ProcessedRequest(key=key, received_at=AT - age) for key, age in ages.items())


def kept(session: Session) -> list[str]:
    return sorted(session.scalars(select(ProcessedRequest.key)))


def test_run_once_purges_request_keys_older_than_a_day_and_keeps_newer_ones(
    services: Services, session: Session
) -> None:
    store_keys(services)

    run_once(services, build_notifier(services.settings), at=AT)

    assert kept(session) == ["choose:just-now", "command:exactly-a-day", "view:an-hour"]


def test_run_once_twice_is_harmless(services: Services, session: Session) -> None:
    store_keys(services)

    run_once(services, build_notifier(services.settings), at=AT)
    run_once(services, build_notifier(services.settings), at=AT)

    assert kept(session) == ["choose:just-now", "command:exactly-a-day", "view:an-hour"]


def test_without_an_instant_housekeeping_goes_by_the_services_clock(
    services: Services, session: Session, clock: FrozenClock
) -> None:
    store_keys(services)
    clock.advance(hours=2)

    housekeeping(services)

    assert kept(session) == ["choose:just-now", "view:an-hour"]


def test_the_scheduler_registers_housekeeping_hourly_in_a_memory_job_store(
    services: Services, session: Session
) -> None:
    scheduler = build_scheduler(services, build_notifier(services.settings))
    assert isinstance(scheduler, BackgroundScheduler)
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job("housekeeping")
        assert job is not None
        assert job.func is housekeeping
        assert job.args == (services,)
        assert isinstance(job.trigger, IntervalTrigger)
        assert job.trigger.interval == timedelta(hours=1)
        assert (job.misfire_grace_time, job.coalesce, job.max_instances) == (3600, True, 1)
        assert isinstance(scheduler._lookup_jobstore("default"), MemoryJobStore)
        assert all(type(store) is MemoryJobStore for store in scheduler._jobstores.values())

        store_keys(services)
        job.func(*job.args)
    finally:
        scheduler.shutdown(wait=False)

    assert kept(session) == ["choose:just-now", "command:exactly-a-day", "view:an-hour"]


def test_the_scheduler_holds_exactly_the_code_defined_jobs(services: Services) -> None:
    scheduler = build_scheduler(services, build_notifier(services.settings))

    assert isinstance(scheduler, BackgroundScheduler)
    assert [(job.id, job.func, job.trigger.interval) for job in scheduler.get_jobs()] == [
        ("plan", plan_nudges, timedelta(minutes=5)),
        ("send", send_nudges, timedelta(seconds=10)),
        ("housekeeping", housekeeping, timedelta(hours=1)),
    ]
