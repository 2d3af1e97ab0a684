"""Finding the client a command names, when another request created it a moment before."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.clients import resolve
from bot.core import Core
from bot.grammar.commands import ClientRef
from bot.people import Actor
from bot.services import Services
from storage import repositories as repo


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
