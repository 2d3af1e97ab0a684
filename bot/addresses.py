"""Where to reach a technician or a channel, from what the database knows about their platform."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.notify import Address
from bot.people import SLACK
from storage import repositories as repo
from storage.models import Conversation, Technician, Workspace


def _conversation(workspace: Workspace, conversation: Conversation, member: str | None = None) -> Address:
    return Address(
        platform=workspace.platform,
        target=conversation.conversation_id,
        endpoint=conversation.service_url,
        member=member,
        tenant=workspace.external_id,
        kind=conversation.kind,
    )


def of_technician(session: Session, technician: Technician) -> Address:
    """A technician's direct chat with the bot.

    On Slack their user id opens it. On Teams it is the 1:1 chat last seen; where none is known yet,
    the address carries their member id and the tenant's service URL, so the notifier can open one.
    """
    workspace = session.get(Workspace, technician.workspace_id)
    assert workspace is not None
    if workspace.platform == SLACK:
        return Address(platform=SLACK, target=technician.user_id)
    chat = repo.personal_conversation(session, technician_id=technician.id)
    if chat is not None:
        return _conversation(workspace, chat, technician.member_id)
    return Address(
        platform=workspace.platform,
        target="",
        endpoint=repo.latest_service_url(session, workspace_id=workspace.id),
        member=technician.member_id,
        tenant=workspace.external_id,
        kind="personal",
    )


def of_channel(session: Session, workspace_id: int, channel: str) -> Address:
    """A stored digest destination: a channel (or conversation) id, or a manager's user id for their DM."""
    workspace = session.get(Workspace, workspace_id)
    assert workspace is not None
    if workspace.platform == SLACK:
        return Address(platform=SLACK, target=channel)
    stored = repo.conversation(session, workspace_id=workspace_id, conversation_id=channel)
    if stored is not None:
        return _conversation(workspace, stored)
    technician = repo.technician_by_user(session, workspace_id=workspace_id, user_id=channel)
    if technician is not None:
        return of_technician(session, technician)
    # Forgotten since (the bot was removed from the team): nothing to write to.
    return Address(platform=workspace.platform, target="", tenant=workspace.external_id, kind="channel")


def remember_opened(
    session: Session, *, workspace_id: int, address: Address, conversation_id: str, now: datetime
) -> None:
    """Keep the 1:1 chat a notifier had to open for someone (by their member id), so the next message
    goes straight there."""
    if address.endpoint is None or address.member is None:
        return
    technician = repo.technician_by_member(session, workspace_id=workspace_id, member_id=address.member)
    if technician is None:
        return
    repo.remember_conversation(
        session,
        workspace_id=workspace_id,
        conversation_id=conversation_id,
        kind="personal",
        service_url=address.endpoint,
        technician_id=technician.id,
        team_id=None,
        now=now,
    )
