"""The bot under test: the real HTTP front on a loopback port, and a client that signs requests like Slack."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import uvicorn
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.services import Services
from handlers.front import Front, build_front, make_server, run_front
from handlers.slack.standin import SlackStandIn
from storage.db import make_engine, normalize_url
from storage.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
PAYLOADS = Path(__file__).parent / "payloads"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-test-token"


@contextlib.contextmanager
def migrated_postgres(server_url: str, prefix: str) -> Iterator[str]:
    """A new database of ours on the PostgreSQL server, migrated, and dropped afterwards."""
    admin_url = make_url(normalize_url(server_url))
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def run_bot(database_url: str, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """`python -m bot …` in a process of its own, on this database and nothing else of our environment."""
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def payload(name: str) -> dict[str, Any]:
    """A fresh copy of a payload fixture."""
    return copy.deepcopy(json.loads((PAYLOADS / f"{name}.json").read_text()))


class FrozenClock:
    """A clock tests set and move; the core reads it as `services.clock`."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move forward by a timedelta's keyword arguments."""
        self.now += timedelta(**delta)


# Monday 23 November 2026, 09:00 in Chicago.
MONDAY_MORNING = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


class BotServer:
    """Runs the real front (uvicorn + Bolt + core) on a thread, bound to 127.0.0.1 on a free port."""

    def __init__(self, services: Services) -> None:
        self.front: Front = build_front(services)
        self.settings = services.settings
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.server: uvicorn.Server = make_server(self.front, self.settings)
        self.thread = threading.Thread(target=self._run, name="bot-under-test", daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            asyncio.run(run_front(self.front, self.settings, server=self.server, sockets=[self.socket]))
        except BaseException as error:  # reported by start() and stop()
            self.error = error

    def start(self) -> BotServer:
        """Start serving and wait until it accepts connections."""
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if self.error is not None or time.monotonic() > deadline:
                raise RuntimeError(f"bot did not start: {self.error!r}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()

    @property
    def url(self) -> str:
        """The bot's base URL."""
        return f"http://127.0.0.1:{self.port}"


class SlackClient:
    """Sends requests to the bot the way Slack does: form or JSON bodies, signed with the signing secret."""

    def __init__(self, base_url: str, fake: SlackStandIn, secret: str = SIGNING_SECRET) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=15)
        self.fake = fake
        self.secret = secret

    def close(self) -> None:
        """Close the HTTP client."""
        self.http.close()

    def post(
        self,
        body: bytes,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        timestamp: str | None = None,
        secret: str | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST /slack/events, signed unless told otherwise."""
        timestamp = str(int(time.time())) if timestamp is None else timestamp
        if signature is None:
            signature = SignatureVerifier(secret or self.secret).generate_signature(
                timestamp=timestamp, body=body
            )
        sent = {
            "content-type": content_type,
            "x-slack-request-timestamp": timestamp,
            "x-slack-signature": signature,
        }
        sent.update(headers or {})
        return self.http.post("/slack/events", content=body, headers={k: v for k, v in sent.items() if v})

    def command_body(
        self, text: str, *, command: str = "/visit", user: str = "U111", trigger_id: str | None = None
    ) -> bytes:
        """A slash command body as Slack sends it."""
        fields = payload("slash_command")
        trigger_id = trigger_id or f"trigger-{uuid.uuid4().hex}"
        fields.update(
            command=command,
            text=text,
            user_id=user,
            trigger_id=trigger_id,
            response_url=self.fake.response_url(trigger_id),
        )
        return urlencode(fields).encode()

    def command(self, text: str, **kwargs: Any) -> httpx.Response:
        """Send a slash command."""
        return self.post(self.command_body(text, **kwargs))

    def press(
        self, button: dict[str, Any], *, user: str = "U111", container: str = "message", name: str = "press"
    ) -> httpx.Response:
        """Press a button taken from a reply's blocks; the bot answers on the response_url `name`."""
        body = payload("block_actions")
        body["user"]["id"] = user
        body["response_url"] = self.fake.response_url(name)
        body["container"]["type"] = container
        if container == "view":
            body["view"] = {"id": "VHOME", "type": "home", "hash": "h1"}
        body["actions"][0].update(action_id=button["action_id"], value=button.get("value", ""))
        body["actions"][0]["text"]["text"] = button["text"]["text"]
        return self.post(b"payload=" + quote(json.dumps(body)).encode())

    def submit(
        self,
        callback_id: str,
        values: dict[str, str],
        *,
        ticked: tuple[str, ...] = (),
        picked: dict[str, str] | None = None,
        user: str = "U111",
        view_id: str = "V111",
    ) -> httpx.Response:
        """Submit a modal with text values (ticked checkboxes and picked radio buttons) by block id."""
        body = payload("view_submission")
        body["user"]["id"] = user
        body["view"].update(id=view_id, callback_id=callback_id)
        state: dict[str, Any] = {
            block: {block: {"type": "plain_text_input", "value": value}} for block, value in values.items()
        }
        for block in ticked:
            state[block] = {block: {"type": "checkboxes", "selected_options": [{"value": "yes"}]}}
        for block, value in (picked or {}).items():
            state[block] = {block: {"type": "radio_buttons", "selected_option": {"value": value}}}
        body["view"]["state"]["values"] = state
        return self.post(b"payload=" + quote(json.dumps(body)).encode())

    def event(self, body: dict[str, Any]) -> httpx.Response:
        """Deliver an Events API callback."""
        return self.post(json.dumps(body).encode(), content_type="application/json")


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Every button in a message's blocks (actions rows and section accessories), in order."""
    found: list[dict[str, Any]] = []
    for block in message.get("blocks", []):
        if block["type"] == "actions":
            found.extend(e for e in block["elements"] if e["type"] == "button")
        elif block.get("accessory", {}).get("type") == "button":
            found.append(block["accessory"])
    return found


def button(message: dict[str, Any], label: str) -> dict[str, Any]:
    """The button with this label."""
    for found in buttons(message):
        if found["text"]["text"] == label:
            return found
    raise AssertionError(f"no button {label!r} among {[b['text']['text'] for b in buttons(message)]}")


def text_of(message: dict[str, Any]) -> str:
    """All the text of a message's blocks, joined with newlines, for assertions."""
    parts = []
    for block in message.get("blocks", []):
        if "text" in block:
            parts.append(block["text"]["text"])
        for element in block.get("elements", []):
            if "text" in element and isinstance(element["text"], str):
                parts.append(element["text"])
            elif "text" in element:
                parts.append(element["text"]["text"])
        if "accessory" in block:
            parts.append(block["accessory"]["text"]["text"])
    return "\n".join(parts)
