"""The client list from chat: `/visit clients`, and owner, rename, merge, archive for each client.

Managers may change any client; a technician only the clients they own or that have no owner. A merge,
which cannot be undone, waits for its confirmation button.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot import feedback, nudges
from bot.clientlist import backup
from bot.clientlist.importer import Owners
from bot.context import Context, Refused, button_number, require_manager
from bot.grammar import commands as grammar
from bot.grammar.words import match_key, tidy_name
from bot.replies import Actions, Attachment, Button, Header, Note, Reply, Section, error
from storage import repositories as repo
from storage.models import (
    Appointment,
    Client,
    Feedback,
    NeedDismissal,
    Notice,
    Nudge,
    NudgeStatus,
    Promise,
    Risk,
    Technician,
    Touch,
    Visit,
)

MERGE = "client.merge"
ARCHIVE = "client.archive"
PAGE = "client.page"
# Slack allows 50 blocks a message (Teams cards are smaller still): a page is 15 clients.
PER_PAGE = 15
_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")


def _technicians(ctx: Context) -> Owners:
    return Owners(repo.workspace_technicians(ctx.session, workspace_id=ctx.workspace_id))


def _person(ctx: Context, said: str, example: str) -> Technician:
    """The technician `said` names: a mention, "me", a display name, an e-mail or a user id."""
    if said.lower() in {"me", "mine", "myself"}:
        return ctx.technician
    mention = _MENTION.match(said)
    found = _technicians(ctx).find(mention[1] if mention else said)
    if isinstance(found, str):
        raise Refused(error(found[0].upper() + found[1:] + ".", example))
    technician = ctx.session.get(Technician, found)
    assert technician is not None
    return technician


def _name(technician: Technician | None) -> str:
    if technician is None:
        return "nobody"
    return technician.display_name or technician.user_id


def _may_change(ctx: Context, client: Client, doing: str, example: str) -> None:
    """Managers change any client; a technician only their own or an unowned one."""
    if ctx.is_manager or client.owner_id in (None, ctx.technician.id):
        return
    raise Refused(
        error(
            f"Only {client.name}'s owner ({_name(client.owner)}) or a manager can {doing} it. "
            "Ask them, or a manager.",
            example,
        )
    )


# -- Listing ----------------------------------------------------------------------------------------------


def _overdue_days(client: Client, now: datetime) -> int:
    """Days past its check-in date (the reminders' own), negative while it is not yet due."""
    return (now - nudges.checkin_due_at(client)).days


def _line(client: Client, now: datetime) -> str:
    days = (now - (client.last_touch_at or client.created_at)).days
    overdue = _overdue_days(client, now)
    touched = (
        f"last touch {days} days ago" if client.last_touch_at else f"added {days} days ago, never touched"
    )
    flag = f" · :warning: *{overdue} days overdue*" if overdue > 0 and client.archived_at is None else ""
    archived = " · archived" if client.archived_at is not None else ""
    return (
        f"*{client.name}* · {_name(client.owner)} · every {client.checkin_cadence_days} days · "
        f"{touched}{flag}{archived}"
    )


def list_clients(ctx: Context, command: grammar.ListClients, page: int = 0) -> Reply:
    """The clients with owner, cadence and days since the last touch, most overdue first, a page at a time."""
    query = select(Client).where(Client.workspace_id == ctx.workspace_id)
    owner: Technician | None = None
    if command.view != "all":
        query = query.where(Client.archived_at.is_(None))
    if command.view == "owner":
        assert command.owner is not None
        owner = _person(ctx, command.owner, grammar.CLIENTS_EXAMPLE)
        query = query.where(Client.owner_id == owner.id)
    found = list(ctx.session.scalars(query))
    now = ctx.now
    # Most overdue first: the furthest past its check-in date (archived ones last).
    found.sort(key=lambda c: (c.archived_at is not None, -_overdue_days(c, now), c.name))
    if command.view == "overdue":
        found = [c for c in found if _overdue_days(c, now) > 0]
    title = {
        "active": "Clients",
        "overdue": "Clients overdue for a check-in",
        "all": "All clients, archived ones too",
        "owner": f"{_name(owner)}'s clients",
    }[command.view]
    if not found:
        return Reply(
            summary=f"{title}: none",
            blocks=(
                Section(f"{title}: none. Import your list with `python -m bot import clients FILE.csv`."),
            ),
            tone="info",
        )
    pages = (len(found) + PER_PAGE - 1) // PER_PAGE
    page = min(max(page, 0), pages - 1)
    shown = found[page * PER_PAGE : (page + 1) * PER_PAGE]
    blocks: list[Header | Section | Actions | Note] = [Header(f"{title} ({len(found)})")]
    for client in shown:
        label = "Unarchive" if client.archived_at is not None else "Archive"
        blocks.append(Section(_line(client, now), button=Button(label, ARCHIVE, str(client.id))))
    if pages > 1:
        state = json.dumps({"v": command.view, "o": command.owner, "p": page + 1})
        note = f"Page {page + 1} of {pages}."
        if page + 1 < pages:
            blocks.append(Actions((Button("Next page", PAGE, state),)))
        else:
            note += " Type the command again to start over."
        blocks.append(Note(note))
    return Reply(summary=f"{title}: {len(found)}", blocks=tuple(blocks), tone="info")


def next_page(ctx: Context, value: str) -> Reply:
    """The "Next page" button under a client list."""
    try:
        state = json.loads(value)
        command = grammar.ListClients(state["v"], state["o"])
        page = int(state["p"])
    except (ValueError, KeyError, TypeError):
        raise Refused(error("That button is out of date; type `/visit clients` again.")) from None
    return list_clients(ctx, command, page)


# -- Changing a client -------------------------------------------------------------------------------------


def set_owner(ctx: Context, command: grammar.SetOwner, client: Client) -> Reply:
    """Who checks in with the client (or nobody)."""
    _may_change(ctx, client, "change the owner of", grammar.OWNER_EXAMPLE)
    owner = None if command.owner is None else _person(ctx, command.owner, grammar.OWNER_EXAMPLE)
    client.owner_id = None if owner is None else owner.id
    ctx.session.flush()
    said = "has no owner now: nobody is reminded to check in" if owner is None else f"is {_name(owner)}'s now"
    return Reply(
        summary=f"{client.name}: owner changed",
        blocks=(Section(f":bust_in_silhouette: *{client.name}* {said}."),),
    )


def rename(ctx: Context, command: grammar.RenameClient, client: Client) -> Reply:
    """Give the client a new name; another client's name is refused (that is a merge)."""
    _may_change(ctx, client, "rename", grammar.RENAME_EXAMPLE)
    new_name, key = tidy_name(command.new_name), match_key(command.new_name)
    other = repo.client_by_key(ctx.session, workspace_id=ctx.workspace_id, key=key)
    if other is not None and other.id != client.id:
        raise Refused(
            error(
                f"There is already a client called “{other.name}”. If they are the same client, merge them.",
                f"/visit merge {client.name} into {other.name}",
            )
        )
    old = client.name
    client.name, client.match_key = new_name, key
    ctx.session.flush()
    return Reply(
        summary=f"Renamed {old} to {new_name}", blocks=(Section(f":pencil2: *{old}* is now *{new_name}*."),)
    )


def archive(ctx: Context, command: grammar.ArchiveClient, client: Client) -> Reply:
    """Archive a client who left (no reminders, out of the digest, history kept), or bring one back."""
    doing = "archive" if command.archived else "unarchive"
    example = grammar.ARCHIVE_EXAMPLE if command.archived else grammar.UNARCHIVE_EXAMPLE
    _may_change(ctx, client, doing, example)
    return _set_archived(ctx, client, command.archived)


def _set_archived(ctx: Context, client: Client, archived: bool) -> Reply:
    if (client.archived_at is not None) == archived:
        state = "archived" if archived else "not archived"
        return Reply(
            summary=f"{client.name} is already {state}",
            blocks=(Section(f"*{client.name}* is already {state}."),),
            tone="info",
        )
    client.archived_at = ctx.now if archived else None
    ctx.session.flush()
    if archived:
        _settle_pending(ctx.session, [f"client:{client.id}"])
        said = (
            f":file_cabinet: Archived *{client.name}*: no more check-in reminders, and it is out of the "
            f"digest's figures. Its history is kept; `/visit unarchive {client.name}` brings it back."
        )
    else:
        said = f":file_cabinet: *{client.name}* is back: check-in reminders start again."
    return Reply(summary=f"{client.name} {'archived' if archived else 'unarchived'}", blocks=(Section(said),))


def archive_pressed(ctx: Context, value: str) -> Reply:
    """The Archive / Unarchive button beside a client in a list."""
    client = _client_of(ctx, value)
    archived = client.archived_at is None
    _may_change(ctx, client, "archive" if archived else "unarchive", grammar.ARCHIVE_EXAMPLE)
    return _set_archived(ctx, client, archived)


def _client_of(ctx: Context, value: str) -> Client:
    client = ctx.session.get(Client, button_number(value))
    if client is None or client.workspace_id != ctx.workspace_id:
        raise Refused(
            error(
                "That client isn't one of yours here, or is gone (merged, perhaps): "
                "type `/visit clients` again."
            )
        )
    return client


def _settle_pending(session: Session, subjects: list[str]) -> None:
    """Reminders still waiting about these subjects will never be right again: skip them."""
    session.execute(
        update(Nudge)
        .where(Nudge.subject.in_(subjects), Nudge.status == NudgeStatus.PENDING)
        .values(status=NudgeStatus.SKIPPED, last_error="client merged or archived")
    )


# -- Export ----------------------------------------------------------------------------------------------


def export(ctx: Context) -> Reply:
    """A manager's `/visit export`: the workspace as `python -m bot export` writes it, zipped."""
    require_manager(ctx, "export the team's data")
    if not ctx.shares_files:
        return Reply(
            summary="Export from the server",
            blocks=(
                Section(
                    f"I can't send files in {ctx.platform_name}: whoever runs Nudgebot can write the same "
                    "export with `python -m bot export DIR` (see docs/export.md)."
                ),
            ),
            tone="info",
        )
    document = backup.export_workspace(ctx.session, workspace_id=ctx.workspace_id, now=ctx.now)
    counts = backup.counts_line({name: len(rows) for name, rows in document["tables"].items()})
    filename = f"nudgebot-export-{ctx.now.astimezone(ctx.tz):%Y-%m-%d}.zip"
    return Reply(
        summary="Your team's data, exported",
        blocks=(
            Section(
                f":file_cabinet: Everything of the team, as of now: {counts}. In {ctx.direct_chat}: "
                f"*{filename}*, with `nudgebot-export.json` (restore it with "
                "`python -m bot import all`) and a CSV per table for spreadsheets."
            ),
        ),
        files=(Attachment(filename, "Nudgebot export", backup.zip_export(document), "application/zip"),),
    )


# -- Merging ---------------------------------------------------------------------------------------------


def _merge_risks(ctx: Context, duplicate: Client, kept: Client) -> None:
    """The duplicate's risks move too; when both are at risk, the older risk stays open and takes the
    later unhappy word (a client is at risk once, however it was spelled)."""
    theirs = feedback.open_risk(ctx.session, duplicate.id)
    ours = feedback.open_risk(ctx.session, kept.id)
    if theirs is not None and ours is not None:
        first, second = sorted((theirs, ours), key=lambda risk: risk.opened_at)
        if second.flagged_at > first.flagged_at:
            first.flagged_at, first.feedback_id = second.flagged_at, second.feedback_id
            first.repaired_at = None
        second.closed_at, second.closed_how = ctx.now, "merged"
        ctx.session.flush()
    ctx.session.execute(update(Risk).where(Risk.client_id == duplicate.id).values(client_id=kept.id))


def merge_asked(ctx: Context, command: grammar.MergeClients, duplicate: Client, kept: Client) -> Reply:
    """What a merge would move, and the button that does it (a merge can't be undone)."""
    _may_change(ctx, duplicate, "merge", grammar.MERGE_EXAMPLE)
    _may_change(ctx, kept, "merge into", grammar.MERGE_EXAMPLE)
    counts = {
        label: len(ctx.session.scalars(select(model.id).where(model.client_id == duplicate.id)).all())
        for label, model in (
            ("visits", Visit),
            ("touches", Touch),
            ("appointments", Appointment),
            ("promises", Promise),
        )
    }
    moved = ", ".join(f"{count} {label}" for label, count in counts.items())
    value = json.dumps({"from": duplicate.id, "into": kept.id})
    return Reply(
        summary=f"Merge {duplicate.name} into {kept.name}?",
        blocks=(
            Section(
                f":twisted_rightwards_arrows: Merge *{duplicate.name}* into *{kept.name}*? "
                f"Its {moved} move to *{kept.name}*, its contact fills what {kept.name} lacks, "
                f"and *{duplicate.name}* is gone. This can't be undone."
            ),
            Actions((Button(f"Merge into {kept.name}"[:75], MERGE, value, "danger"),)),
        ),
        tone="info",
    )


def merge_pressed(ctx: Context, value: str) -> Reply:
    """The confirmation button: move everything to the client kept, then delete the duplicate."""
    try:
        ids = json.loads(value)
        duplicate, kept = _client_of(ctx, str(ids["from"])), _client_of(ctx, str(ids["into"]))
    except (ValueError, KeyError, TypeError):
        raise Refused(error("That button is out of date.")) from None
    _may_change(ctx, duplicate, "merge", grammar.MERGE_EXAMPLE)
    _may_change(ctx, kept, "merge into", grammar.MERGE_EXAMPLE)
    for model in (Visit, Touch, Appointment, Promise, Notice, Feedback):
        ctx.session.execute(update(model).where(model.client_id == duplicate.id).values(client_id=kept.id))
    _merge_risks(ctx, duplicate, kept)
    # A suggestion set aside for either stays set aside; the kept client's own choice wins.
    kept_topics = select(NeedDismissal.topic).where(NeedDismissal.client_id == kept.id)
    ctx.session.execute(
        delete(NeedDismissal).where(
            NeedDismissal.client_id == duplicate.id, NeedDismissal.topic.in_(kept_topics)
        )
    )
    ctx.session.execute(
        update(NeedDismissal).where(NeedDismissal.client_id == duplicate.id).values(client_id=kept.id)
    )
    for moment in ("last_feedback_at", "feedback_asked_at"):
        theirs, ours = getattr(duplicate, moment), getattr(kept, moment)
        if theirs is not None and (ours is None or theirs > ours):
            setattr(kept, moment, theirs)
    for field in ("contact_name", "contact_email", "contact_phone", "owner_id"):
        if getattr(kept, field) is None:
            setattr(kept, field, getattr(duplicate, field))
    if duplicate.last_touch_at is not None and (
        kept.last_touch_at is None or duplicate.last_touch_at > kept.last_touch_at
    ):
        kept.last_touch_at = duplicate.last_touch_at
    kept.created_at = min(kept.created_at, duplicate.created_at)
    name = duplicate.name
    _settle_pending(ctx.session, [f"client:{duplicate.id}"])
    ctx.session.flush()
    ctx.session.execute(delete(Client).where(Client.id == duplicate.id))
    ctx.session.expire_all()
    return Reply(
        summary=f"Merged {name} into {kept.name}",
        blocks=(
            Section(
                f":twisted_rightwards_arrows: Merged *{name}* into *{kept.name}*: "
                f"its history is {kept.name}'s now."
            ),
        ),
    )
