"""The question planner's query: which clients it reads, and that it reads them through their index."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from jobs.planners import quiet_clients
from storage.models import Client, Technician, Workspace

NOW = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)
EVERY = 90


def days_ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


@pytest.fixture
def workspace(engine: Engine) -> Iterator[Session]:
    """A workspace asking every 90 days, with one technician, Ana; the session that made them."""
    with Session(engine) as session:
        workspace = Workspace(external_id="T1", created_at=days_ago(400), feedback_every_days=EVERY)
        session.add(workspace)
        session.flush()
        session.add(Technician(workspace_id=workspace.id, user_id="U1", created_at=days_ago(400)))
        session.commit()
        yield session


def add_client(session: Session, name: str, *, owned: bool = True, **moments: datetime) -> None:
    workspace = session.scalars(select(Workspace)).one()
    ana = session.scalars(select(Technician)).one()
    session.add(
        Client(
            workspace_id=workspace.id,
            name=name,
            match_key=name.casefold(),
            owner_id=ana.id if owned else None,
            **{"created_at": days_ago(200), **moments},
        )
    )
    session.commit()


def test_it_reads_the_owned_open_clients_quiet_for_the_whole_interval(workspace: Session) -> None:
    add_client(workspace, "Never heard from")
    add_client(workspace, "Answered long ago", last_feedback_at=days_ago(100), feedback_asked_at=days_ago(95))
    add_client(workspace, "Answered just over 90 days ago", last_feedback_at=days_ago(91))
    add_client(workspace, "Added lately", created_at=days_ago(30))
    add_client(workspace, "Answered lately", last_feedback_at=days_ago(10))
    add_client(workspace, "Asked lately", feedback_asked_at=days_ago(10))
    add_client(
        workspace,
        "Answered long ago, asked lately",
        last_feedback_at=days_ago(150),
        feedback_asked_at=days_ago(5),
    )
    add_client(workspace, "Nobody's", owned=False)
    add_client(workspace, "Left us", archived_at=days_ago(20))

    quiet = workspace.scalars(quiet_clients(EVERY, NOW)).all()

    assert sorted(client.name for client in quiet) == [
        "Answered just over 90 days ago",
        "Answered long ago",
        "Never heard from",
    ]


def test_it_reads_them_through_the_index_on_when_they_went_quiet(engine: Engine, workspace: Session) -> None:
    add_client(workspace, "Never heard from")
    executed: list[tuple[str, Any]] = []

    def remember(_conn: object, _cursor: object, statement: str, parameters: Any, *_: object) -> None:
        executed.append((statement, parameters))

    with engine.connect() as connection:
        event.listen(connection, "before_cursor_execute", remember)
        assert len(connection.execute(quiet_clients(EVERY, NOW)).all()) == 1
        event.remove(connection, "before_cursor_execute", remember)
        statement, parameters = executed[-1]  # after the driver's own BEGIN, where it sends one
        if engine.dialect.name == "postgresql":
            # A table this small is read whole unless that is made dear: the index must still be usable.
            connection.exec_driver_sql("SET enable_seqscan = off")
            plan = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars().all()
        else:
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plan = [row[-1] for row in rows]

    # Searched by the cut-off, not merely scanned in the index's order and then filtered.
    if engine.dialect.name == "postgresql":
        scans = [at for at, line in enumerate(plan) if "using ix_clients_quiet_since" in line]
        conditions = [plan[at + 1].strip() for at in scans]
        assert [line.startswith("Index Cond: (GREATEST(") for line in conditions] == [True], plan
    else:
        assert "SEARCH clients USING INDEX ix_clients_quiet_since (<expr><?)" in plan, plan
