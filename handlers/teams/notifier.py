"""The Teams Notifier: reminders as proactive 1:1 messages, digests as channel posts with a thread.

The scheduler calls notifiers from its own threads, and the Teams SDK's HTTP client belongs to one
event loop, so the notifier runs a loop of its own on a thread and hands each send to it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx

from bot.notify import Address, Delivered, TemporaryFailure
from bot.replies import Attachment, Reply
from bot.settings import Settings
from handlers.teams.cards import build_card, build_image_card
from handlers.teams.connector import BotTokens, Messenger, PlaygroundToken, ServiceUrls, TokenSource
from handlers.teams.pacing import Pacing

logger = logging.getLogger(__name__)

T = TypeVar("T")
# However long pacing makes a send wait, a notifier call gives up on a stuck loop after this.
CALL_TIMEOUT_S = 300.0


def service_urls(settings: Settings) -> ServiceUrls:
    """Where the bot's token may go: Microsoft's hosts, or only loopback with the local Playground."""
    return ServiceUrls(extra_hosts=settings.connector_hosts, loopback_only=settings.teams_local_playground)


def token_source(settings: Settings, http: httpx.AsyncClient) -> TokenSource:
    """The bot's token: from Microsoft Entra, or the Playground's placeholder."""
    credentials = settings.require_teams()
    if credentials.playground:
        return PlaygroundToken()
    return BotTokens(
        login_url=settings.teams_login_url,
        tenant_id=credentials.tenant_id,
        app_id=credentials.app_id,
        password=credentials.password,
        http=http,
    )


def build_messenger(settings: Settings, pacing: Pacing | None = None) -> Messenger:
    """A messenger for the running event loop, with the deployment's credentials (and a pacing shared
    with the process's other messenger, when given)."""
    credentials = settings.require_teams()
    tokens = token_source(settings, httpx.AsyncClient())
    return Messenger(
        tokens=tokens, service_urls=service_urls(settings), bot_id=f"28:{credentials.app_id}", pacing=pacing
    )


class TeamsNotifier:
    """Delivers nudges and digests to Teams; every method raises the Notifier's failures."""

    def __init__(self, settings: Settings, *, pacing: Pacing | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="teams-notifier", daemon=True)
        self.thread.start()
        self.messenger = self._call(self._build(settings, pacing))

    async def _build(self, settings: Settings, pacing: Pacing | None) -> Messenger:
        # Built on the notifier's own loop, which its HTTP client then belongs to.
        return build_messenger(settings, pacing)

    def _call(self, work: Coroutine[Any, Any, T]) -> T:
        future = asyncio.run_coroutine_threadsafe(work, self.loop)
        try:
            return future.result(timeout=CALL_TIMEOUT_S)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TemporaryFailure("timeout") from None

    def send(self, *, recipient: Address, reply: Reply, key: str) -> Delivered:
        """A 1:1 message to the technician (their chat is opened first if need be)."""
        return self.post(channel=recipient, reply=reply, key=key)

    def post(self, *, channel: Address, reply: Reply, key: str, thread: str | None = None) -> Delivered:
        """A card in a conversation; in a channel, `thread` makes it a reply to that post."""
        sent = self._call(
            self.messenger.send(channel, build_card(reply), summary=reply.summary, thread=thread)
        )
        return Delivered(channel=sent.conversation, ts=sent.activity_id, opened=sent.opened)

    def upload(self, *, channel: Address, file: Attachment, thread: str | None = None) -> None:
        """A picture (the digest's chart) as an image in a card: Teams bots share no files in channels."""
        self._call(self.messenger.send(channel, build_image_card(file), summary=file.title, thread=thread))

    def close(self) -> None:
        """Close the connections and stop the loop."""
        self._call(self.messenger.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()
