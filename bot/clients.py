"""Finding the client a command means, and asking "did you mean" instead of creating a near-duplicate."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from rapidfuzz import fuzz, process

from bot.context import Context, Refused
from bot.grammar.commands import ClientRef, NeedClient
from bot.grammar.words import match_key, tidy_name
from bot.replies import Actions, Button, Reply, Section, error
from storage import repositories as repo
from storage.models import Client

SIMILAR = 80
MAX_SUGGESTIONS = 3
# Slack caps a button value at 2,000 characters; the re-run command has to fit in it.
MAX_CHOICE_VALUE = 1900

CHOOSE = "client.choose"
_DIGITS = re.compile(r"\d+")


def quoted(name: str) -> str:
    """A client name in the quotes the grammar reads back as one name."""
    return f"“{name}”" if '"' in name else f'"{name}"'


def near_names(key: str, names: Mapping[str, str], *, cutoff: float, limit: int) -> list[tuple[str, float]]:
    """The names (by match key in `names`) within `cutoff` of the match key `key`, best first."""
    if not names:
        return []
    found = process.extract(key, names.keys(), scorer=fuzz.ratio, limit=limit, score_cutoff=cutoff)
    # "Store 2" is a different client from "Store 1", not a typo of it.
    numbers = _DIGITS.findall(key)
    return [(names[other], score) for other, score, _ in found if _DIGITS.findall(other) == numbers]


def similar(ctx: Context, name: str) -> list[tuple[str, float]]:
    """Existing client names close to `name`, best first."""
    names = repo.client_names(ctx.session, workspace_id=ctx.workspace_id)
    return near_names(match_key(name), names, cutoff=SIMILAR, limit=MAX_SUGGESTIONS)


def _choice(command: str, text: str, request_key: str | None, new: bool, user: str) -> str:
    # The person who typed the command is in the value: only they may pick (see Core._choose).
    return json.dumps(
        {"c": command, "t": text, "k": request_key or "", "n": new, "u": user}, ensure_ascii=False
    )


def did_you_mean(
    *,
    user: str,
    command: str,
    typed: str,
    suggestions: list[str],
    text: str,
    start: int,
    end: int,
    request_key: str | None,
    may_create: bool,
) -> Reply:
    """Ask which client was meant, with a button per suggestion (and one for a new client)."""
    buttons: list[Button] = []
    for name in suggestions:
        value = _choice(command, text[:start] + quoted(name) + text[end:], request_key, False, user)
        if len(value) <= MAX_CHOICE_VALUE:
            buttons.append(Button(name, CHOOSE, value, "primary" if not buttons else None))
    if may_create:
        value = _choice(command, text[:start] + quoted(typed) + text[end:], request_key, True, user)
        if len(value) <= MAX_CHOICE_VALUE:
            buttons.append(Button(f"New client “{typed}”"[:75], CHOOSE, value))
    listed = ", ".join(f"*{name}*" for name in suggestions)
    blocks: list[Section | Actions] = [
        Section(f"I don't know a client called “{typed}”. Did you mean {listed}?"),
    ]
    if buttons:
        blocks.append(Actions(tuple(buttons)))
    else:
        blocks.append(
            Section(f"Type the command again with the exact name, e.g. /{command} {suggestions[0]} …")
        )
    return Reply(summary=f"Did you mean {suggestions[0]}?", blocks=tuple(blocks), tone="question")


def resolve(
    ctx: Context,
    ref: ClientRef,
    *,
    command: str,
    text: str,
    request_key: str | None,
    may_create: bool,
    force_new: bool,
    example: str,
) -> Client:
    """The client `ref` names: an existing one, a new one, or a refusal asking which was meant."""
    key = match_key(ref.name)
    # Also for a name the grammar did not know: another request may have created that very client since
    # the text's names were looked up, and it is no typo of itself.
    existing = ctx.clients.get(key) or repo.client_by_key(ctx.session, workspace_id=ctx.workspace_id, key=key)
    if existing is not None:
        return existing
    if not force_new:
        suggestions = [name for name, _ in similar(ctx, ref.name)]
        if key in map(match_key, suggestions):
            # Committed by another request between the lookup above and this one: PostgreSQL shows each
            # statement what is committed by then.
            existing = repo.client_by_key(ctx.session, workspace_id=ctx.workspace_id, key=key)
            if existing is not None:
                return existing
        if suggestions:
            raise Refused(
                did_you_mean(
                    user=ctx.technician.user_id,
                    command=command,
                    typed=ref.name,
                    suggestions=suggestions,
                    text=text,
                    start=ref.start,
                    end=ref.end,
                    request_key=request_key,
                    may_create=may_create,
                )
            )
    if not may_create:
        raise Refused(error(f"I don't know a client called “{ref.name}” yet.", example))
    return repo.add_client(
        ctx.session,
        workspace_id=ctx.workspace_id,
        name=tidy_name(ref.name),
        key=key,
        owner_id=ctx.technician.id,
        now=ctx.now,
    )


def unresolved(
    ctx: Context,
    need: NeedClient,
    *,
    command: str,
    text: str,
    request_key: str | None,
    may_create: bool,
    example: str,
) -> Refused:
    """The refusal for a name that can't be split from the text: the closest client, or how to name it."""
    best: tuple[float, str, int, list[str]] | None = None
    # Every candidate is compared with the same names: read them once.
    known = repo.client_names(ctx.session, workspace_id=ctx.workspace_id)
    for typed, end in need.candidates:
        matches = near_names(match_key(typed), known, cutoff=SIMILAR, limit=MAX_SUGGESTIONS)
        if matches and (best is None or matches[0][1] > best[0]):
            best = (matches[0][1], typed, end, [name for name, _ in matches])
    if best is not None:
        _, typed, end, names = best
        return Refused(
            did_you_mean(
                user=ctx.technician.user_id,
                command=command,
                typed=typed,
                suggestions=names,
                text=text,
                start=need.start,
                end=end,
                request_key=request_key,
                may_create=False,
            )
        )
    if may_create:
        first = need.candidates[-1][0] if need.candidates else ""
        message = (
            f"I don't know a client starting “{first}”. A new client's name goes in quotes, "
            "so I can tell where it ends."
        )
    else:
        message = f"I don't know a client called “{need.candidates[0][0]}”." if need.candidates else ""
    return Refused(error(message, example))
