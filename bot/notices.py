"""Change notices: tell the client before touching their systems, and know they read it.

`/visit notify` drafts the notice e-mail with a one-click acknowledgement link. The notice stays open
until the client acknowledges it (the link, the technician's *Client acknowledged* button, or a call
logged in which they spoke to them); unacknowledged a working day before the window, the technician is
reminded to phone. After the window, the next visit's follow-up e-mail says what was announced, so the
client reads what was done against it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, select, update

from bot import drafts, texts
from bot.context import Context, Refused, button_number
from bot.due import Due
from bot.grammar import commands as grammar
from bot.hours import WorkingHours
from bot.links import Links, Purpose
from bot.replies import Actions, Block, Button, Note, Reply, Section, error
from storage.models import Client, Notice, Visit

KIND = "notice"
ACKNOWLEDGED = "notice.ack"
CALLED = "notice.called"
# The client gets this much working time to click the link before a reminder to phone them.
ANSWER_TIME = timedelta(hours=2)
# A notice whose window began longer ago than this is not carried into a visit's follow-up any more.
CARRIED_FOR = timedelta(days=30)
# Listed after the window as "changed without an acknowledged notice" for this long.
SHOWN_AFTER = timedelta(days=7)

_NOTICES = cast(Table, Notice.__table__)
# Built once: a /visit runs it every time (see storage.repositories on statements built once).
_CLAIM_BEGUN = (
    update(_NOTICES)
    .where(
        _NOTICES.c.client_id == bindparam("client"),
        _NOTICES.c.visit_id.is_(None),
        _NOTICES.c.window_start <= bindparam("now"),
        _NOTICES.c.window_start > bindparam("since"),
    )
    .values(visit_id=bindparam("visit"))
    .returning(_NOTICES.c.id)
)


def when(notice: Notice, tz: ZoneInfo, now: datetime | None = None) -> str:
    """`Sat 12 Dec, 10–11pm`."""
    return texts.window(notice.window_start, notice.window_end, tz, now=now)


def _long_when(notice: Notice, tz: ZoneInfo) -> str:
    """For the client: `Saturday 12 December 2026, 22:00–23:00 (America/Chicago)`."""
    start, end = notice.window_start.astimezone(tz), notice.window_end.astimezone(tz)
    last = f"{end:%H:%M}" if start.date() == end.date() else f"{end:%A} {end.day} {end:%B}, {end:%H:%M}"
    return f"{start:%A} {start.day} {start:%B %Y}, {start:%H:%M}–{last} ({tz.key})"


def draft(notice: Notice, tz: ZoneInfo, links: Links | None, now: datetime) -> drafts.Draft:
    """The notice e-mail, with its acknowledgement link when links are on."""
    client, technician = notice.client, notice.technician
    acknowledge = None
    if links is not None:
        acknowledge = links.url(
            Purpose.ACKNOWLEDGE, workspace_id=notice.workspace_id, subject_id=notice.id, now=now
        )
    return drafts.notice(
        client_name=client.name,
        contact_name=client.contact_name,
        contact_email=client.contact_email,
        technician_name=technician.full_name or technician.display_name,
        technician_email=technician.email,
        what=notice.what,
        when=_long_when(notice, tz),
        impact=notice.impact,
        acknowledge=acknowledge,
    )


def _draft_blocks(notice: Notice, tz: ZoneInfo, links: Links | None, now: datetime) -> list[Block]:
    client = notice.client
    to = drafts.addressed(
        "the notice",
        client_name=client.name,
        contact_name=client.contact_name,
        contact_email=client.contact_email,
    )
    return [to, *drafts.shown(draft(notice, tz, links, now))]


def buttons(notice_id: int) -> Actions:
    """ "Spoke to them" / "Client acknowledged" for a notice still waiting for the client's word."""
    return Actions(
        (
            Button("Client acknowledged", ACKNOWLEDGED, str(notice_id), "primary"),
            Button("Spoke to them", CALLED, str(notice_id)),
        )
    )


def notify(ctx: Context, command: grammar.NotifyChange, client: Client) -> Reply:
    """Store the notice and draft its e-mail."""
    notice = Notice(
        workspace_id=ctx.workspace_id,
        client_id=client.id,
        technician_id=ctx.technician.id,
        what=command.what,
        impact=command.impact,
        window_start=command.start,
        window_end=command.end,
        created_at=ctx.now,
    )
    ctx.session.add(notice)
    ctx.session.flush()
    how = (
        "the link in the e-mail, the button above, or a call you log where you spoke to them"
        if ctx.links is not None
        else "the button above when they reply, or a call you log where you spoke to them"
    )
    blocks: list[Block] = [
        Section(
            f":loudspeaker: Drafted the notice to *{client.name}*: {notice.what}, "
            f"{when(notice, ctx.tz, ctx.now)}."
        ),
        *_draft_blocks(notice, ctx.tz, ctx.links, ctx.now),
        Actions((Button("Client acknowledged", ACKNOWLEDGED, str(notice.id), "primary"),)),
        Note(
            f"An e-mail counts once they've read it: {how}. If they haven't a working day before, I'll "
            "remind you to phone them. Stick to the change you announced."
        ),
    ]
    if not ctx.tz_known:
        blocks.append(Note(f"I don't know your time zone yet, so I used {ctx.tz.key}. Check the time above."))
    return Reply(summary=f"Notice to {client.name} drafted", blocks=tuple(blocks))


def own(ctx: Context, value: str) -> Notice:
    """The notice a button names, or a refusal when it isn't the asker's."""
    notice = ctx.session.get(Notice, button_number(value))
    if notice is None or notice.technician_id != ctx.technician.id:
        raise Refused(error("That notice isn't one of yours."))
    return notice


def acknowledged_reply(notice: Notice, tz: ZoneInfo) -> Reply:
    """The answer to a second acknowledgement: who acknowledged it, how, and when."""
    assert notice.acknowledged_at is not None
    how = {"link": "through the link", "call": "on the phone", "button": ""}.get(
        notice.acknowledged_via or "", ""
    )
    said = f" {how}" if how else ""
    return Reply(
        summary=f"{notice.client.name} acknowledged the notice",
        blocks=(
            Section(
                f":white_check_mark: *{notice.client.name}* acknowledged the notice about {notice.what}"
                f"{said} on {texts.day(notice.acknowledged_at, tz)}."
            ),
        ),
        tone="info",
    )


def acknowledge(notice: Notice, *, via: str, now: datetime) -> bool:
    """Mark the notice acknowledged; False when it already was (the first acknowledgement stands)."""
    if notice.acknowledged_at is not None:
        return False
    notice.acknowledged_at, notice.acknowledged_via = now, via
    return True


def acknowledged_pressed(ctx: Context, value: str) -> Reply:
    """The *Client acknowledged* button: they answered the e-mail, or said so."""
    notice = own(ctx, value)
    if not acknowledge(notice, via="button", now=ctx.now):
        return acknowledged_reply(notice, ctx.tz)
    return Reply(
        summary=f"{notice.client.name} acknowledged the notice",
        blocks=(
            Section(
                f":white_check_mark: Noted: *{notice.client.name}* knows about {notice.what} "
                f"({when(notice, ctx.tz, ctx.now)}). Stick to what you announced."
            ),
        ),
    )


def acknowledged_by_call(ctx: Context, client: Client) -> list[Notice]:
    """A call in which the technician spoke to the client acknowledges the client's notices still ahead."""
    found = ctx.session.scalars(
        select(Notice).where(
            Notice.client_id == client.id,
            Notice.acknowledged_at.is_(None),
            Notice.window_start > ctx.now,
        )
    ).all()
    for notice in found:
        acknowledge(notice, via="call", now=ctx.now)
    return list(found)


def carried_into(ctx: Context, visit: Visit) -> list[Notice]:
    """The notices whose window has begun and that no visit has reported on yet: this visit's e-mail does.

    One UPDATE claims them; most visits have none, and then that statement is all they cost.
    """
    since = ctx.now - CARRIED_FOR
    parameters = {"client": visit.client_id, "visit": visit.id, "now": ctx.now, "since": since}
    claimed = ctx.session.connection().execute(_CLAIM_BEGUN, parameters).scalars().all()
    if not claimed:
        return []
    return list(
        ctx.session.scalars(
            select(Notice)
            .where(Notice.id.in_(claimed))
            .order_by(Notice.window_start)
            .execution_options(populate_existing=True)
        )
    )


def announced_lines(notices: Sequence[Notice], tz: ZoneInfo) -> list[str]:
    """How the follow-up e-mail lists what was announced: `reboot the mail server (Sat 12 Dec, 10–11pm)`."""
    return [f"{notice.what} ({when(notice, tz)})" for notice in notices]


def list_open(ctx: Context) -> Reply:
    """`/visit notify list`: your notices still ahead, and those whose window passed unacknowledged."""
    notices = ctx.session.scalars(
        select(Notice)
        .where(
            Notice.technician_id == ctx.technician.id,
            Notice.window_end > ctx.now - SHOWN_AFTER,
        )
        .order_by(Notice.window_start)
    ).all()
    ahead = [n for n in notices if n.window_start > ctx.now]
    passed = [n for n in notices if n.window_start <= ctx.now and n.acknowledged_at is None]
    if not ahead and not passed:
        return Reply(
            summary="No change notices open",
            blocks=(
                Section("No change notices open. Before changing a client's systems:"),
                Note(grammar.NOTIFY_EXAMPLE),
            ),
            tone="info",
        )
    blocks: list[Block] = []
    for notice in ahead[:20]:
        line = f"*{notice.client.name}*: {notice.what}, {when(notice, ctx.tz, ctx.now)}"
        if notice.acknowledged_at is not None:
            blocks.append(
                Section(
                    f":white_check_mark: {line}. Acknowledged {texts.day(notice.acknowledged_at, ctx.tz)}."
                )
            )
        else:
            blocks.append(
                Section(f":hourglass_flowing_sand: {line}. Not acknowledged yet: {_phone(notice.client)}.")
            )
            blocks.append(buttons(notice.id))
    for notice in passed[:10]:
        blocks.append(
            Section(
                f":warning: *{notice.client.name}*: {notice.what} ({when(notice, ctx.tz, ctx.now)}) "
                "began without an acknowledged notice."
            )
        )
    if len(ahead) > 20 or len(passed) > 10:
        blocks.append(Note("…and more: the oldest are left out."))
    return Reply(summary=f"{len(ahead)} change notices ahead", blocks=tuple(blocks), tone="info")


def _phone(client: Client) -> str:
    if client.contact_phone:
        return f"phone {client.contact_name or 'them'} on {client.contact_phone}"
    return f"phone them (no number on file: /visit contact {client.name} Jane Roe +1 555 0100)"


# -- The reminder ---------------------------------------------------------------------------------------


def notice_due(notice: Notice, hours: WorkingHours, now: datetime) -> Due | None:
    """The working day before the window, and on its morning, until the client acknowledges it.

    A notice drafted later than that gives the client two working hours to click before the first
    reminder; nothing is sent once the window has begun (the digest says so instead).
    """
    if (
        notice.acknowledged_at is not None
        or now >= notice.window_start
        or notice.client.archived_at is not None
    ):
        return None
    window_day = hours.local_day(notice.window_start)
    earliest = hours.add(notice.created_at, ANSWER_TIME)
    slots = {
        max(hours.opening_on(hours.working_day_before(window_day)), earliest),
        max(hours.opening_on(window_day), earliest),
    }
    past = sorted(slot for slot in slots if slot <= now and slot < notice.window_start)
    if not past:
        return None
    slot = past[-1]
    return Due(f"notice:{notice.id}", KIND, slot.strftime("%Y-%m-%dT%H:%M"), slot)


def compose(notice: Notice, tz: ZoneInfo, now: datetime) -> Reply:
    """The reminder: the client hasn't acknowledged the notice, so phone them."""
    client = notice.client
    return Reply(
        summary=f"{client.name} hasn't acknowledged your notice",
        blocks=(
            Section(
                f":loudspeaker: *{client.name}* hasn't acknowledged your notice: {notice.what}, "
                f"{when(notice, tz, now)}. An e-mail counts only once it's read: please {_phone(client)} and "
                "tell them."
            ),
            buttons(notice.id),
        ),
    )
