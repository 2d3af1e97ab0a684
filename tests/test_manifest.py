"""The Slack app manifest asks for what the code uses: its commands, events and scopes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from handlers.slack import listeners

ROOT = Path(__file__).parent.parent


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "manifest.yml").read_text())
    return loaded


def test_the_manifest_declares_both_commands_on_the_events_url() -> None:
    commands = manifest()["features"]["slash_commands"]

    assert [c["command"] for c in commands] == ["/visit", "/promise"]
    assert {c["url"] for c in commands} == {"https://nudgebot.example.com/slack/events"}
    assert all(c["should_escape"] is False for c in commands)


def test_interactivity_events_and_app_home_are_on() -> None:
    settings = manifest()["settings"]

    assert settings["interactivity"] == {
        "is_enabled": True,
        "request_url": "https://nudgebot.example.com/slack/events",
    }
    assert settings["event_subscriptions"]["bot_events"] == ["app_home_opened", "message.im"]
    assert manifest()["features"]["app_home"]["home_tab_enabled"] is True


def test_the_bot_scopes_are_exactly_those_the_code_calls_for() -> None:
    source = "\n".join(path.read_text() for path in (ROOT / "handlers").rglob("*.py"))
    used = {"commands"}
    if "chat_postMessage" in source:
        used.add("chat:write")
    if "users_info" in source:
        used.add("users:read")
    if 'profile.get("email")' in source:
        used.add("users:read.email")
    if 'app.event("message")' in source:
        used.add("im:history")
    if "url_private_download" in source:
        used.add("files:read")
    if "files_upload_v2" in source:
        used.add("files:write")
    if "conversations_open" in source:
        used.add("im:write")

    assert set(manifest()["oauth_config"]["scopes"]["bot"]) == used


def test_every_registered_listener_is_reachable_through_the_manifest() -> None:
    registered = Path(listeners.__file__).read_text()

    for command in ("/visit", "/promise"):
        assert f'app.command("{command}")' in registered
    assert 'app.event("app_home_opened")' in registered
