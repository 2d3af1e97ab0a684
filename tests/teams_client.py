"""Sends activities to the bot the way Teams does: JSON bodies modelled on Microsoft's documented payloads,
each with a Bot Framework token signed by the fake Microsoft's key."""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bot.settings import Settings
from tests.fakes.microsoft import FakeMicrosoft, RecordedCall
from tests.handlers.teams.cards_support import assert_valid_card

PAYLOADS = Path(__file__).parent / "payloads" / "teams"

APP_ID = "bbbbbbbb-0000-4000-8000-00000000b0b0"
APP_PASSWORD = "teams-client-secret-for-tests"
TENANT = "72f988bf-0000-4000-8000-000000000111"
BOT = f"28:{APP_ID}"
# People by Entra object id, with the member id Teams gives them in the bot's conversations.
ANA = "a1a1a1a1-0000-4000-8000-000000000111"
BO = "b2b2b2b2-0000-4000-8000-000000000222"
MO = "c3c3c3c3-0000-4000-8000-000000000333"
PEOPLE = {
    ANA: ("29:1ana-member-id", "Ana Tech", "America/Chicago"),
    BO: ("29:1bo-member-id", "Bo Berg", "Europe/Berlin"),
    MO: ("29:1mo-member-id", "Mo Manager", "America/New_York"),
}
ANA_CHAT = "a:1ana-personal-chat"
CHANNEL = "19:managers-channel@thread.tacv2"
TEAM = "19:field-team@thread.tacv2"

_ids = itertools.count(1_763_910_000_000)


def teams_settings_for(database_url: str, microsoft: FakeMicrosoft, **overrides: object) -> Settings:
    """Settings with Teams on (and Slack off), pointed at the fakes; the environment can't leak in."""
    values: dict[str, object] = {
        "_env_file": None,
        "teams_app_id": APP_ID,
        "teams_app_password": APP_PASSWORD,
        "teams_tenant_id": TENANT,
        "teams_openid_url": microsoft.openid_url,
        "teams_login_url": microsoft.login_endpoint,
        # The fake Bot Connector is on loopback; only in tests may the bot's token go there.
        "teams_connector_hosts": "127.0.0.1",
        "database_url": database_url,
        "host": "127.0.0.1",
        "port": 0,
        "run_jobs": False,
        "auto_migrate": False,
        "log_level": "INFO",
        "default_timezone": "UTC",
        "manager_ids": MO,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def activity(name: str) -> dict[str, Any]:
    """A fresh copy of an activity fixture."""
    loaded: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    return copy.deepcopy(loaded)


def personal_chat(user: str) -> str:
    """The 1:1 chat's id for a person (Ana's is the fixtures')."""
    return ANA_CHAT if user == ANA else f"a:1{PEOPLE[user][0][4:]}-personal-chat"


def as_user(body: dict[str, Any], user: str) -> dict[str, Any]:
    """The activity sent by `user` instead (in their own 1:1 chat when it is a personal one)."""
    member, name, zone = PEOPLE[user]
    body["from"] = {"id": member, "name": name, "aadObjectId": user}
    body["localTimezone"] = zone
    for entity in body.get("entities", []):
        if entity.get("type") == "clientInfo":
            entity["timezone"] = zone
    if body["conversation"]["conversationType"] == "personal":
        body["conversation"]["id"] = personal_chat(user)
    return body


class TeamsClient:
    """Posts activities to `/api/messages`, signed for the fake Microsoft's Bot Connector."""

    def __init__(self, base_url: str, microsoft: FakeMicrosoft) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=15)
        self.microsoft = microsoft

    def close(self) -> None:
        """Close the HTTP client."""
        self.http.close()

    def post(
        self, body: dict[str, Any] | bytes, *, authorization: str | None = "sign", **headers: str
    ) -> httpx.Response:
        """POST an activity, with a valid token unless `authorization` is given (None: no header)."""
        if authorization == "sign":
            assert isinstance(body, dict)
            authorization = self.microsoft.authorization(body["serviceUrl"])
        sent = dict(headers)
        if authorization is not None:
            sent["Authorization"] = authorization
        if isinstance(body, dict):
            return self.http.post("/api/messages", json=body, headers=sent)
        return self.http.post(
            "/api/messages", content=body, headers={"Content-Type": "application/json", **sent}
        )

    def prepare(self, name: str, *, user: str = ANA, text: str | None = None) -> dict[str, Any]:
        """An activity fixture from `user`, pointed at the fake's Bot Connector, with a fresh id."""
        body = as_user(activity(name), user)
        body["serviceUrl"] = self.microsoft.service_url
        body["id"] = f"{'f:' if body['type'] != 'message' else ''}{next(_ids)}"
        if text is not None:
            mention = "<at>Nudgebot</at> " if body["conversation"]["conversationType"] != "personal" else ""
            body["text"] = mention + text
        return body

    def say(self, text: str, *, user: str = ANA, where: str = "personal_message") -> httpx.Response:
        """Type a message to the bot (in the 1:1 chat, or `where="channel_message_mention"`)."""
        return self.post(self.prepare(where, user=user, text=text))

    def press(
        self, action: dict[str, Any], *, user: str = ANA, inputs: dict[str, Any] | None = None
    ) -> httpx.Response:
        """Press an Action.Execute taken from a card (form inputs merged into its data, as Teams does)."""
        body = self.prepare("adaptive_card_action", user=user)
        data = {**action.get("data", {}), **(inputs or {})}
        body["value"]["action"] = {
            "type": "Action.Execute",
            "title": action.get("title", ""),
            "verb": action["verb"],
            "data": data,
        }
        return self.post(body)

    def card_sent(self, conversation: str, *, after: int = 0, timeout: float = 5.0) -> dict[str, Any]:
        """The card of the next message the bot posts to `conversation` (waits for it: replies come late)."""
        seen: set[int] = set()

        def posted(call: RecordedCall) -> bool:
            ok = call.kind in ("send", "reply") and call.ok and call.conversation_id == conversation
            if ok and len(seen) < after:
                seen.add(id(call))
                return False
            return ok and id(call) not in seen

        call = self.microsoft.wait_for(posted, timeout=timeout)
        return card_of(call.json_body)


def card_of(activity_json: Any) -> dict[str, Any]:
    """The Adaptive Card in a message activity."""
    assert isinstance(activity_json, dict), activity_json
    attachments = activity_json["attachments"]
    assert len(attachments) == 1
    assert attachments[0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    card: dict[str, Any] = attachments[0]["content"]
    return card


def invoke_card(response: httpx.Response) -> dict[str, Any]:
    """The card an invoke was answered with."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "application/vnd.microsoft.card.adaptive", body
    card: dict[str, Any] = body["value"]
    return card


def invoke_message(response: httpx.Response) -> str:
    """The message an invoke was answered with (the card left as it was)."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "application/vnd.microsoft.activity.message", body
    return str(body["value"])


def walk(card: Any) -> Iterator[dict[str, Any]]:
    """Every element of a card (body, containers, action sets, actions), depth first."""
    if isinstance(card, dict):
        yield card
        for value in card.values():
            yield from walk(value)
    elif isinstance(card, list):
        for item in card:
            yield from walk(item)


def text_of(card: dict[str, Any]) -> str:
    """All the text a card shows, a line per block, for assertions."""
    lines = []
    for element in walk(card):
        if element.get("type") == "RichTextBlock":
            lines.append("".join(run.get("text", "") for run in element.get("inlines", [])))
        elif element.get("type") == "TextBlock":
            lines.append(str(element.get("text", "")))
    return "\n".join(lines)


def actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every action (Execute and OpenUrl) on a card, in order."""
    return [e for e in walk(card) if str(e.get("type", "")).startswith("Action.")]


def action(card: dict[str, Any], title: str) -> dict[str, Any]:
    """The action with this title."""
    for found in actions(card):
        if found.get("title") == title:
            return found
    raise AssertionError(f"no action {title!r} among {[a.get('title') for a in actions(card)]}")


def ask(teams: TeamsClient, text: str, *, user: str = ANA) -> dict[str, Any]:
    """Type `text` in the person's 1:1 chat; the card the bot answers with there, checked valid."""
    chat = personal_chat(user)
    before = len(teams.microsoft.sent(chat))
    response = teams.say(text, user=user)
    assert response.status_code == 200, response.text
    card = teams.card_sent(chat, after=before)
    assert_valid_card(card)
    return card


def pressed(
    teams: TeamsClient, button: dict[str, Any], *, user: str = ANA, inputs: dict[str, str] | None = None
) -> dict[str, Any]:
    """Press a card's button (with what was typed in the form); the card the invoke is answered with,
    checked valid."""
    card = invoke_card(teams.press(button, user=user, inputs=inputs))
    assert_valid_card(card)
    return card


def lines(card: dict[str, Any]) -> list[str]:
    """The card's text, a line per block."""
    return text_of(card).split("\n")
