"""What Slack does with a person's action in the sandbox: build the payload Slack would, sign it with the
run's signing secret, POST it to the bot's `/slack/events`, and show the answer as Slack would.

In real Slack the user's client talks to Slack, and Slack's servers sign and send the request to the
app; here the page talks to this, which does what Slack's servers do. The bot checks every signature.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from handlers.slack.sandbox.workspace import BOT, MANAGERS, MANAGERS_NAME, Message, Workspace
from handlers.slack.standin import TEAM_ID

TEAM_DOMAIN = "nudgebot-sandbox"
APP_ID = "A0SANDBOX"
COMMANDS = ("/visit", "/promise")
EXAMPLE = "/visit Acme Dental 1h30 replaced the fuser; todo: order toner"


class SlackSide:
    """Sends the page's actions to the bot as Slack would, and records what comes straight back."""

    def __init__(
        self, workspace: Workspace, *, events_url: str, respond_url: str, signing_secret: str
    ) -> None:
        self.workspace = workspace
        self.events_url = events_url
        # The stand-in's response URL base: `<respond_url>/<user>.<channel>.<message id>`.
        self.respond_url = respond_url.rstrip("/")
        self.signer = SignatureVerifier(signing_secret)
        self.http = httpx.AsyncClient(timeout=30)

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self.http.aclose()

    async def _send(self, body: str, content_type: str) -> httpx.Response:
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": self.signer.generate_signature(timestamp=timestamp, body=body) or "",
        }
        return await self.http.post(self.events_url, content=body.encode(), headers=headers)

    def _response_url(self, user: str, channel: str, message_id: str) -> str:
        return f"{self.respond_url}/{user}.{channel}.{message_id}"

    def _user(self, user: str) -> dict[str, str]:
        person = self.workspace.person(user)
        return {
            "id": user,
            "username": person.name.split()[0].lower(),
            "name": person.name,
            "team_id": TEAM_ID,
        }

    async def command(self, user: str, channel: str, text: str) -> None:
        """A slash command typed in a conversation: what was typed, then the bot's answer, only for them."""
        command, _, rest = text.strip().partition(" ")
        if command not in COMMANDS:
            self.workspace.add(
                Message(
                    id=self.workspace.new_id(),
                    channel=channel,
                    author=BOT,
                    at=self.workspace.clock(),
                    text=(
                        f"{command or text} is not a command here: type /visit or /promise, "
                        f"for example {EXAMPLE}"
                    ),
                    visible_to=user,
                )
            )
            return
        typed = self.workspace.add(
            Message(
                id=self.workspace.new_id(),
                channel=channel,
                author=user,
                at=self.workspace.clock(),
                text=text.strip(),
                visible_to=user,
                typed=True,
            )
        )
        answer_id = self.workspace.new_id()
        fields = {
            "token": "sandbox-verification-token-unused",
            "team_id": TEAM_ID,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel,
            "channel_name": MANAGERS_NAME if channel == MANAGERS else "directmessage",
            "user_id": user,
            "user_name": self._user(user)["username"],
            "command": command,
            "text": rest.strip(),
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": self._response_url(user, channel, answer_id),
            "trigger_id": self.workspace.trigger(user),
        }
        response = await self._send(urlencode(fields), "application/x-www-form-urlencoded")
        self._show_ack(response, user, channel, answer_id, after=typed)

    def _show_ack(
        self, response: httpx.Response, user: str, channel: str, answer_id: str, *, after: Message
    ) -> None:
        """An ack with a body is the command's answer, shown only to the person who typed it."""
        if response.status_code != 200:
            text = f"/{after.text.split()[0].lstrip('/')} failed with the error “dispatch_failed”"
            self.workspace.add(self._note(answer_id, user, channel, text))
            return
        try:
            body = response.json()
        except ValueError:
            return
        if isinstance(body, dict) and (body.get("blocks") or body.get("text")):
            blocks = body.get("blocks")
            message = Message(
                id=answer_id,
                channel=channel,
                author=BOT,
                at=self.workspace.clock(),
                text=str(body.get("text") or ""),
                blocks=blocks if isinstance(blocks, list) else [],
                visible_to=None if body.get("response_type") == "in_channel" else user,
            )
            self.workspace.add(message)

    def _note(self, message_id: str, user: str, channel: str, text: str) -> Message:
        return Message(
            id=message_id, channel=channel, author=BOT, at=self.workspace.clock(), text=text, visible_to=user
        )

    async def press(
        self, user: str, action: Mapping[str, str], *, message_id: str | None, surface: str
    ) -> None:
        """A button pressed on a message (`message_id`), on the Home tab or in a modal (`surface`)."""
        container: dict[str, Any]
        channel = ""
        if surface == "message" and message_id is not None:
            found = next(
                (m for m in self.workspace.messages if m.id == message_id and m.visible_to in (None, user)),
                None,
            )
            if found is None:
                return
            channel = found.channel
            container = {
                "type": "message",
                "message_ts": found.ts or f"{int(found.at.timestamp())}.000000",
                "channel_id": channel,
                "is_ephemeral": found.visible_to is not None,
            }
        else:
            container = {"type": "view", "view_id": action.get("view_id", "")}
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user),
            "api_app_id": APP_ID,
            "token": "sandbox-verification-token-unused",
            "container": container,
            "trigger_id": self.workspace.trigger(user),
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
            "actions": [
                {
                    "action_id": action.get("action_id", ""),
                    "block_id": action.get("block_id", ""),
                    "text": {"type": "plain_text", "text": action.get("text", ""), "emoji": True},
                    "value": action.get("value", ""),
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        if surface == "message" and message_id is not None:
            payload["channel"] = {
                "id": channel,
                "name": MANAGERS_NAME if channel == MANAGERS else "directmessage",
            }
            payload["response_url"] = self._response_url(user, channel, message_id)
        elif surface == "home":
            payload["view"] = {"id": action.get("view_id", ""), "type": "home"}
        await self._send("payload=" + quote(json.dumps(payload)), "application/x-www-form-urlencoded")

    async def submit(self, user: str, values: Mapping[str, Any]) -> dict[str, str]:
        """Submit the person's open modal with what they typed; returns the bot's field errors (if any)."""
        modal = self.workspace.modal(user)
        if modal is None:
            return {}
        view = dict(modal.view)
        view["state"] = {"values": _state(view, values)}
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "user": self._user(user),
            "api_app_id": APP_ID,
            "token": "sandbox-verification-token-unused",
            "trigger_id": self.workspace.trigger(user),
            "view": view,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        response = await self._send(
            "payload=" + quote(json.dumps(payload)), "application/x-www-form-urlencoded"
        )
        errors: dict[str, str] = {}
        if response.status_code == 200 and response.content:
            try:
                body = response.json()
            except ValueError:
                body = {}
            if isinstance(body, dict) and body.get("response_action") == "errors":
                errors = {str(key): str(value) for key, value in (body.get("errors") or {}).items()}
        if errors:
            self.workspace.show_errors(user, errors, dict(values))
        else:
            self.workspace.close_modal(user)
        return errors

    async def open_home(self, user: str) -> None:
        """The person opened the bot's Home tab: Slack sends app_home_opened."""
        event = {
            "token": "sandbox-verification-token-unused",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": {
                "type": "app_home_opened",
                "user": user,
                "channel": self.workspace.dm(user),
                "tab": "home",
                "event_ts": f"{time.time():.6f}",
            },
            "type": "event_callback",
            "event_id": self.workspace.new_id("Ev"),
            "event_time": int(time.time()),
            "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT, "is_bot": True}],
        }
        await self._send(json.dumps(event), "application/json")


def _state(view: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """A modal's `state.values` from what was typed, by block id, in the shape each input element has."""
    state: dict[str, Any] = {}
    for block in view.get("blocks") or []:
        if not isinstance(block, dict) or block.get("type") != "input":
            continue
        element = block.get("element") or {}
        block_id, action_id = str(block.get("block_id", "")), str(element.get("action_id", ""))
        typed = values.get(block_id)
        if element.get("type") == "checkboxes":
            chosen = typed if isinstance(typed, list) else ([typed] if typed else [])
            options = [o for o in element.get("options") or [] if o.get("value") in chosen]
            state[block_id] = {action_id: {"type": "checkboxes", "selected_options": options}}
        elif element.get("type") == "radio_buttons":
            picked = next((o for o in element.get("options") or [] if o.get("value") == typed), None)
            state[block_id] = {action_id: {"type": "radio_buttons", "selected_option": picked}}
        else:
            state[block_id] = {action_id: {"type": "plain_text_input", "value": str(typed or "") or None}}
    return state
