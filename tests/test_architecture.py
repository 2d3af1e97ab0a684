"""The layers of DESIGN.md section 4, checked on the imports themselves: only each adapter imports its SDK."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SLACK_SDKS = ("slack_bolt", "slack_sdk")
TEAMS_SDKS = ("microsoft_teams",)


def imported(path: Path) -> set[str]:
    """Every module a file imports, wherever in the file (lazy imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def sources(*packages: str) -> list[Path]:
    return sorted(path for package in packages for path in (REPO / package).rglob("*.py"))


def uses(path: Path, sdks: tuple[str, ...]) -> list[str]:
    return sorted(name for name in imported(path) if name.split(".")[0] in sdks)


@pytest.mark.parametrize(
    "path", sources("bot", "jobs", "storage"), ids=lambda path: str(path.relative_to(REPO))
)
def test_the_core_jobs_and_storage_import_no_chat_sdk(path: Path) -> None:
    assert uses(path, SLACK_SDKS + TEAMS_SDKS) == []


def test_only_the_teams_adapter_imports_the_teams_sdk() -> None:
    importers = {
        str(path.relative_to(REPO))
        for path in sources("bot", "handlers", "jobs", "storage")
        if uses(path, TEAMS_SDKS)
    }

    assert importers
    assert all(path.startswith("handlers/teams/") for path in importers), importers


def test_only_the_slack_adapter_imports_slacks_sdks() -> None:
    importers = {
        str(path.relative_to(REPO))
        for path in sources("bot", "handlers", "jobs", "storage")
        if uses(path, SLACK_SDKS)
    }

    assert importers
    assert all(path.startswith("handlers/slack/") for path in importers), importers


def test_storage_imports_no_other_package_of_ours() -> None:
    ours = ("bot", "handlers", "jobs")
    importers = {str(path.relative_to(REPO)) for path in sources("storage") if uses(path, ours)}

    assert importers == set()
