"""Writing to Teams: the Bot Connector through the Teams SDK's API client, with the bot's own token.

The token is only ever sent to Microsoft's Bot Connector hosts (`ServiceUrls`): a conversation whose
service URL points anywhere else is refused and logged, never called. Errors come back as the
Notifier's three failures (`bot.notify`), so reminders, digests and replies all treat them alike.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from microsoft_teams.api import ApiClient
from microsoft_teams.api.activities.message import MessageActivityInput
from microsoft_teams.api.clients.conversation.params import CreateConversationParams
from microsoft_teams.common import Client, ClientOptions

from bot.notify import Address, PermanentFailure, RateLimited, TemporaryFailure
from handlers.teams.cards import CARD_CONTENT_TYPE, emojize
from handlers.teams.pacing import Pacing

logger = logging.getLogger(__name__)

# Where Microsoft's Bot Connector lives, worldwide and in the government clouds (`*.` matches any
# subdomain). Nothing else gets the bot's token unless TEAMS_CONNECTOR_HOSTS adds it.
MICROSOFT_HOSTS = (
    "smba.trafficmanager.net",
    "*.botframework.com",
    "*.teams.microsoft.com",
    "*.teams.microsoft.us",
    "*.botframework.us",
    "*.botframework.azure.us",
    "*.botframework.azure.cn",
)
REQUEST_TIMEOUT_S = 10.0
# A token is fetched again this long before it runs out, so no request carries one about to expire.
TOKEN_MARGIN_S = 300.0
BOT_SCOPE = "https://api.botframework.com/.default"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServiceUrls:
    """Which service URLs the bot may call: Microsoft's hosts over HTTPS (plus any configured), or with
    the local Playground only loopback ones."""

    extra_hosts: tuple[str, ...] = ()
    loopback_only: bool = False

    def allows(self, url: str | None) -> bool:
        """True when the bot's token may be sent to `url`."""
        try:
            parts = urlsplit(url or "")
            host = (parts.hostname or "").lower()
        except ValueError:
            return False
        if not host or parts.scheme not in ("http", "https") or parts.username or parts.password:
            return False
        if self.loopback_only:
            return _is_loopback(host)
        if host in self.extra_hosts:
            return True
        if parts.scheme != "https":
            return False
        return any(
            host.endswith(pattern[1:]) if pattern.startswith("*.") else host == pattern
            for pattern in MICROSOFT_HOSTS
        )


class TokenUnavailable(Exception):
    """Microsoft Entra gave no token (a wrong secret, or it is unreachable); `reason` is safe to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class BotTokens:
    """The bot's token for the Bot Connector, from Microsoft Entra (client credentials), kept until it
    nearly runs out; the Teams SDK asks for it before each call."""

    login_url: str
    tenant_id: str
    app_id: str
    password: str = field(repr=False)
    http: httpx.AsyncClient = field(repr=False)
    clock: Callable[[], float] = time.monotonic
    _token: str | None = field(default=None, repr=False)
    _until: float = 0.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def get_app_token(self, scope: str, tenant_id: str | None = None) -> str:
        """A valid token for the Bot Connector (the SDK names the scope; the bot only ever needs one)."""
        if self._token is not None and self.clock() < self._until:
            return self._token
        async with self._lock:
            if self._token is None or self.clock() >= self._until:
                self._token, lifetime = await self._fetch()
                self._until = self.clock() + max(0.0, lifetime - TOKEN_MARGIN_S)
        return self._token

    def forget(self) -> None:
        """Drop the token (the Connector refused it): the next call fetches a new one."""
        self._token = None

    async def _fetch(self) -> tuple[str, float]:
        url = f"{self.login_url}/{self.tenant_id}/oauth2/v2.0/token"
        form = {
            "grant_type": "client_credentials",
            "client_id": self.app_id,
            "client_secret": self.password,
            "scope": BOT_SCOPE,
        }
        try:
            response = await self.http.post(url, data=form, timeout=REQUEST_TIMEOUT_S)
        except httpx.HTTPError as failure:
            raise TokenUnavailable(f"Microsoft Entra unreachable: {type(failure).__name__}") from None
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if response.status_code != 200 or not isinstance(token, str):
            error = answer.get("error") if isinstance(answer, dict) else None
            raise TokenUnavailable(
                f"Microsoft Entra refused the bot's credentials: {error or response.status_code}"
            )
        lifetime = answer.get("expires_in", 3600)
        return token, float(lifetime) if isinstance(lifetime, int | float) else 3600.0


@dataclass(frozen=True)
class PlaygroundToken:
    """The Playground's mock connector checks no token, but the Teams SDK wants one shaped like a JWT."""

    value: str = field(default_factory=lambda: jwt.encode({"aud": "playground"}, "not-a-secret" * 4))

    def get_app_token(self, scope: str, tenant_id: str | None = None) -> str:
        """The same placeholder every time."""
        return self.value


TokenSource = BotTokens | PlaygroundToken


@dataclass(frozen=True)
class Sent:
    """Where a message landed: its conversation and activity id; `opened` when the 1:1 chat was opened
    for it."""

    conversation: str
    activity_id: str
    opened: bool = False


# HTTP statuses that no retry can fix, with the reason managers see.
_PERMANENT = {
    400: "bad_request",
    403: "blocked",
    404: "conversation_not_found",
    413: "message_too_large",
}


class Messenger:
    """Sends and updates messages in Teams conversations, on the event loop it was made on."""

    def __init__(
        self,
        *,
        tokens: TokenSource,
        service_urls: ServiceUrls,
        bot_id: str,
        pacing: Pacing | None = None,
        timeout: float = REQUEST_TIMEOUT_S,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.tokens = tokens
        self.service_urls = service_urls
        self.bot_id = bot_id
        self.pacing = pacing or Pacing()
        self.sleep = sleep
        self.http = Client(ClientOptions(timeout=timeout))
        self.clients: dict[str, ApiClient] = {}

    def _api(self, endpoint: str | None) -> ApiClient:
        if endpoint is None or not self.service_urls.allows(endpoint):
            host = urlsplit(endpoint or "").hostname if endpoint else None
            # Never the token: only where it would have gone.
            logger.warning(
                "refused to send the bot's token to %s: not a Bot Connector host", host or endpoint
            )
            raise PermanentFailure("service_url_not_allowed")
        api = self.clients.get(endpoint)
        if api is None:
            api = ApiClient(endpoint, self.http, token_provider=self.tokens)
            self.clients[endpoint] = api
        return api

    async def send(
        self, address: Address, card: dict[str, Any], *, summary: str, thread: str | None = None
    ) -> Sent:
        """Post a card; a person's 1:1 chat is opened first when only their member id is known."""
        if not address.target and (address.kind == "channel" or not address.member or not address.endpoint):
            # Nothing to write to: the bot was removed, or has never been in a chat with them.
            raise PermanentFailure("bot_not_in_team" if address.kind == "channel" else "no_conversation")
        api = self._api(address.endpoint)
        conversation, opened = address.target, False
        if not conversation:
            conversation = await self._open(api, address)
            opened = True
        if thread and address.kind == "channel":
            # A reply in a channel thread goes to the thread's own conversation id.
            conversation = f"{conversation.split(';', 1)[0]};messageid={thread}"
        activity = _message(card, summary)
        await self._pace(conversation, address.tenant)
        async with self._translated():
            posted = await api.conversations.create_activity(conversation, activity)
        return Sent(conversation=conversation.split(";", 1)[0], activity_id=posted.id, opened=opened)

    async def update(self, address: Address, activity_id: str, card: dict[str, Any], *, summary: str) -> None:
        """Replace a message the bot sent (a card answered late) with a new card."""
        api = self._api(address.endpoint)
        activity = _message(card, summary)
        await self._pace(address.target, address.tenant)
        async with self._translated():
            await api.conversations.update_activity(address.target, activity_id, activity)

    async def _open(self, api: ApiClient, address: Address) -> str:
        if not address.member or not address.tenant:
            raise PermanentFailure("no_conversation")
        # The SDK's model lacks `bot` and `isGroup`, which the Bot Connector's API takes; it keeps extras.
        params = CreateConversationParams.model_validate(
            {
                "bot": {"id": self.bot_id},
                "isGroup": False,
                "members": [{"id": address.member}],
                "tenantId": address.tenant,
                "channelData": {"tenant": {"id": address.tenant}},
            }
        )
        await self._pace(f"open:{address.member}", address.tenant)
        async with self._translated():
            created = await api.conversations.create(params)
        return created.id

    async def _pace(self, conversation: str, tenant: str | None) -> None:
        # The token first, so a fetch from Entra never stands between a slot and the message.
        if isinstance(self.tokens, BotTokens):
            async with self._translated():
                await self.tokens.get_app_token(BOT_SCOPE, None)
        wait = self.pacing.reserve(conversation, tenant or "")
        if wait > 0:
            await self.sleep(wait)

    def _translated(self) -> _Translated:
        return _Translated(self.tokens)

    async def close(self) -> None:
        """Close the HTTP connections (the token's too)."""
        await self.http.http.aclose()
        if isinstance(self.tokens, BotTokens):
            await self.tokens.http.aclose()


def _message(card: dict[str, Any], summary: str) -> MessageActivityInput:
    """A message carrying one card; `summary` is what Teams shows in notifications for it."""
    return MessageActivityInput.model_validate(
        {
            "type": "message",
            "summary": emojize(summary)[:250],
            "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": card}],
        }
    )


class _Translated:
    """The Bot Connector's answers as the Notifier's failures (an async context manager)."""

    def __init__(self, tokens: TokenSource) -> None:
        self.tokens = tokens

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None, _: Any) -> bool:
        if error is None:
            return False
        if isinstance(error, TokenUnavailable):
            logger.warning("no token for the Bot Connector: %s", error.reason)
            raise TemporaryFailure("token_unavailable") from None
        if isinstance(error, httpx.HTTPStatusError):
            raise _failure(error.response, self.tokens) from None
        if isinstance(error, httpx.HTTPError):
            # Refused, reset or timed out: the message may or may not have arrived.
            raise TemporaryFailure(f"network: {type(error).__name__}") from None
        return False


def _failure(response: httpx.Response, tokens: TokenSource) -> Exception:
    status = response.status_code
    if status == 429:
        retry_after = response.headers.get("Retry-After", "1")
        try:
            return RateLimited(max(0.0, float(retry_after)))
        except ValueError:
            return RateLimited(1.0)
    if status == 401 and isinstance(tokens, BotTokens):
        # The token was refused (expired early, or rotated): fetch a new one for the next try.
        tokens.forget()
    reason = _PERMANENT.get(status)
    if reason is not None:
        return PermanentFailure(reason)
    return TemporaryFailure(f"http_{status}")
