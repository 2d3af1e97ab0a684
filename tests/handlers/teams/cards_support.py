"""Checks shared by the Teams tests: each card against the official Adaptive Card 1.5 schema and Teams."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib.resources import files
from typing import Any

from jsonschema.validators import validator_for

from handlers.teams.cards import (
    CARD_SCHEMA,
    CARD_VERSION,
    MAX_MESSAGE_BYTES,
    MAX_TITLE,
    attachment,
    message_size,
)

SCHEMA: dict[str, Any] = json.loads(
    (files("adaptive_cards") / "schemas" / "schema-1.5.json").read_text(encoding="utf-8")
)
# The schema says which draft it is (draft-06); the format checker adds what the installed extras can check.
_VALIDATOR_CLASS = validator_for(SCHEMA)
_VALIDATOR_CLASS.check_schema(SCHEMA)
VALIDATOR = _VALIDATOR_CLASS(SCHEMA, format_checker=_VALIDATOR_CLASS.FORMAT_CHECKER)
# Teams' own extension: the published schema's AdaptiveCard forbids unknown properties and doesn't list it.
TEAMS_EXTENSION = {"msteams": {"width": "Full"}}


def elements(value: Any) -> Iterator[dict[str, Any]]:
    """Every dict inside a card (the card itself, its elements, inlines, actions and choices), depth first."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from elements(item)
    elif isinstance(value, list):
        for item in value:
            yield from elements(item)


def of_type(card: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """Every element of one `type` in a card, in document order."""
    return [element for element in elements(card) if element.get("type") == kind]


def texts(card_or_element: dict[str, Any]) -> list[str]:
    """The text of every TextRun, in document order."""
    return [run["text"] for run in of_type(card_or_element, "TextRun")]


def assert_valid_card(card: dict[str, Any]) -> None:
    """Fail unless the card is valid Adaptive Card 1.5, every Action.Execute can be routed, and it fits."""
    assert card["$schema"] == CARD_SCHEMA
    assert card["version"] == CARD_VERSION
    assert card.get("msteams") == TEAMS_EXTENSION["msteams"]
    standard = {key: value for key, value in card.items() if key not in TEAMS_EXTENSION}
    problems = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in VALIDATOR.iter_errors(standard)
    ]
    assert not problems, "\n".join(problems)
    for action in of_type(card, "Action.Execute"):
        # Teams routes an Action.Execute on its verb; without one the press fails silently.
        assert isinstance(action.get("verb"), str), action
        assert action["verb"], action
        assert isinstance(action.get("title"), str), action
        assert len(action["title"]) <= MAX_TITLE, action
    assert message_size({"type": "message", "attachments": [attachment(card)]}) <= MAX_MESSAGE_BYTES
