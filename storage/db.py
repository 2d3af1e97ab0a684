"""Engines and session factories for SQLite and PostgreSQL, tuned for many short writers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_S = 30


def normalize_url(url: str) -> str:
    """Accept `postgres://` (as Heroku gives it) and plain `postgresql://`, and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, *, pool_size: int = 5, max_overflow: int = 5) -> Engine:
    """Build an engine; on SQLite every transaction takes the write lock up front (see below)."""
    url = normalize_url(url)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        _tune_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module so our BEGIN below is the one used.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A deferred transaction that reads and then writes can fail with SQLITE_BUSY despite the
        # busy timeout; IMMEDIATE takes the write lock first and waits for it properly.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class _OneWriterAtATime(sessionmaker[Session]):
    """SQLite allows one writer; queueing our own threads on a lock is fair and immediate, where
    SQLite's busy handler makes waiting connections sleep in growing steps (tens of milliseconds)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, expire_on_commit=False)
        self.write_lock = threading.Lock()

    @contextmanager
    def begin(self) -> Iterator[Session]:
        with self.write_lock, super().begin() as session:
            yield session


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit, so replies can be built from them."""
    if engine.dialect.name == "sqlite":
        return _OneWriterAtATime(engine)
    return sessionmaker(engine, expire_on_commit=False)
