"""`POST /slack/events` behind a signature gate, and the Slack side of the front (its token, Socket Mode)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.internals import parse_body
from slack_sdk.signature import Clock, SignatureVerifier
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.core import Core
from bot.services import Services
from handlers.bodies import read_limited
from handlers.runner import CoreRunner
from handlers.slack import translate
from handlers.slack.app import WEB_API_TIMEOUT_S, BotAuthorization, build_bolt_app
from handlers.slack.listeners import SlackListeners
from handlers.slack.profiles import ProfileFetcher

logger = logging.getLogger(__name__)

# Slack's payloads are a few kB; a modal submission with long texts stays well under this.
MAX_BODY_BYTES = 1024 * 1024
REJECTED = JSONResponse({"error": "invalid request"}, status_code=401)
MALFORMED = JSONResponse({"error": "malformed request"}, status_code=400)
# At shutdown, answers still on their way get this long to leave before the shared connections close.
CLOSE_WAIT_S = 3.0


class SignatureGate:
    """Rejects unsigned, forged, stale or malformed requests with 401 before Bolt sees them.

    Bolt verifies too, but answers 500 to a non-numeric timestamp and logs rejected bodies at INFO;
    checking here first keeps both out of our responses and logs.
    """

    def __init__(self, signing_secret: str, *, clock: Clock | None = None) -> None:
        # The clock is a seam for pinning the five-minute window in tests; serving uses the real one.
        self.verifier = SignatureVerifier(signing_secret, clock=clock or Clock())

    def allows(self, body: bytes, timestamp: str | None, signature: str | None) -> bool:
        """True for a correctly signed request from within the last five minutes."""
        if not timestamp or not signature or not timestamp.isdigit() or not timestamp.isascii():
            return False
        if not signature.isascii():
            # hmac.compare_digest raises TypeError (a 500) on non-ASCII text.
            return False
        try:
            # Slack sends UTF-8; the verifier decodes the body and would raise (a 500) on anything else.
            body.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return self.verifier.is_valid(body=body, timestamp=timestamp, signature=signature)


def _only(request: Request, name: str) -> str | None:
    """A header sent exactly once, else None: we read the first copy and Bolt the last, so both must agree."""
    values = request.headers.getlist(name)
    return values[0] if len(values) == 1 else None


def slack_route(bolt_app: AsyncApp, signing_secret: str) -> Route:
    """`POST /slack/events`, the route Slack talks to."""
    handler = AsyncSlackRequestHandler(bolt_app)
    gate = SignatureGate(signing_secret)

    async def events(request: Request) -> Response:
        body = await read_limited(request, MAX_BODY_BYTES)
        if body is None:
            return JSONResponse({"error": "request too large"}, status_code=413)
        if not gate.allows(
            body, _only(request, "x-slack-request-timestamp"), _only(request, "x-slack-signature")
        ):
            logger.warning("rejected a request without a valid Slack signature from %s", request.client)
            return REJECTED
        # Starlette keeps the body we read, so Bolt's handler reads the same bytes again.
        request._body = body
        try:
            if body.startswith(b"payload=") and not translate.dispatchable(
                parse_body(body.decode("utf-8"), request.headers.get("content-type"))
            ):
                # Bolt answers 500 to a signed payload it can't route (no actions, a view without a type).
                logger.warning("ignored an interaction payload without the parts it needs")
                return Response(status_code=200)
            return await handler.handle(request)
        except Exception as error:
            # Bolt raises while parsing a signed body it can't make sense of (payload=not-json, a JSON
            # list); listener errors never get here, Bolt answers those itself. The body is not logged.
            logger.warning("could not read a signed request: %s", type(error).__name__)
            return MALFORMED

    return Route("/slack/events", events, methods=["POST"])


@dataclass
class SlackFront:
    """Everything that serves Slack, built once: its route, the Bolt app, its token check and the
    profile fetches its listeners start after their acks."""

    route: Route
    bolt: AsyncApp
    authorization: BotAuthorization
    listeners: SlackListeners
    profiles: ProfileFetcher
    app_token: str | None = None
    socket_mode: Any = None
    http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Check the token, open the connections every call to Slack shares, and connect over Socket Mode
        when an app-level token is set."""
        await self.authorization.warm_up()
        # The SDK opens a connection per call otherwise (and against Slack, a TLS handshake each time).
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WEB_API_TIMEOUT_S))
        self.bolt.client.session = self.http
        self.listeners.http = self.http
        if self.app_token:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self.socket_mode = AsyncSocketModeHandler(self.bolt, self.app_token)
            await self.socket_mode.connect_async()
            logger.info("connected to Slack over Socket Mode")

    async def stop(self) -> None:
        """Close the Socket Mode connection, if any, and the shared connections once the answers still
        on their way have left (or a few seconds have passed)."""
        if self.socket_mode is not None:
            await self.socket_mode.close_async()
        if self.http is not None:
            pending = self.listeners.background.tasks
            if pending:
                await asyncio.wait(list(pending), timeout=CLOSE_WAIT_S)
            self.bolt.client.session = None
            self.listeners.http = None
            await self.http.close()


def build_slack(services: Services, core: Core, runner: CoreRunner) -> SlackFront:
    """Wire the core and our thread pool into the Bolt app, behind the signature gate."""
    settings = services.settings
    _, signing_secret = settings.require_slack()
    profiles = ProfileFetcher(core, runner)
    bolt, authorization, listeners = build_bolt_app(settings, core, runner, profiles)
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
    return SlackFront(
        route=slack_route(bolt, signing_secret),
        bolt=bolt,
        authorization=authorization,
        listeners=listeners,
        profiles=profiles,
        app_token=app_token,
    )
