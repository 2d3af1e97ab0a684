"""The drills of issue 3 as slow tests: real sender and planner processes, the fake Slack, both databases;
and the crash drill once more with the technicians on Teams, against the fake Microsoft.

Each drill lives in `bench/drill_crash.py`, which also runs it from the command line with its figures.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.drill_crash import run_crash_drill, run_schedulers_drill, run_storm_drill
from bot.people import TEAMS
from storage.db import make_engine
from storage.migrate import upgrade

pytestmark = pytest.mark.slow


def test_crash_drill_loses_nothing_and_duplicates_at_most_once_per_kill(database_url: str) -> None:
    result = run_crash_drill(database_url, reminders=1000, senders=3, lease_s=2.0, timeout_s=90)

    assert result.errors == ""
    assert (result.planned, result.sent, result.unsettled, result.dead) == (1000, 1000, 0, 0)
    assert result.lost == 0
    assert result.kills >= 1
    assert result.duplicates <= result.kills


def test_crash_drill_on_teams_loses_nothing_and_duplicates_at_most_once_per_kill(tmp_path: Path) -> None:
    # SQLite only: the outbox's locking is drilled on both databases above; this drills the Teams notifier
    # in it, where a reminder is told apart by its chat and summary line (the drill checks they all differ).
    url = f"sqlite:///{tmp_path / 'drill.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()

    result = run_crash_drill(url, reminders=300, senders=3, lease_s=2.0, timeout_s=60, platform=TEAMS)

    assert result.errors == ""
    assert (result.planned, result.sent, result.unsettled, result.dead) == (300, 300, 0, 0)
    assert result.lost == 0
    assert result.received == 300 + result.duplicates
    assert result.kills >= 1
    assert result.duplicates <= result.kills


def test_two_schedulers_plan_each_reminder_exactly_once(database_url: str) -> None:
    result = run_schedulers_drill(database_url, visits=300, promises=100, checkins=100, planners=2, rounds=10)

    assert result.errors == ""
    assert result.rows_per_round == [500] * 10
    assert result.reported_due == [500] * 20


def test_a_429_storm_loses_nothing_and_gets_one_request_per_retry_after_window(database_url: str) -> None:
    result = run_storm_drill(database_url, reminders=400, senders=3, storm_s=3.0, retry_after=1)

    assert result.errors == ""
    assert (result.sent, result.unsettled, result.dead, result.lost) == (400, 0, 0, 0)
    # Before the first 429 came back, each other sender may have had one request on its way.
    assert result.in_flight_at_first_429 <= 2
    assert result.storm_requests >= 3
    assert result.max_per_window == 1
    assert result.rejected_after_storm == 0
    assert result.resumed_after_s is not None
    assert result.resumed_after_s <= 2.0
