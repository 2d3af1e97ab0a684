"""The sandbox's Slack workspace: its people, and the conversations, Home tabs and modals as Slack would
show them, built from what the bot sends to the stand-in's Web API and its response URLs."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from handlers.slack.standin import RecordedRequest, SharedFile

BOT = "UBOT"
MANAGERS = "C0MANAGERS"
MANAGERS_NAME = "service-managers"


@dataclass(frozen=True)
class Person:
    """Someone to be in the sandbox: their Slack user id, name, time zone and whether they manage."""

    id: str
    name: str
    tz: str
    manager: bool = False
    role: str = "Technician"

    @property
    def email(self) -> str:
        """The company address, as Slack's profile gives it (a client list may name an owner by it)."""
        return ".".join(self.name.lower().split()) + "@nudgebot.example"


PEOPLE = (
    Person("U0ANA", "Ana Lopez", "America/Chicago"),
    Person("U0BO", "Bo Berg", "Europe/Berlin"),
    Person("U0KAI", "Kai Tanaka", "Asia/Tokyo"),
    Person("U0MO", "Morgan Reyes", "America/New_York", manager=True, role="Service manager"),
)


@dataclass
class Message:
    """A message in a conversation, as one viewer or everyone sees it."""

    id: str
    channel: str
    author: str
    at: datetime
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    ts: str | None = None
    thread_ts: str | None = None
    # Ephemeral: only this person sees it ("Only visible to you").
    visible_to: str | None = None
    files: list[SharedFile] = field(default_factory=list)
    # What the person typed, for the command that a reply answers.
    typed: bool = False


@dataclass
class Modal:
    """An open modal: the view the bot sent, and the field errors of the last submission."""

    view: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


Event = dict[str, str]


class Workspace:
    """What Slack would show each person, kept current from the stand-in's record of the bot's calls."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        shared_files: Callable[[], list[SharedFile]],
        people: tuple[Person, ...] = PEOPLE,
    ) -> None:
        self.clock = clock
        # The stand-in's shared files, whose bytes a file message points at.
        self.shared_files = shared_files
        self.people = {person.id: person for person in people}
        self.messages: list[Message] = []
        self.homes: dict[str, dict[str, Any]] = {}
        self.modals: dict[str, list[Modal]] = {}
        self.files: dict[str, SharedFile] = {}
        # Which person each trigger id (a command, a button press) was made for: views.open says only it.
        self.triggers: dict[str, str] = {}
        self.lock = threading.RLock()
        self.listeners: list[Callable[[Event], None]] = []
        self.counter = itertools.count(1)

    # -- who and where -------------------------------------------------------------------------------

    def person(self, user: str) -> Person:
        """A person of the sandbox (KeyError for anyone else)."""
        return self.people[user]

    def tz(self, user: str) -> ZoneInfo:
        """The person's time zone."""
        return ZoneInfo(self.person(user).tz)

    @staticmethod
    def dm(user: str) -> str:
        """The id of a person's DM with Nudgebot (as the stand-in answers conversations.open)."""
        return "D" + user

    def may_see(self, user: str, channel: str) -> bool:
        """People see their own DM; everyone in the sandbox is in the managers' channel."""
        return channel == MANAGERS or channel == self.dm(user)

    def new_id(self, prefix: str = "M") -> str:
        """A unique id for a message or a trigger."""
        return f"{prefix}{next(self.counter):06d}"

    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        """Call `listener` with each change; returns how to stop."""
        with self.lock:
            self.listeners.append(listener)

        def stop() -> None:
            with self.lock:
                if listener in self.listeners:
                    self.listeners.remove(listener)

        return stop

    def changed(self, event: Event) -> None:
        """Tell every listener (the page's event streams) what changed."""
        with self.lock:
            listeners = list(self.listeners)
        for listener in listeners:
            listener(event)

    # -- what the page adds ----------------------------------------------------------------------------

    def add(self, message: Message) -> Message:
        """A message the sandbox itself shows (what someone typed, an ack's answer)."""
        with self.lock:
            self.messages.append(message)
        self.changed({"type": "conversation", "id": message.channel})
        return message

    def trigger(self, user: str) -> str:
        """A trigger id for an action by `user`, remembered for the views.open it may lead to."""
        trigger = f"{next(self.counter)}.{self.new_id('T')}"
        with self.lock:
            self.triggers[trigger] = user
        return trigger

    def modal(self, user: str) -> Modal | None:
        """The modal on top of a person's stack, if any."""
        with self.lock:
            stack = self.modals.get(user) or []
            return stack[-1] if stack else None

    def close_modal(self, user: str, *, all_views: bool = True) -> None:
        """Close the top modal (or every one of the person's)."""
        with self.lock:
            stack = self.modals.get(user) or []
            if all_views:
                stack.clear()
            elif stack:
                stack.pop()
        self.changed({"type": "modal", "user": user})

    def show_errors(self, user: str, errors: dict[str, str], values: dict[str, Any]) -> None:
        """The bot refused a submission: keep the modal open with its field errors and what was typed."""
        with self.lock:
            top = self.modal(user)
            if top is not None:
                top.errors, top.values = dict(errors), dict(values)
        self.changed({"type": "modal", "user": user})

    # -- what the bot sends ----------------------------------------------------------------------------

    def observe(self, request: RecordedRequest) -> None:
        """Turn one of the bot's calls into what Slack would show (called from the stand-in's threads)."""
        if request.fault is not None:
            return
        if request.response_name is not None:
            self._response(request.response_name, request.params)
            return
        answer = request.answer or {}
        if not answer.get("ok"):
            return
        method, params = request.api_method, request.params
        if method == "chat.postMessage":
            self._posted(params, answer)
        elif method == "chat.update":
            self._updated(params)
        elif method == "chat.postEphemeral":
            self.add(
                self._message(params, str(params.get("channel", "")), visible_to=str(params.get("user")))
            )
        elif method == "views.publish":
            self._home(params, answer)
        elif method in ("views.open", "views.push", "views.update"):
            self._view(method, params, answer)
        elif method == "files.completeUploadExternal":
            self._shared(params, answer)

    def _message(self, params: dict[str, Any], channel: str, **extra: Any) -> Message:
        blocks = params.get("blocks")
        return Message(
            id=self.new_id(),
            channel=channel,
            author=BOT,
            at=self.clock(),
            text=str(params.get("text") or ""),
            blocks=blocks if isinstance(blocks, list) else [],
            **extra,
        )

    def _posted(self, params: dict[str, Any], answer: dict[str, Any]) -> None:
        thread = params.get("thread_ts")
        message = self._message(
            params,
            str(answer.get("channel")),
            ts=str(answer.get("ts")),
            thread_ts=str(thread) if thread else None,
        )
        self.add(message)

    def _find(self, predicate: Callable[[Message], bool]) -> Message | None:
        with self.lock:
            return next((message for message in self.messages if predicate(message)), None)

    def _updated(self, params: dict[str, Any]) -> None:
        channel, ts = str(params.get("channel", "")), str(params.get("ts", ""))
        found = self._find(lambda message: message.ts == ts and message.channel in (channel, "D" + channel))
        if found is None:
            return
        with self.lock:
            blocks = params.get("blocks")
            found.text = str(params.get("text") or found.text)
            found.blocks = blocks if isinstance(blocks, list) else found.blocks
        self.changed({"type": "conversation", "id": found.channel})

    def _response(self, name: str, params: dict[str, Any]) -> None:
        """A post to a response URL: named `<user>.<channel>.<message id>` when the sandbox made it."""
        user, channel, message_id = [*name.split("."), "", "", ""][:3]
        if user not in self.people:
            return
        truthy = ("true", "1", True)
        if params.get("delete_original") in truthy:
            with self.lock:
                self.messages = [message for message in self.messages if message.id != message_id]
            self.changed({"type": "conversation", "id": channel})
            return
        visible_to = None if params.get("response_type") == "in_channel" else user
        fresh = self._message(params, channel, visible_to=visible_to)
        original = self._find(lambda message: message.id == message_id)
        if params.get("replace_original") in truthy and original is not None:
            with self.lock:
                original.text, original.blocks = fresh.text, fresh.blocks
            self.changed({"type": "conversation", "id": original.channel})
            return
        self.add(fresh)

    def _home(self, params: dict[str, Any], answer: dict[str, Any]) -> None:
        user = str(params.get("user_id", ""))
        view = answer.get("view")
        if isinstance(view, dict):
            with self.lock:
                self.homes[user] = view
            self.changed({"type": "home", "user": user})

    def _view(self, method: str, params: dict[str, Any], answer: dict[str, Any]) -> None:
        view = answer.get("view")
        if not isinstance(view, dict):
            return
        with self.lock:
            if method == "views.update":
                for owner, stack in self.modals.items():
                    for index, modal in enumerate(stack):
                        if modal.view.get("id") == view.get("id"):
                            stack[index] = Modal(view)
                            self.changed({"type": "modal", "user": owner})
                            return
                return
            user = self.triggers.get(str(params.get("trigger_id", "")))
            if user is None:
                return
            stack = self.modals.setdefault(user, [])
            if method == "views.open":
                stack.clear()
            stack.append(Modal(view))
        self.changed({"type": "modal", "user": user})

    def _shared(self, params: dict[str, Any], answer: dict[str, Any]) -> None:
        channel = str(params.get("channel_id") or "")
        thread = params.get("thread_ts")
        for entry in answer.get("files") or []:
            shared = self._shared_file(str(entry.get("id")))
            if shared is None:
                continue
            with self.lock:
                self.files[shared.file_id] = shared
            self.add(
                Message(
                    id=self.new_id(),
                    channel=channel,
                    author=BOT,
                    at=self.clock(),
                    thread_ts=str(thread) if thread else None,
                    files=[shared],
                )
            )

    def _shared_file(self, file_id: str) -> SharedFile | None:
        return next((file for file in self.shared_files() if file.file_id == file_id), None)

    # -- what the page reads ---------------------------------------------------------------------------

    def conversation(self, channel: str, viewer: str) -> list[Message]:
        """What `viewer` sees in a conversation, oldest first (their own ephemeral messages included)."""
        with self.lock:
            return [
                replace(message)
                for message in self.messages
                if message.channel == channel and message.visible_to in (None, viewer)
            ]
