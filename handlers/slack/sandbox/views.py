"""The sandbox page's HTML fragments: conversations, the Home tab and modals, as Slack would show them."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from handlers.slack.sandbox.blockkit import RenderContext, render_blocks, render_mrkdwn, render_view
from handlers.slack.sandbox.workspace import BOT, Message, Modal, Workspace
from handlers.slack.standin import SharedFile

BOT_NAME = "Nudgebot"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif")


def context(workspace: Workspace, viewer: str, **extra: Any) -> RenderContext:
    """How `viewer` sees things: names for mentions, their zone for dates, the sandbox's now."""
    users = {person.id: person.name for person in workspace.people.values()}
    users[BOT] = BOT_NAME
    return RenderContext(users=users, tz=workspace.tz(viewer), now=workspace.clock(), **extra)


def _when(moment: datetime, ctx: RenderContext) -> str:
    local = moment.astimezone(ctx.tz)
    hour = local.hour % 12 or 12
    return f"{local:%a} {local.day} {local:%b}, {hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"


def _file(shared: SharedFile) -> str:
    url = f"/sandbox/files/{quote(shared.file_id)}"
    name = html.escape(shared.filename)
    title = html.escape(shared.title or shared.filename)
    picture = ""
    if shared.filename.lower().endswith(IMAGE_SUFFIXES):
        picture = f'<img class="file-image" src="{url}" alt="{title}">'
    return (
        f'<div class="file">{picture}<a class="file-link" href="{url}?download=1" download="{name}">'
        f"📎 {name}</a></div>"
    )


def message_html(message: Message, replies: Sequence[Message], ctx: RenderContext) -> str:
    """One message (with its thread's replies beneath it)."""
    author = BOT_NAME if message.author == BOT else ctx.users.get(message.author, message.author)
    classes = ["msg"]
    badge = ""
    if message.visible_to is not None:
        classes.append("ephemeral")
        badge = '<span class="only-you">Only visible to you</span>'
    if message.typed:
        body = f'<div class="typed"><code>{html.escape(message.text)}</code></div>'
    elif message.blocks:
        body = render_blocks(message.blocks, context=ctx)
    else:
        body = (
            f'<div class="bk-text">{render_mrkdwn(message.text, context=ctx)}</div>' if message.text else ""
        )
    files = "".join(_file(shared) for shared in message.files)
    thread = ""
    if replies:
        inner = "".join(message_html(reply, (), ctx) for reply in replies)
        count = len(replies)
        thread = (
            f'<details class="thread" open><summary>{count} {"reply" if count == 1 else "replies"}</summary>'
            f"{inner}</details>"
        )
    return (
        f'<div class="{" ".join(classes)}" data-message-id="{html.escape(message.id)}">'
        f'<div class="msg-head"><span class="author">{html.escape(author)}</span>'
        f'<span class="time">{html.escape(_when(message.at, ctx))}</span>{badge}</div>'
        f'<div class="msg-body">{body}{files}</div>{thread}</div>'
    )


def conversation_items(workspace: Workspace, channel: str, viewer: str) -> list[tuple[str, str]]:
    """A conversation as `viewer` sees it, oldest first: each top-level message's id and HTML, with its
    thread's replies folded under it (so the page replaces only the messages that changed)."""
    ctx = context(workspace, viewer)
    messages = workspace.conversation(channel, viewer)
    replies: dict[str, list[Message]] = {}
    top: list[Message] = []
    by_ts = {message.ts for message in messages if message.ts}
    for message in messages:
        if message.thread_ts and message.thread_ts != message.ts and message.thread_ts in by_ts:
            replies.setdefault(message.thread_ts, []).append(message)
        else:
            top.append(message)
    return [(message.id, message_html(message, replies.get(message.ts or "", []), ctx)) for message in top]


def home_html(workspace: Workspace, viewer: str) -> str:
    """The bot's Home tab for `viewer`, as last published."""
    with workspace.lock:
        view = workspace.homes.get(viewer)
    if view is None:
        return '<div class="empty">Opening your Home…</div>'
    return render_view(view, context=context(workspace, viewer))


def modal_html(modal: Modal, workspace: Workspace, viewer: str) -> str:
    """An open modal, with the bot's field errors and what was typed kept."""
    ctx = context(workspace, viewer, errors=modal.errors, values=modal.values)
    return render_view(modal.view, context=ctx)


def clock_label(now: datetime, tz: ZoneInfo) -> str:
    """The sandbox's time as the page's clock shows it: `Mon 23 Nov 2026, 9:00 AM (America/Chicago)`."""
    local = now.astimezone(tz)
    hour = local.hour % 12 or 12
    return (
        f"{local:%a} {local.day} {local:%b %Y}, {hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"
    )
