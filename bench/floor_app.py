"""The throughput floor: bare Bolt plus the rows each command must write, in raw SQL, off the event loop.

Built as bench/bare_app.py is (a fixed authorize result, the Starlette adapter, uvicorn), but each listener
first does the least durable work its command needs, in one DB-API transaction off the event loop
(SQLite: one writer thread behind a lock; PostgreSQL: four threads, a connection each), then acks with a
one-line answer:

- `/visit <client> <duration> <work>[; todo: <remaining>]`: the replay key, the client (created on first
  sight), the visit, its touch, and the client's last touch.
- `/promise <client> <what> by <day>`: the replay key, the client, the promise (due in three days; the
  floor does not read dates).
- the "Mark follow-up sent" button (`followup.sent`, value a visit id): one UPDATE, no replay key (the
  bot records none for buttons). The bot answers a press on its response_url after the ack; here the
  ack is the whole answer.

The workspace and technician ids are cached per process (they never change). DATABASE_URL names a database
the harness has already migrated (`python -m bot migrate`). Usage: python bench/floor_app.py --port N
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import sqlite3
import sys
import threading
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

import psycopg
import uvicorn
from slack_bolt.async_app import AsyncAck, AsyncApp

# The repository root, so the bare app's halves are imported as the harness imports them.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bare_app import authorized_app, build_web_app

# PostgreSQL: as many workers (and connections) as the bot's CoreRunner has threads. SQLite: one, as it has
# one writer; a single thread's queue is first come, first served, where four threads on a lock let the
# releasing thread take it straight back while another waits (a longer tail and 15-25 % fewer req/s here).
POSTGRES_WORKERS = 4
SQLITE_BUSY_TIMEOUT_S = 30
# "45m", "90m", "1h", "1.5h", "1h30", "2h45": the durations the benchmark's mix uses.
DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)h(\d{1,2})?|(\d+)m)$")
TODO = re.compile(r";\s*todo:", re.IGNORECASE)
PROMISE_DUE = timedelta(days=3)
POSTGRES_URL = re.compile(r"^postgres(?:ql)?(?:\+psycopg)?://")

T = TypeVar("T")


class Cursor(Protocol):
    """The part of a DB-API cursor the floor uses (sqlite3's and psycopg's alike)."""

    def execute(self, sql: Any, params: Sequence[Any] = ..., /) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


@dataclass(frozen=True)
class VisitLine:
    """What the floor reads from a /visit text."""

    client: str
    minutes: int
    work_done: str
    remaining: str | None


def match_key(name: str) -> str:
    """The bot's client match key: NFKC, case-folded, single spaces."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def _quoted(text: str) -> tuple[str, str] | None:
    """A leading quoted name and the text after it, if the text starts with a quote."""
    if not text.startswith('"') or '"' not in text[1:]:
        return None
    name, _, rest = text[1:].partition('"')
    return name, rest.strip()


def _minutes(word: str) -> int | None:
    match = DURATION.match(word)
    if match is None:
        return None
    hours, extra, minutes = match.groups()
    if minutes is not None:
        return int(minutes)
    return round(float(hours) * 60) + int(extra or 0)


def parse_visit(text: str) -> VisitLine | None:
    """Client (quoted, or the words before the first duration), duration, work done and what remains."""
    quoted = _quoted(text.strip())
    words = (quoted[1] if quoted else text).split()
    for index, word in enumerate(words):
        minutes = _minutes(word)
        if minutes is None:
            continue
        client = quoted[0] if quoted else " ".join(words[:index])
        if (quoted and index) or not client:
            return None
        work, *todo = TODO.split(" ".join(words[index + 1 :]), maxsplit=1)
        remaining = todo[0].strip() if todo else ""
        return VisitLine(client, minutes, work.strip(" ;"), remaining or None) if work.strip(" ;") else None
    return None


def promise_readings(text: str) -> list[tuple[str, str]]:
    """Each (client, promise) the text could be, longest client name first; a quoted name is the one
    reading. The due date (after the last " by ") is not read: the floor makes every promise due in 3 days."""
    head = text.strip().rpartition(" by ")[0] or text.strip()
    quoted = _quoted(head)
    if quoted:
        return [quoted]
    words = head.split()
    return [(" ".join(words[:count]), " ".join(words[count:])) for count in range(len(words) - 1, 0, -1)]


class Store:
    """One raw-SQL transaction per request, on a thread of its own pool, never on the event loop."""

    def __init__(self, url: str, *, platform: str, team: str) -> None:
        # psycopg takes postgresql:// (not SQLAlchemy's postgresql+psycopg://); sqlite3 takes a path.
        self.postgres = POSTGRES_URL.match(url) is not None
        self.url = POSTGRES_URL.sub("postgresql://", url) if self.postgres else url.removeprefix("sqlite:///")
        self.platform = platform
        self.team = team
        workers = POSTGRES_WORKERS if self.postgres else 1
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="floor")
        # SQLite has one writer: the lock keeps it so whatever the pool's size, and waits without the
        # growing sleeps of SQLite's busy handler.
        self.write_lock: contextlib.AbstractContextManager[Any] = (
            contextlib.nullcontext() if self.postgres else threading.Lock()
        )
        self.local = threading.local()
        # The workspace's id (under "") and each technician's, by user id: they never change.
        self.ids: dict[str, int] = {}

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """Run `work(cursor, now, *args)` in one transaction on the pool and return its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self._transaction, work, args)

    def _connect(self) -> Any:
        connection = getattr(self.local, "connection", None)
        if connection is not None:
            return connection
        if self.postgres:
            connection = psycopg.connect(self.url, autocommit=True)
        else:
            connection = sqlite3.connect(self.url, timeout=SQLITE_BUSY_TIMEOUT_S, isolation_level=None)
            # The pragmas storage/db.py sets, so the floor pays what the bot pays per commit.
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
                connection.execute(f"PRAGMA {pragma}")
            connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        self.local.connection = connection
        return connection

    def _transaction(self, work: Callable[..., T], args: tuple[Any, ...]) -> T:
        now = datetime.now(UTC)
        connection = self._connect()
        self.local.new_ids = {}
        with self.write_lock:
            if self.postgres:
                with connection.transaction(), connection.cursor() as cursor:
                    result = work(_Postgres(cursor), now, *args)
            else:
                # IMMEDIATE, as storage/db.py begins: take the write lock first rather than upgrade to it.
                connection.execute("BEGIN IMMEDIATE")
                try:
                    result = work(connection.cursor(), now, *args)
                except BaseException:
                    connection.execute("ROLLBACK")
                    raise
                connection.execute("COMMIT")
        # Only committed rows are remembered; a rolled-back one is looked up (or created) again next time.
        self.ids.update(self.local.new_ids)
        return result

    def _id(self, cursor: Cursor, name: str, insert: str, select: str, params: tuple[Any, ...]) -> int:
        known = self.ids.get(name)
        if known is None:
            cursor.execute(insert, params)
            cursor.execute(select, params[:2])
            known = self.local.new_ids[name] = int(cursor.fetchone()[0])
        return known

    def workspace_and_technician(self, cursor: Cursor, now: datetime, user: str) -> tuple[int, int]:
        """The workspace's and the technician's ids, each created on first sight."""
        workspace = self._id(
            cursor,
            "",
            "INSERT INTO workspaces (platform, external_id, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT (platform, external_id) DO NOTHING",
            "SELECT id FROM workspaces WHERE platform = ? AND external_id = ?",
            (self.platform, self.team, now),
        )
        technician = self._id(
            cursor,
            user,
            "INSERT INTO technicians (workspace_id, user_id, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT (workspace_id, user_id) DO NOTHING",
            "SELECT id FROM technicians WHERE workspace_id = ? AND user_id = ?",
            (workspace, user, now),
        )
        return workspace, technician

    @staticmethod
    def claim(cursor: Cursor, now: datetime, key: str) -> bool:
        """Record the replay key; False when the request was handled before."""
        cursor.execute(
            "INSERT INTO processed_requests (key, received_at) VALUES (?, ?) "
            "ON CONFLICT (key) DO NOTHING RETURNING 1",
            (key, now),
        )
        return cursor.fetchone() is not None

    @staticmethod
    def client(cursor: Cursor, now: datetime, workspace: int, owner: int, name: str) -> int:
        """The client's id, created on first sight."""
        key = match_key(name)
        cursor.execute(
            "INSERT INTO clients (workspace_id, name, match_key, owner_id, checkin_cadence_days, created_at) "
            "VALUES (?, ?, ?, ?, 30, ?) ON CONFLICT (workspace_id, match_key) DO NOTHING",
            (workspace, " ".join(name.split()), key, owner, now),
        )
        cursor.execute("SELECT id FROM clients WHERE workspace_id = ? AND match_key = ?", (workspace, key))
        return int(cursor.fetchone()[0])

    def log_visit(self, cursor: Cursor, now: datetime, user: str, key: str, line: VisitLine) -> int | None:
        """Write a /visit's rows; the visit's id, or None for a replay."""
        workspace, technician = self.workspace_and_technician(cursor, now, user)
        if not self.claim(cursor, now, key):
            return None
        client = self.client(cursor, now, workspace, technician, line.client)
        cursor.execute(
            "INSERT INTO visits (workspace_id, client_id, technician_id, visited_at, minutes, work_done, "
            "remaining, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (workspace, client, technician, now, line.minutes, line.work_done, line.remaining, now),
        )
        visit = int(cursor.fetchone()[0])
        cursor.execute(
            "INSERT INTO touches (workspace_id, client_id, technician_id, kind, visit_id, touched_at) "
            "VALUES (?, ?, ?, 'visit', ?, ?)",
            (workspace, client, technician, visit, now),
        )
        cursor.execute("UPDATE clients SET last_touch_at = ? WHERE id = ?", (now, client))
        return visit

    def add_promise(self, cursor: Cursor, now: datetime, user: str, key: str, text: str) -> int | None:
        """Write a /promise's rows; the promise's id, or None for a replay or a client it can't tell."""
        workspace, technician = self.workspace_and_technician(cursor, now, user)
        if not self.claim(cursor, now, key):
            return None
        readings = promise_readings(text)
        if text.lstrip().startswith('"') and readings:
            client, what = self.client(cursor, now, workspace, technician, readings[0][0]), readings[0][1]
        else:
            # Unquoted, only a known client's name can be told from the promise after it (as in the bot).
            keys = [match_key(name) for name, _ in readings]
            cursor.execute(
                "SELECT match_key, id FROM clients "
                f"WHERE workspace_id = ? AND match_key IN ({', '.join('?' * len(keys))})",
                (workspace, *keys),
            )
            found = {str(row[0]): int(row[1]) for row in cursor.fetchall()}
            known = next(
                ((found[k], what) for k, (_, what) in zip(keys, readings, strict=True) if k in found), None
            )
            if known is None:
                return None
            client, what = known
        cursor.execute(
            "INSERT INTO promises (workspace_id, client_id, technician_id, text, due_at, times_moved, "
            "created_at) VALUES (?, ?, ?, ?, ?, 0, ?) RETURNING id",
            (workspace, client, technician, what, now + PROMISE_DUE, now),
        )
        return int(cursor.fetchone()[0])

    def mark_sent(self, cursor: Cursor, now: datetime, user: str, visit: int) -> bool:
        """Mark a visit's follow-up sent; False when it is not the technician's or was marked already."""
        _, technician = self.workspace_and_technician(cursor, now, user)
        cursor.execute(
            "UPDATE visits SET followup_sent_at = ? "
            "WHERE id = ? AND technician_id = ? AND followup_sent_at IS NULL RETURNING id",
            (now, visit, technician),
        )
        return cursor.fetchone() is not None


class _Postgres:
    """A psycopg cursor taking the `?` placeholders the floor's SQL is written in (sqlite3's style)."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.cursor.execute(sql.replace("?", "%s"), params)

    def fetchone(self) -> Any:
        return self.cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self.cursor.fetchall())


def _sqlite_time(value: datetime) -> str:
    # As SQLAlchemy stores the bot's UTCDateTime columns on SQLite: naive UTC wall time, as text.
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


sqlite3.register_adapter(datetime, _sqlite_time)


def build_bolt_app(*, signing_secret: str, bot_token: str, api_url: str, store: Store) -> AsyncApp:
    """Build an AsyncApp whose listeners write each command's rows, then ack with one line."""
    app = authorized_app(signing_secret=signing_secret, bot_token=bot_token, api_url=api_url)

    async def visit(ack: AsyncAck, body: dict[str, Any]) -> None:
        line = parse_visit(str(body.get("text", "")))
        if line is None:
            await ack("Try /visit Acme 1h30 replaced fuser")
            return
        key = f"command:{body['trigger_id']}"
        logged = await store.run(store.log_visit, str(body["user_id"]), key, line)
        await ack(f"Logged {line.minutes} min at {line.client}." if logged else "Already done.")

    async def promise(ack: AsyncAck, body: dict[str, Any]) -> None:
        key = f"command:{body['trigger_id']}"
        added = await store.run(store.add_promise, str(body["user_id"]), key, str(body.get("text", "")))
        await ack(f"Promise {added} noted." if added else "Already done, or a client I don't know.")

    async def followup_sent(ack: AsyncAck, body: dict[str, Any]) -> None:
        try:
            visit_id = int(body["actions"][0]["value"])
        except (KeyError, IndexError, ValueError):
            await ack()
            return
        await store.run(store.mark_sent, str(body["user"]["id"]), visit_id)
        await ack()

    app.command("/visit")(visit)
    app.command("/promise")(promise)
    app.action("followup.sent")(followup_sent)
    return app


def main() -> None:
    """Read the port, the Slack settings and DATABASE_URL, then serve until terminated."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=3000)
    args = parser.parse_args()
    store = Store(os.environ["DATABASE_URL"], platform="slack", team="T111")
    bolt_app = build_bolt_app(
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        bot_token=os.environ.get("SLACK_BOT_TOKEN", "xoxb-bench-token"),
        api_url=os.environ.get("SLACK_API_URL", "https://slack.com/api/"),
        store=store,
    )
    uvicorn.run(
        build_web_app(bolt_app),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        workers=1,
    )


if __name__ == "__main__":
    main()
