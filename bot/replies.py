"""Neutral reply types: what the core says, which each chat adapter renders in its own format.

Text uses a small, common markup: `*bold*`, `_italic_` and line breaks. Adapters escape everything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Button:
    """A button that comes back to the core as `action` with `value`."""

    label: str
    action: str
    value: str
    style: Literal["primary", "danger"] | None = None


@dataclass(frozen=True)
class Link:
    """A link the user's client opens (a web page or a mailto: draft)."""

    label: str
    url: str


@dataclass(frozen=True)
class Section:
    """A paragraph, optionally ending with a link and carrying a button beside it."""

    text: str
    link: Link | None = None
    button: Button | None = None


@dataclass(frozen=True)
class Preformatted:
    """Text shown verbatim so it can be copied: the drafted e-mail."""

    text: str


@dataclass(frozen=True)
class Actions:
    """A row of buttons."""

    buttons: tuple[Button, ...]


@dataclass(frozen=True)
class Note:
    """Small print under a reply."""

    text: str


@dataclass(frozen=True)
class Header:
    """A heading over a part of a long view (App Home)."""

    text: str


Block = Section | Preformatted | Actions | Note | Header
Tone = Literal["ok", "error", "question", "info"]


@dataclass(frozen=True)
class Attachment:
    """A file that comes with a reply (a report to download, a chart); the adapter shares it privately."""

    filename: str
    title: str
    content: bytes
    mimetype: str = "text/plain"


@dataclass(frozen=True)
class Reply:
    """What the technician sees: a one-line summary (for notifications), the blocks, and any files."""

    summary: str
    blocks: tuple[Block, ...] = ()
    tone: Tone = "ok"
    files: tuple[Attachment, ...] = ()


def error(message: str, example: str | None = None) -> Reply:
    """A refusal that says what was wrong and shows a command that works."""
    blocks: list[Block] = [Section(f":warning: {message}")]
    if example:
        blocks.append(Section(f"For example:\n{example}"))
    return Reply(summary=message, blocks=tuple(blocks), tone="error")


@dataclass(frozen=True)
class FormField:
    """One input of a form."""

    id: str
    label: str
    placeholder: str = ""
    multiline: bool = False
    optional: bool = False
    initial: str = ""


@dataclass(frozen=True)
class Checkbox:
    """A single tick box on a form."""

    id: str
    label: str


@dataclass(frozen=True)
class Choices:
    """Several tick boxes under one label; `options` are (value, label) pairs, `chosen` the ticked values."""

    id: str
    label: str
    options: tuple[tuple[str, str], ...]
    chosen: frozenset[str] = frozenset()
    optional: bool = True
    # One answer at most (radio buttons) rather than any number of boxes.
    single: bool = False


@dataclass(frozen=True)
class Form:
    """A form the adapter shows (a Slack modal); `kind` names it when it comes back."""

    kind: str
    title: str
    submit: str
    fields: tuple[FormField | Checkbox | Choices, ...]
    intro: str = ""


@dataclass(frozen=True)
class FormOutcome:
    """The result of a submitted form: errors by field id, or the reply to show."""

    errors: dict[str, str] = field(default_factory=dict)
    reply: Reply | None = None
