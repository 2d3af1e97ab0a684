"""Helpers shared by the Slack adapter tests: polling for background work, and holding database locks."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from storage.models import Technician


def wait_for_profile(session: Session, user: str = "U111", timeout: float = 10.0) -> Technician:
    """Poll the database until the background users.info answer for `user` has been stored."""
    deadline = time.monotonic() + timeout
    while True:
        technician = session.scalars(select(Technician).where(Technician.user_id == user)).first()
        if technician is not None and technician.profile_fetched_at is not None:
            return technician
        if time.monotonic() > deadline:
            raise AssertionError(f"the profile of {user} was not stored within {timeout}s")
        session.rollback()
        time.sleep(0.02)


@contextmanager
def locked(database_url: str, engine: Engine) -> Iterator[None]:
    """Hold the database's write lock (SQLite) or the visits table (PostgreSQL) until the block ends."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        holder = sqlite3.connect(url.database, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            yield
            holder.execute("ROLLBACK")
        finally:
            holder.close()
        return
    with engine.connect() as connection, connection.begin():
        connection.execute(text("LOCK TABLE visits IN ACCESS EXCLUSIVE MODE"))
        yield
