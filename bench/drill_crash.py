# This script's report is its console output, so print is the right tool here.
# ruff: noqa: T201
"""Drills for the nudge engine, against the fake Slack and a real database, with real sender processes.

  crash       N due reminders, K sender processes; one is killed with SIGKILL every 0.5-1.5 s and
              restarted. Target: every nudge sent, 0 lost, duplicates <= kills. With --platform teams the
              technicians are on Teams: the senders write to the fake Microsoft (Entra and the Bot
              Connector) through the TeamsNotifier, and each reminder is told apart by its chat and its
              summary line, as Teams messages carry no nudge key.
  schedulers  two planner processes run `plan_nudges` at the same instant, in lock-step, round after
              round. Target: each reminder planned exactly once (rows = due items), no planner error.
  storm       the fake answers every chat.postMessage with 429 for --storm seconds, mid-delivery.
              Targets: 0 lost, after the first 429 at most one request per Retry-After window (beyond
              the ones already on their way), delivery resumes within Retry-After + 1 s of the end.

Usage: python bench/drill_crash.py [--drill crash|schedulers|storm|all] [--db sqlite|postgres]
                                   [--platform slack|teams] [--reminders 1000] [--senders 3]
                                   [--storm 10] [--json out.json]

PostgreSQL drills create a throwaway database on --postgres-url (default $TEST_DATABASE_URL, else
postgresql://postgres@127.0.0.1:5432/test) and drop it afterwards. Exit status: 0 when every target is
met, 2 when one is missed. The same functions run as slow tests in tests/jobs/test_drills.py.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import logging
import os
import random
import select as selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

# The repository root must be on sys.path before these imports.
from sqlalchemy import create_engine, delete, func, insert, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from bot import addresses, nudges  # noqa: E402
from bot.notify import Notifier, Notifiers  # noqa: E402
from bot.people import SLACK, TEAMS  # noqa: E402
from bot.services import Services  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.slack.notifier import SlackNotifier  # noqa: E402
from handlers.slack.standin import SlackStandIn  # noqa: E402
from jobs.planners import plan  # noqa: E402
from jobs.scheduler import plan_nudges  # noqa: E402
from jobs.sender import Pacer, send_due  # noqa: E402
from storage.db import make_engine, make_session_factory, normalize_url  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    Client,
    Conversation,
    Nudge,
    NudgeStatus,
    Promise,
    Technician,
    Visit,
    Workspace,
)

TOKEN = "xoxb-drill-token"
TEAM_ID = "T111"
# The bot's Entra app registration and the Microsoft 365 tenant of the Teams drill (dummy ids).
TEAMS_APP_ID = "d7d7d7d7-0000-4000-8000-00000000d0d0"
TEAMS_APP_PASSWORD = "drill-client-secret"
TEAMS_TENANT = "e8e8e8e8-0000-4000-8000-000000000111"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
# A day is 00:00-23:59 for the drills' technicians: 24:00 (1440) can't be stored, as time(24) is invalid.
ALL_DAY_END_MINUTE = 23 * 60 + 59
ALL_DAYS = "0123456"
UTC_ZONE = ZoneInfo("UTC")
POLL_S = 0.05
SENDER_STOP_S = 10.0


# -- data ------------------------------------------------------------------------------------------------


def midday_zone(now: datetime) -> str:
    """A fixed-offset zone where `now` is about noon, so a drill never crosses a local midnight."""
    offset = 12 - now.astimezone(UTC).hour
    if offset == 0:
        return "Etc/GMT"
    # The Etc zones' signs are inverted (POSIX): Etc/GMT-3 is three hours ahead of UTC.
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def seed_due(
    sessions: sessionmaker[Session],
    *,
    now: datetime,
    visits: int,
    promises: int = 0,
    checkins: int = 0,
    technicians: int = 50,
    team_id: str = TEAM_ID,
) -> int:
    """One workspace whose technicians work all day, every day, with this many reminders due at `now`:
    visits whose follow-up was never sent, promises due today, clients overdue a check-in.

    Each subject is due exactly once (one nudge), so the due count is the sum; returns the workspace id.
    """
    zone = midday_zone(now)
    yesterday = now - timedelta(days=1)
    long_ago = now - timedelta(days=60)
    with sessions.begin() as session:
        workspace_id = session.scalars(
            insert(Workspace).returning(Workspace.id), [{"external_id": team_id, "created_at": long_ago}]
        ).one()
        technician_ids = list(
            session.scalars(
                insert(Technician).returning(Technician.id, sort_by_parameter_order=True),
                [
                    {
                        "workspace_id": workspace_id,
                        "user_id": f"U{number:05d}",
                        "display_name": f"Technician {number}",
                        "timezone": zone,
                        "created_at": long_ago,
                        "work_start_minute": 0,
                        "work_end_minute": ALL_DAY_END_MINUTE,
                        "work_days": ALL_DAYS,
                    }
                    for number in range(technicians)
                ],
            )
        )

        def clients(count: int, prefix: str, last_touch: datetime) -> list[int]:
            if count == 0:
                return []
            rows = [
                {
                    "workspace_id": workspace_id,
                    "name": f"{prefix} {number}",
                    "match_key": f"{prefix.lower()} {number}",
                    "owner_id": technician_ids[number % technicians],
                    "contact_name": "Pat",
                    "contact_phone": "+1 312 555 0100",
                    "checkin_cadence_days": 30,
                    "last_touch_at": last_touch,
                    "created_at": long_ago,
                }
                for number in range(count)
            ]
            return list(
                session.scalars(insert(Client).returning(Client.id, sort_by_parameter_order=True), rows)
            )

        visited = clients(visits, "Visited", yesterday)
        session.execute(
            insert(Visit),
            [
                {
                    "workspace_id": workspace_id,
                    "client_id": client_id,
                    "technician_id": technician_ids[number % technicians],
                    "visited_at": yesterday,
                    "minutes": 90,
                    "work_done": "replaced fuser",
                    "remaining": "order toner",
                    "created_at": yesterday,
                }
                for number, client_id in enumerate(visited)
            ],
        )
        promised = clients(promises, "Promised", yesterday)
        if promised:
            session.execute(
                insert(Promise),
                [
                    {
                        "workspace_id": workspace_id,
                        "client_id": client_id,
                        "technician_id": technician_ids[number % technicians],
                        "text": "send the quote",
                        "due_at": now,
                        "times_moved": 0,
                        "created_at": long_ago,
                    }
                    for number, client_id in enumerate(promised)
                ],
            )
        clients(checkins, "Quiet", long_ago)
    return workspace_id


def move_to_teams(
    sessions: sessionmaker[Session], *, workspace_id: int, service_url: str, now: datetime
) -> None:
    """Make a seeded workspace a Teams tenant: each technician gets a member id and a 1:1 chat with the
    bot at `service_url`, as the bot stores them from the first message a technician sends it."""
    with sessions.begin() as session:
        session.execute(update(Workspace).where(Workspace.id == workspace_id).values(platform=TEAMS))
        technician_ids = session.scalars(
            select(Technician.id).where(Technician.workspace_id == workspace_id).order_by(Technician.id)
        ).all()
        session.execute(
            update(Technician),
            [
                {
                    "id": technician_id,
                    "user_id": f"00000000-0000-4000-8000-{number:012d}",
                    "member_id": f"29:drill-member-{number:05d}",
                }
                for number, technician_id in enumerate(technician_ids)
            ],
        )
        session.execute(
            insert(Conversation),
            [
                {
                    "workspace_id": workspace_id,
                    "conversation_id": f"a:1drill-tech-{number:05d}",
                    "kind": "personal",
                    "service_url": service_url,
                    "technician_id": technician_id,
                    "team_id": None,
                    "updated_at": now,
                }
                for number, technician_id in enumerate(technician_ids)
            ],
        )


def settings_for(database_url: str, slack_url: str = "http://127.0.0.1:9/api/") -> Settings:
    """Settings for a drill process, given in full so no .env or environment variable leaks in."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token=TOKEN,  # type: ignore[arg-type]
        slack_signing_secret="drill-signing-secret",  # type: ignore[arg-type]
        slack_api_url=slack_url,
        database_url=database_url,
        run_jobs=False,
        auto_migrate=False,
        log_level="WARNING",
        default_timezone="UTC",
    )


def teams_settings_for(database_url: str, *, login_url: str, openid_url: str) -> Settings:
    """Settings for a Teams drill process (Slack off), pointed at the fake Microsoft, given in full."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        teams_app_id=TEAMS_APP_ID,
        teams_app_password=TEAMS_APP_PASSWORD,  # type: ignore[arg-type]
        teams_tenant_id=TEAMS_TENANT,
        teams_login_url=login_url,
        teams_openid_url=openid_url,
        # The fake Bot Connector is on loopback; only in drills and tests may the bot's token go there.
        teams_connector_hosts="127.0.0.1",
        database_url=database_url,
        run_jobs=False,
        auto_migrate=False,
        log_level="WARNING",
        default_timezone="UTC",
    )


@contextlib.contextmanager
def drill_services(
    database_url: str, slack_url: str = "http://127.0.0.1:9/api/", *, settings: Settings | None = None
) -> Iterator[Services]:
    """Services on the drill database (one small pool), disposed of afterwards; Slack settings unless
    `settings` are given."""
    engine = make_engine(database_url, pool_size=1, max_overflow=1)
    try:
        yield Services(
            settings=settings or settings_for(database_url, slack_url), sessions=make_session_factory(engine)
        )
    finally:
        engine.dispose()


def nudge_key(row: Any) -> str:
    """The key the sender tags a nudge's message with."""
    return f"{row.workspace_id}:{row.subject}:{row.kind}:{row.period}"


class Outbox:
    """Reads the outbox without ever taking SQLite's write lock (the senders' engine would)."""

    def __init__(self, database_url: str) -> None:
        self.engine = create_engine(normalize_url(database_url))

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(Nudge.status, func.count()).group_by(Nudge.status)).all()
        return {NudgeStatus(status).value: count for status, count in rows}

    def keys(self) -> list[str]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(Nudge.workspace_id, Nudge.subject, Nudge.kind, Nudge.period)
            ).all()
        return [nudge_key(row) for row in rows]

    def messages(self, *, now: datetime) -> list[tuple[str, str]]:
        """Each nudge as its Teams message shows it, (chat, summary line), from the code that sends it."""
        found = []
        with Session(self.engine) as session:
            for nudge in session.scalars(select(Nudge).order_by(Nudge.id)):
                technician = nudge.technician
                assert technician is not None
                hours = nudges.working_hours(technician, UTC_ZONE)
                chat = addresses.of_technician(session, technician).target
                found.append((chat, nudges.compose(session, nudge, hours, now).summary))
        return found

    def unsettled(self) -> int:
        counts = self.counts()
        return counts.get("pending", 0) + counts.get("sending", 0)

    def close(self) -> None:
        self.engine.dispose()


# -- child processes -----------------------------------------------------------------------------------


def sender_main(args: argparse.Namespace) -> int:
    """A sender process: `send_due` in a loop on the real clock until SIGTERM (or SIGKILL)."""
    # Its log (a file the drill keeps while it runs) shows the 429s and lost leases, one line each.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    owner = f"{args.name}:{os.getpid()}"
    pacer = Pacer(per_second=args.pace, burst=max(1, int(args.pace // 10)))
    if args.platform == TEAMS:
        return _send_to_teams(args, stop, owner, pacer)
    notifier = SlackNotifier(token=TOKEN, base_url=args.slack_url, timeout=5)
    with drill_services(args.database_url, args.slack_url) as services:
        _send_until(stop, services, notifier, owner, pacer, args)
    return 0


def _send_to_teams(args: argparse.Namespace, stop: threading.Event, owner: str, pacer: Pacer) -> int:
    """The sender loop with the Teams notifier, behind `Notifiers` as the scheduler has it."""
    # Imported here, so the Slack drills' senders start as fast as ever (the Teams SDK takes a while).
    from handlers.teams.notifier import TeamsNotifier

    settings = teams_settings_for(
        args.database_url, login_url=args.teams_login_url, openid_url=args.teams_openid_url
    )
    teams = TeamsNotifier(settings)
    try:
        with drill_services(args.database_url, settings=settings) as services:
            _send_until(stop, services, Notifiers({TEAMS: teams}), owner, pacer, args)
    finally:
        teams.close()
    return 0


def _send_until(
    stop: threading.Event,
    services: Services,
    notifier: Notifier,
    owner: str,
    pacer: Pacer,
    args: argparse.Namespace,
) -> None:
    while not stop.is_set():
        report = send_due(
            services,
            notifier,
            owner=owner,
            pacer=pacer,
            batch=args.batch,
            lease=timedelta(seconds=args.lease),
        )
        if not report.claimed:
            stop.wait(POLL_S)


def planner_main(args: argparse.Namespace) -> int:
    """A scheduler process reduced to its planning job: one `plan_nudges` per "go" line on stdin."""
    at = datetime.fromisoformat(args.at)
    with drill_services(args.database_url) as services:
        services = replace(services, clock=lambda: at)
        for line in sys.stdin:
            if line.strip() != "go":
                break
            due = plan_nudges(services)
            sys.stdout.write(f"done {due}\n")
            sys.stdout.flush()
    return 0


def child_command(mode: str, *options: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), mode, *options]


class Senders:
    """K sender processes that can be killed and restarted; every one is stopped on exit."""

    def __init__(
        self,
        *,
        count: int,
        database_url: str,
        notifier: Sequence[str],
        logs: Path,
        lease_s: float,
        batch: int,
        pace: float,
    ) -> None:
        # `notifier`: the sender's options saying which platform it writes to, and where.
        self.database_url, self.notifier, self.logs = database_url, tuple(notifier), logs
        self.lease_s, self.batch, self.pace = lease_s, batch, pace
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs_open: list[IO[bytes]] = []
        self.started = 0
        for slot in range(count):
            self.processes.append(self._spawn(slot))

    def _spawn(self, slot: int) -> subprocess.Popen[bytes]:
        self.started += 1
        log = (self.logs / f"sender-{slot}-{self.started}.log").open("wb")
        self.logs_open.append(log)
        command = child_command(
            "sender",
            f"--name=sender-{slot}",
            f"--database-url={self.database_url}",
            *self.notifier,
            f"--lease={self.lease_s}",
            f"--batch={self.batch}",
            f"--pace={self.pace}",
        )
        return subprocess.Popen(command, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    def kill_and_restart(self, slot: int) -> None:
        """SIGKILL one sender (no chance to settle anything) and start a fresh one in its place."""
        process = self.processes[slot]
        process.kill()
        process.wait()
        self.processes[slot] = self._spawn(slot)

    def crashed(self) -> list[str]:
        """Senders that exited on their own, with the end of their log: a drill bug, not a kill."""
        return [
            f"sender {slot} exited with {process.returncode}"
            for slot, process in enumerate(self.processes)
            if process.poll() is not None
        ]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=SENDER_STOP_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in self.logs_open:
            log.close()

    def errors(self) -> str:
        """Tracebacks in the senders' logs (a killed sender leaves none)."""
        found = []
        for path in sorted(self.logs.glob("sender-*.log")):
            content = path.read_text(errors="replace")
            if "Traceback" in content:
                found.append(f"{path.name}:\n{content[-3000:]}")
        return "\n".join(found)


# -- the drills ----------------------------------------------------------------------------------------


@dataclass
class CrashResult:
    """What the crash drill saw."""

    db: str
    reminders: int
    senders: int
    planned: int = 0
    sent: int = 0
    unsettled: int = 0
    dead: int = 0
    received: int = 0
    lost: int = 0
    duplicates: int = 0
    kills: int = 0
    wall_s: float = 0.0
    msg_per_s: float = 0.0
    errors: str = ""

    @property
    def passed(self) -> bool:
        complete = self.sent == self.planned == self.reminders and self.unsettled == self.dead == 0
        return complete and self.lost == 0 and self.duplicates <= self.kills and not self.errors


def _plan_due_now(database_url: str, reminders: int, *, teams_at: str | None = None) -> datetime:
    """Seed `reminders` follow-ups due now and plan them once, as the drills start from; returns now.

    With `teams_at` (a Bot Connector service URL), the technicians are on Teams with their chats there.
    """
    now = datetime.now(UTC)
    with drill_services(database_url) as services:
        if teams_at is None:
            seed_due(services.sessions, now=now, visits=reminders)
        else:
            workspace_id = seed_due(services.sessions, now=now, visits=reminders, team_id=TEAMS_TENANT)
            move_to_teams(services.sessions, workspace_id=workspace_id, service_url=teams_at, now=now)
        with services.sessions.begin() as session:
            plan(session, now=now, default_tz=UTC_ZONE)
    return now


def run_crash_drill(
    database_url: str,
    *,
    reminders: int = 1000,
    senders: int = 3,
    lease_s: float = 2.0,
    batch: int = 5,
    pace: float = 500.0,
    kill_every: tuple[float, float] = (0.5, 1.5),
    timeout_s: float = 120.0,
    seed: int = 20261123,
    platform: str = SLACK,
) -> CrashResult:
    """Plan `reminders` nudges once, deliver them with `senders` processes while killing one at random;
    the technicians are on `platform` ("slack" or "teams")."""
    backend = make_url(normalize_url(database_url)).get_backend_name()
    result = CrashResult(db=backend, reminders=reminders, senders=senders)
    rng = random.Random(seed)
    if platform == TEAMS:
        return _crash_on_teams(
            database_url,
            result,
            rng,
            lease_s=lease_s,
            batch=batch,
            pace=pace,
            kill_every=kill_every,
            timeout_s=timeout_s,
        )
    if platform != SLACK:
        raise ValueError(f"no crash drill for platform {platform!r}")
    _plan_due_now(database_url, reminders)
    outbox = Outbox(database_url)
    with (
        SlackStandIn(valid_tokens={TOKEN}) as fake,
        tempfile.TemporaryDirectory(prefix="nudgebot-drill-") as logs,
    ):
        started = time.monotonic()
        pool = Senders(
            count=senders,
            database_url=database_url,
            notifier=[f"--slack-url={fake.base_url}"],
            logs=Path(logs),
            lease_s=lease_s,
            batch=batch,
            pace=pace,
        )
        _kill_at_random(
            pool, outbox, result, rng, started=started, kill_every=kill_every, timeout_s=timeout_s
        )
        received = fake.keys()
    counts = outbox.counts()
    planned = outbox.keys()
    outbox.close()
    _tally(result, counts, planned, received)
    return result


def _crash_on_teams(
    database_url: str,
    result: CrashResult,
    rng: random.Random,
    *,
    lease_s: float,
    batch: int,
    pace: float,
    kill_every: tuple[float, float],
    timeout_s: float,
) -> CrashResult:
    """The crash drill with the technicians on Teams: the senders write to the fake Microsoft."""
    # Imported here: the Slack drills need neither the fake nor its crypto.
    from tests.fakes.microsoft import FakeMicrosoft

    with (
        FakeMicrosoft(app_id=TEAMS_APP_ID, tenant_id=TEAMS_TENANT, client_secret=TEAMS_APP_PASSWORD) as fake,
        tempfile.TemporaryDirectory(prefix="nudgebot-drill-") as logs,
    ):
        # The technicians' chats live at the fake's service URL, known once it listens.
        now = _plan_due_now(database_url, result.reminders, teams_at=fake.service_url)
        outbox = Outbox(database_url)
        # A Teams message carries no nudge key: a reminder is its chat and its summary line. Two planned
        # reminders alike would be counted as one sent twice, so they must all differ.
        planned = outbox.messages(now=now)
        alike = [pair for pair, count in Counter(planned).items() if count > 1]
        if alike:
            outbox.close()
            raise ValueError(f"{len(alike)} planned reminders are alike in chat and summary, e.g. {alike[0]}")
        started = time.monotonic()
        pool = Senders(
            count=result.senders,
            database_url=database_url,
            notifier=[
                f"--platform={TEAMS}",
                f"--teams-login-url={fake.login_endpoint}",
                f"--teams-openid-url={fake.openid_url}",
            ],
            logs=Path(logs),
            lease_s=lease_s,
            batch=batch,
            pace=pace,
        )
        _kill_at_random(
            pool, outbox, result, rng, started=started, kill_every=kill_every, timeout_s=timeout_s
        )
        received = [(call.conversation_id, (call.json_body or {}).get("summary")) for call in fake.sent()]
    counts = outbox.counts()
    outbox.close()
    _tally(result, counts, planned, received)
    strays = sorted(set(received) - set(planned), key=str)
    if strays:
        # Sent, but not as planned (another chat, another summary): the count above can't vouch for them.
        result.errors += f"{len(strays)} messages match no planned reminder, e.g. {strays[0]}\n"
    return result


def _kill_at_random(
    pool: Senders,
    outbox: Outbox,
    result: CrashResult,
    rng: random.Random,
    *,
    started: float,
    kill_every: tuple[float, float],
    timeout_s: float,
) -> None:
    """Kill a sender at random every so often until the outbox is settled; stops the senders after."""
    try:
        next_kill = started + rng.uniform(*kill_every)
        while outbox.unsettled() and time.monotonic() - started < timeout_s and not pool.crashed():
            if time.monotonic() >= next_kill:
                pool.kill_and_restart(rng.randrange(result.senders))
                result.kills += 1
                next_kill = time.monotonic() + rng.uniform(*kill_every)
            time.sleep(POLL_S)
        result.wall_s = time.monotonic() - started
        result.errors = "\n".join(pool.crashed())
    finally:
        pool.stop()
    result.errors += pool.errors()


def _tally(
    result: CrashResult, counts: dict[str, int], planned: Sequence[Hashable], received: Sequence[Hashable]
) -> None:
    """Fill in the figures from the outbox's counts and what was planned and received, one id each."""
    result.planned = len(planned)
    result.sent = counts.get("sent", 0)
    result.dead = counts.get("dead", 0)
    result.unsettled = counts.get("pending", 0) + counts.get("sending", 0)
    result.received = len(received)
    result.lost = len(set(planned) - set(received))
    result.duplicates = len(received) - len(set(received))
    result.msg_per_s = result.sent / result.wall_s if result.wall_s else 0.0


@dataclass
class SchedulersResult:
    """What the two-schedulers drill saw."""

    db: str
    planners: int
    rounds: int
    due: int
    rows_per_round: list[int] = field(default_factory=list)
    reported_due: list[int] = field(default_factory=list)
    wall_s: float = 0.0
    errors: str = ""

    @property
    def passed(self) -> bool:
        exact = all(rows == self.due for rows in self.rows_per_round)
        return exact and len(self.rows_per_round) == self.rounds and not self.errors


def run_schedulers_drill(
    database_url: str,
    *,
    visits: int = 600,
    promises: int = 200,
    checkins: int = 200,
    planners: int = 2,
    rounds: int = 20,
) -> SchedulersResult:
    """Two (or more) planner processes plan the same instant at once, `rounds` times over an empty outbox."""
    backend = make_url(normalize_url(database_url)).get_backend_name()
    at = datetime.now(UTC).replace(microsecond=0)
    due = visits + promises + checkins
    result = SchedulersResult(db=backend, planners=planners, rounds=rounds, due=due)
    with drill_services(database_url) as services:
        seed_due(services.sessions, now=at, visits=visits, promises=promises, checkins=checkins)
    outbox = Outbox(database_url)
    command = child_command("planner", f"--database-url={database_url}", f"--at={at.isoformat()}")
    processes = [
        subprocess.Popen(
            command, cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(planners)
    ]
    started = time.monotonic()
    try:
        for _ in range(rounds):
            with outbox.engine.begin() as connection:
                connection.execute(delete(Nudge))
            for process in processes:
                assert process.stdin is not None
                process.stdin.write(b"go\n")
                process.stdin.flush()
            answers = [_read_line(process, timeout_s=60) for process in processes]
            if not all(answer.startswith("done ") for answer in answers):
                result.errors = f"a planner did not answer: {answers!r}"
                break
            result.reported_due += [int(answer.split()[1]) for answer in answers]
            result.rows_per_round.append(sum(outbox.counts().values()))
        result.wall_s = time.monotonic() - started
    finally:
        for process in processes:
            assert process.stdin is not None
            process.stdin.close()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            assert process.stdout is not None
            assert process.stderr is not None
            stderr = process.stderr.read()
            process.stdout.close()
            process.stderr.close()
            if process.returncode != 0 or b"Traceback" in stderr:
                result.errors += stderr.decode(errors="replace")[-3000:]
        outbox.close()
    return result


def _read_line(process: subprocess.Popen[bytes], *, timeout_s: float) -> str:
    assert process.stdout is not None
    ready, _, _ = selectors.select([process.stdout], [], [], timeout_s)
    return process.stdout.readline().decode().strip() if ready else ""


@dataclass
class StormResult:
    """What the 429-storm drill saw."""

    db: str
    reminders: int
    senders: int
    storm_s: float
    retry_after: int
    sent: int = 0
    unsettled: int = 0
    dead: int = 0
    lost: int = 0
    duplicates: int = 0
    storm_requests: int = 0
    # Requests already on their way when the first 429 came back (at most one per sender).
    in_flight_at_first_429: int = 0
    # Smallest gap between two requests after those, while the storm lasted (>= Retry-After).
    min_gap_s: float | None = None
    max_per_window: int = 0
    resumed_after_s: float | None = None
    rejected_after_storm: int = 0
    wall_s: float = 0.0
    errors: str = ""

    @property
    def passed(self) -> bool:
        paced = self.max_per_window <= 1 and self.in_flight_at_first_429 <= self.senders - 1
        resumed = self.resumed_after_s is not None and self.resumed_after_s <= self.retry_after + 1
        complete = self.sent == self.reminders and self.unsettled == self.dead == self.lost == 0
        return complete and paced and resumed and not self.errors


# Requests the fake received this soon after the first 429 were decided before any sender knew of it.
IN_FLIGHT_GRACE_S = 0.25
# The fake's clock and the senders' clocks are read at slightly different moments.
GAP_TOLERANCE_S = 0.05


def run_storm_drill(
    database_url: str,
    *,
    reminders: int = 400,
    senders: int = 3,
    storm_s: float = 10.0,
    retry_after: int = 1,
    pace: float = 30.0,
    timeout_s: float = 120.0,
) -> StormResult:
    """Deliver `reminders` with `senders` paced processes; a storm of 429s begins once a tenth is out."""
    backend = make_url(normalize_url(database_url)).get_backend_name()
    result = StormResult(
        db=backend, reminders=reminders, senders=senders, storm_s=storm_s, retry_after=retry_after
    )
    _plan_due_now(database_url, reminders)
    outbox = Outbox(database_url)
    with (
        SlackStandIn(valid_tokens={TOKEN}) as fake,
        tempfile.TemporaryDirectory(prefix="nudgebot-drill-") as logs,
    ):
        started = time.monotonic()
        pool = Senders(
            count=senders,
            database_url=database_url,
            notifier=[f"--slack-url={fake.base_url}"],
            logs=Path(logs),
            lease_s=30.0,
            batch=5,
            pace=pace,
        )
        try:
            while len(fake.keys()) < reminders // 10 and time.monotonic() - started < timeout_s:
                time.sleep(0.01)
            fake.storm("chat.postMessage", seconds=storm_s, retry_after=retry_after)
            while outbox.unsettled() and time.monotonic() - started < timeout_s and not pool.crashed():
                time.sleep(POLL_S)
            result.wall_s = time.monotonic() - started
            result.errors = "\n".join(pool.crashed())
        finally:
            pool.stop()
        result.errors += pool.errors()
        window = fake.storm_window("chat.postMessage")
        calls = fake.calls("chat.postMessage")
        received = fake.keys()
    counts = outbox.counts()
    planned = outbox.keys()
    outbox.close()
    result.sent = counts.get("sent", 0)
    result.dead = counts.get("dead", 0)
    result.unsettled = counts.get("pending", 0) + counts.get("sending", 0)
    result.lost = len(set(planned) - set(received))
    result.duplicates = len(received) - len(set(received))
    assert window is not None
    storm_start, storm_end = window
    during = [c.received_at for c in calls if storm_start <= c.received_at < storm_end]
    result.storm_requests = len(during)
    if during:
        first = during[0]
        in_flight = [t for t in during if t < first + IN_FLIGHT_GRACE_S]
        later = [t for t in during if t >= first + IN_FLIGHT_GRACE_S]
        result.in_flight_at_first_429 = len(in_flight) - 1
        probes = [first, *later]
        gaps = [b - a for a, b in itertools.pairwise(probes)]
        result.min_gap_s = min(gaps) if gaps else None
        window_s = retry_after - GAP_TOLERANCE_S
        result.max_per_window = max(
            sum(1 for t in later if start <= t < start + window_s) for start in [first, *later]
        )
    after = [c for c in calls if c.received_at >= storm_end]
    result.rejected_after_storm = sum(1 for c in after if c.fault is not None)
    accepted_after = [c.received_at for c in after if c.fault is None]
    result.resumed_after_s = accepted_after[0] - storm_end if accepted_after else None
    return result


# -- the script ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def throwaway_database(kind: str, postgres_url: str) -> Iterator[str]:
    """A new, migrated database: a SQLite file in a temporary folder, or a PostgreSQL one dropped after."""
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="nudgebot-drill-db-")
        url = f"sqlite:///{folder}/drill.db"
        try:
            _migrate(url)
            yield url
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    admin_url = make_url(normalize_url(postgres_url))
    name = f"nudgebot_drill_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        _migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def _migrate(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()


def print_result(name: str, result: CrashResult | SchedulersResult | StormResult) -> None:
    figures = {k: v for k, v in asdict(result).items() if k != "errors"}
    print(f"{name} on {result.db}: {'PASS' if result.passed else 'MISS'}")
    for key, value in figures.items():
        if isinstance(value, float):
            shown = f"{value:.2f}"
        elif isinstance(value, list) and value and len(set(value)) == 1:
            shown = f"{len(value)} x {value[0]}"
        else:
            shown = str(value)
        print(f"  {key:<24} {shown}")
    if result.errors:
        print(f"  errors:\n{result.errors}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="mode")
    sender = sub.add_parser("sender", help="(internal) one sender process")
    sender.add_argument("--name", required=True)
    sender.add_argument("--database-url", required=True)
    sender.add_argument("--platform", choices=[SLACK, TEAMS], default=SLACK)
    sender.add_argument("--slack-url")
    sender.add_argument("--teams-login-url")
    sender.add_argument("--teams-openid-url")
    sender.add_argument("--lease", type=float, required=True)
    sender.add_argument("--batch", type=int, required=True)
    sender.add_argument("--pace", type=float, required=True)
    planner = sub.add_parser("planner", help="(internal) one planner process")
    planner.add_argument("--database-url", required=True)
    planner.add_argument("--at", required=True)
    parser.add_argument("--drill", choices=["crash", "schedulers", "storm", "all"], default="crash")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--platform",
        choices=[SLACK, TEAMS],
        default=SLACK,
        help="where the technicians are, for --drill crash (default slack)",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TEST_DATABASE_URL", DEFAULT_POSTGRES),
        help="server for --db postgres",
    )
    parser.add_argument("--reminders", type=int, default=1000, help="due reminders (default 1000)")
    parser.add_argument("--senders", type=int, default=3, help="sender processes (default 3)")
    parser.add_argument("--storm", type=float, default=10.0, help="storm length in seconds (default 10)")
    parser.add_argument("--retry-after", type=int, default=1, help="Retry-After during the storm (default 1)")
    parser.add_argument("--rounds", type=int, default=20, help="planning rounds for --drill schedulers")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.mode == "sender":
        needed = ["slack_url"] if args.platform == SLACK else ["teams_login_url", "teams_openid_url"]
        missing = [f"--{name.replace('_', '-')}" for name in needed if getattr(args, name) is None]
        if missing:
            # Never a sender without its fake: it would write to the real platform.
            sender.error(f"a {args.platform} sender needs {' and '.join(missing)}")
    elif args.platform != SLACK and args.drill != "crash":
        parser.error(f"--platform {args.platform} is for --drill crash only")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.mode == "sender":
        return sender_main(args)
    if args.mode == "planner":
        return planner_main(args)
    drills: dict[str, Callable[[str], CrashResult | SchedulersResult | StormResult]] = {
        "crash": lambda url: run_crash_drill(
            url, reminders=args.reminders, senders=args.senders, platform=args.platform
        ),
        "schedulers": lambda url: run_schedulers_drill(url, rounds=args.rounds),
        "storm": lambda url: run_storm_drill(
            url,
            reminders=args.reminders,
            senders=args.senders,
            storm_s=args.storm,
            retry_after=args.retry_after,
        ),
    }
    chosen = list(drills) if args.drill == "all" else [args.drill]
    # The Slack drills keep their plain names (and JSON keys); a Teams run says so.
    suffix = "" if args.platform == SLACK else f" ({args.platform})"
    print(
        f"drills {', '.join(name + suffix for name in chosen)} on {args.db}: "
        f"python {sys.version.split()[0]}, {os.cpu_count()} cpus"
    )
    results = {}
    for name in chosen:
        with throwaway_database(args.db, args.postgres_url) as url:
            results[name + suffix] = drills[name](url)
        print_result(name + suffix, results[name + suffix])
    if args.json is not None:
        args.json.write_text(
            json.dumps({name: {**asdict(r), "passed": r.passed} for name, r in results.items()}, indent=2)
            + "\n"
        )
    return 0 if all(r.passed for r in results.values()) else 2


if __name__ == "__main__":
    sys.exit(main())
