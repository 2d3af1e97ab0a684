"""The sandbox served as `python -m bot sandbox` serves it, and a client that uses it as the page does.

The client speaks the page's HTTP (JSON actions, HTML fragments) and reads the HTML the way the page's
script does: messages by `data-message-id`, buttons by their `data-*` attributes.
"""

from __future__ import annotations

import asyncio
import html
import re
import socket
import threading
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import httpx

from handlers.slack.sandbox.app import Sandbox, build_sandbox
from handlers.slack.sandbox.run import serve

ANA, BO, KAI, MORGAN = "U0ANA", "U0BO", "U0KAI", "U0MO"
MANAGERS = "C0MANAGERS"
WAIT_S = 30.0


class SandboxServer:
    """A sandbox serving on a free loopback port, on a thread, with its scheduler and stand-in."""

    def __init__(self, database_url: str) -> None:
        self.sandbox: Sandbox = build_sandbox(database_url=database_url, port=0, log_level="WARNING")
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.thread = threading.Thread(target=self._run, name="sandbox-under-test", daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            asyncio.run(serve(self.sandbox, sockets=[self.socket]))
        except BaseException as error:  # reported by start()
            self.error = error

    def start(self) -> SandboxServer:
        """Serve, and wait until the server accepts connections."""
        self.thread.start()
        deadline = time.monotonic() + WAIT_S
        while self.sandbox.server is None or not self.sandbox.server.started:
            if self.error is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the sandbox did not start: {self.error!r}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and the stand-in."""
        if self.sandbox.server is not None:
            self.sandbox.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()
        self.sandbox.close()


@dataclass(frozen=True)
class Button:
    """A button (or link button) as the page shows it."""

    text: str
    action_id: str
    value: str
    block_id: str
    message_id: str | None

    def action(self) -> dict[str, str]:
        """What the page sends for a press."""
        return {
            "action_id": self.action_id,
            "value": self.value,
            "block_id": self.block_id,
            "text": self.text,
        }


class _Reader(HTMLParser):
    """Finds the buttons in a fragment and the message each belongs to (the innermost `.msg`)."""

    def __init__(self) -> None:
        super().__init__()
        self.divs: list[str | None] = []
        self.buttons: list[Button] = []
        self.open: dict[str, str] | None = None
        self.label: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        classes = attributes.get("class", "").split()
        if tag == "div":
            self.divs.append(attributes.get("data-message-id") if "msg" in classes else None)
        if "bk-button" in classes:
            self.open, self.label = attributes, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self.divs:
            self.divs.pop()
        if tag in ("button", "a") and self.open is not None:
            message = next((found for found in reversed(self.divs) if found), None)
            self.buttons.append(
                Button(
                    text="".join(self.label).strip(),
                    action_id=self.open.get("data-action-id", ""),
                    value=self.open.get("data-value", ""),
                    block_id=self.open.get("data-block-id", ""),
                    message_id=message,
                )
            )
            self.open = None

    def handle_data(self, data: str) -> None:
        if self.open is not None:
            self.label.append(data)


def buttons(fragment: str) -> list[Button]:
    """Every button in a fragment of the page, in order."""
    reader = _Reader()
    reader.feed(fragment)
    return reader.buttons


def text_of(fragment: str) -> str:
    """A fragment's text, as a person reads it."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


class PageClient:
    """Does what the page does: asks for fragments and state, sends actions as JSON."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)

    def close(self) -> None:
        """Close the connections."""
        self.http.close()

    def act(self, user: str, kind: str, **body: Any) -> httpx.Response:
        """POST /sandbox/act as `user`."""
        return self.http.post("/sandbox/act", json={"as": user, "kind": kind, **body})

    def type(self, user: str, text: str, channel: str | None = None) -> httpx.Response:
        """Type in a conversation (the person's DM with the bot unless told otherwise)."""
        return self.act(user, "command", channel=channel or f"D{user}", text=text)

    def conversation(self, user: str, channel: str | None = None) -> str:
        """A conversation's HTML as `user` sees it."""
        return "".join(html for _, html in self.messages(user, channel))

    def messages(self, user: str, channel: str | None = None) -> list[tuple[str, str]]:
        """A conversation's top-level messages as the page receives them: (id, HTML), oldest first."""
        response = self.http.get(f"/sandbox/conversation/{channel or f'D{user}'}", params={"as": user})
        assert response.status_code == 200, response.text
        return [(str(message_id), str(html)) for message_id, html in response.json()["messages"]]

    def home(self, user: str) -> str:
        """The person's Home tab HTML."""
        return str(self.http.get("/sandbox/home", params={"as": user}).json()["html"])

    def modal(self, user: str) -> str | None:
        """The person's open modal's HTML, if any."""
        shown = self.http.get("/sandbox/modal", params={"as": user}).json()["html"]
        return None if shown is None else str(shown)

    def state(self, user: str) -> dict[str, Any]:
        """What the page loads first: people, conversations, the clock."""
        answer: dict[str, Any] = self.http.get("/sandbox/state", params={"as": user}).json()
        return answer

    def clock(self, user: str, to: str) -> httpx.Response:
        """Move the sandbox's clock."""
        return self.http.post("/sandbox/clock", json={"as": user, "to": to})

    def wait_for(self, user: str, needle: str, channel: str | None = None, *, home: bool = False) -> str:
        """The conversation's (or Home's) text once it shows `needle`; fails with what it shows instead."""
        deadline = time.monotonic() + WAIT_S
        while True:
            shown = text_of(self.home(user) if home else self.conversation(user, channel))
            if needle in shown:
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} never appeared; the page shows: {shown[-2000:]}")
            time.sleep(0.05)

    def button(self, user: str, label: str, channel: str | None = None, *, home: bool = False) -> Button:
        """The last button labelled `label` in a conversation (or on Home)."""
        fragment = self.home(user) if home else self.conversation(user, channel)
        found = [button for button in buttons(fragment) if button.text == label]
        assert found, f"no {label!r} button in {text_of(fragment)[-1500:]}"
        return found[-1]

    def press(self, user: str, label: str, channel: str | None = None) -> httpx.Response:
        """Press the last button labelled `label` in a conversation, as the page does."""
        pressed = self.button(user, label, channel)
        return self.act(user, "press", surface="message", message=pressed.message_id, action=pressed.action())
