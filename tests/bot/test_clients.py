"""Finding the client a command names, when another request created it a moment before."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.clients import resolve
from bot.core import Core
from bot.grammar.commands import ClientRef
from bot.people import Actor, Invocation
from bot.services import Services
from storage import repositories as repo
from storage.models import Client, Visit

T = TypeVar("T")


def test_a_name_created_by_another_request_meanwhile_is_that_client_not_a_did_you_mean(
    services: Services, session: Session
) -> None:
    core = Core(services)
    with core._context(Actor("T111", "U111"), None, None) as ctx:
        workspace_id, owner_id, now = ctx.workspace_id, ctx.technician.id, ctx.now
    # Another request commits the client after this one looked up the names in its text (none known:
    # its context's clients stay empty).
    with services.sessions.begin() as other:
        repo.add_client(
            other,
            workspace_id=workspace_id,
            name="Rosewood Funeral Home",
            key="rosewood funeral home",
            owner_id=owner_id,
            now=now,
        )
    with core._context(Actor("T111", "U111"), None, None) as ctx:
        found = resolve(
            ctx,
            ClientRef("Rosewood Funeral Home", False, 0, 21),
            command="visit",
            text="Rosewood Funeral Home 1h new printer",
            request_key=None,
            may_create=True,
            force_new=False,
            example="/visit Acme Dental 1h",
        )

        assert found.name == "Rosewood Funeral Home"
        assert repo.client_names(ctx.session, workspace_id=ctx.workspace_id) == {
            "rosewood funeral home": "Rosewood Funeral Home"
        }


def test_a_client_committed_between_the_lookups_of_one_request_is_that_client_not_a_did_you_mean(
    services: Services, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    core = Core(services)
    first = core.command(Invocation(Actor("T111", "U111"), "visit", '"Rosewood Funeral Home" 1h new printer'))
    assert first.reply.summary == "Logged 1h at Rosewood Funeral Home"
    # The race PostgreSQL ran under load (3 /visits in 9,600 to a new client): both lookups by key read
    # before the other request committed the client, the names for "did you mean" after it.
    missed: set[str] = set()

    def before_the_commit(real: Callable[..., T], empty: T) -> Callable[..., T]:
        def read(*args: Any, **kwargs: Any) -> T:
            if real.__name__ in missed:
                return real(*args, **kwargs)
            missed.add(real.__name__)
            return empty

        return read

    no_clients: dict[str, Client] = {}
    monkeypatch.setattr(repo, "clients_by_keys", before_the_commit(repo.clients_by_keys, no_clients))
    monkeypatch.setattr(repo, "client_by_key", before_the_commit(repo.client_by_key, None))

    handled = core.command(Invocation(Actor("T111", "U222"), "visit", '"Rosewood Funeral Home" 2h new toner'))

    assert handled.reply.summary == "Logged 2h at Rosewood Funeral Home"
    assert missed == {"clients_by_keys", "client_by_key"}
    assert session.scalar(select(func.count()).select_from(Visit)) == 2
