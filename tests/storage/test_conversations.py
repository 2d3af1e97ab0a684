"""A Teams conversation is stored once, refreshed when what we know of it changes, else left alone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from storage import repositories as repo
from storage.models import Conversation, Technician, Workspace

FIRST = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
SERVICE = "https://smba.trafficmanager.net/amer/"


@pytest.fixture
def db(engine: Engine) -> Iterator[tuple[Session, int, int]]:
    """A session, a Teams workspace and one technician in it."""
    with Session(engine) as session:
        workspace = Workspace(platform="teams", external_id="tenant-1", created_at=FIRST)
        session.add(workspace)
        session.flush()
        technician = Technician(workspace_id=workspace.id, user_id="29:ana", created_at=FIRST)
        session.add(technician)
        session.commit()
        yield session, workspace.id, technician.id


def remember(session: Session, workspace_id: int, at: datetime, **changes: object) -> Conversation:
    values: dict[str, object] = {
        "conversation_id": "a:chat-1",
        "kind": "personal",
        "service_url": SERVICE,
        "technician_id": None,
        "team_id": None,
        **changes,
    }
    repo.remember_conversation(session, workspace_id=workspace_id, now=at, **values)  # type: ignore[arg-type]
    session.commit()
    session.expire_all()
    return session.scalars(select(Conversation)).one()


def test_the_same_conversation_again_writes_nothing(db: tuple[Session, int, int]) -> None:
    session, workspace_id, _ = db
    remember(session, workspace_id, FIRST)

    again = remember(session, workspace_id, FIRST + timedelta(hours=1))

    # Every column the same, the NULLs included: the row is not rewritten.
    assert (again.service_url, again.technician_id, again.team_id) == (SERVICE, None, None)
    assert again.updated_at == FIRST


def test_a_changed_service_url_or_owner_is_written(db: tuple[Session, int, int]) -> None:
    session, workspace_id, ana = db
    remember(session, workspace_id, FIRST)
    moved = "https://smba.trafficmanager.net/emea/"

    changed = remember(session, workspace_id, FIRST + timedelta(hours=1), service_url=moved)
    assert (changed.service_url, changed.updated_at) == (moved, FIRST + timedelta(hours=1))

    # From NULL to a value is a change too.
    owned = remember(session, workspace_id, FIRST + timedelta(hours=2), service_url=moved, technician_id=ana)
    assert (owned.technician_id, owned.updated_at) == (ana, FIRST + timedelta(hours=2))

    # ... and from a value back to NULL.
    channel = remember(session, workspace_id, FIRST + timedelta(hours=3), service_url=moved, kind="channel")
    assert (channel.kind, channel.technician_id, channel.updated_at) == (
        "channel",
        None,
        FIRST + timedelta(hours=3),
    )
    assert session.scalars(select(Conversation)).all() == [channel]
