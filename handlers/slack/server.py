"""The HTTP front: `POST /slack/events` behind a signature gate, `GET /healthz`, served by uvicorn."""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass

import uvicorn
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.internals import parse_body
from slack_sdk.signature import Clock, SignatureVerifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.core import Core
from bot.services import Services
from bot.settings import Settings
from handlers.runner import CoreRunner
from handlers.slack import translate
from handlers.slack.app import BotAuthorization, build_bolt_app

logger = logging.getLogger(__name__)

# Slack's payloads are a few kB; a modal submission with long texts stays well under this.
MAX_BODY_BYTES = 1024 * 1024
REJECTED = JSONResponse({"error": "invalid request"}, status_code=401)
MALFORMED = JSONResponse({"error": "malformed request"}, status_code=400)


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


async def _read_limited(request: Request) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def build_web_app(bolt_app: AsyncApp, signing_secret: str) -> Starlette:
    """The ASGI app Slack talks to."""
    handler = AsyncSlackRequestHandler(bolt_app)
    gate = SignatureGate(signing_secret)

    async def events(request: Request) -> Response:
        body = await _read_limited(request)
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

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route("/slack/events", events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


@dataclass
class SlackFront:
    """Everything that serves Slack, built once: the ASGI app and the parts to start and stop."""

    web: Starlette
    bolt: AsyncApp
    authorization: BotAuthorization
    runner: CoreRunner


def build_front(services: Services) -> SlackFront:
    """Wire the core, our thread pool, the Bolt app and the HTTP front together."""
    _, signing_secret = services.settings.require_slack()
    runner = CoreRunner(budget_s=services.settings.ack_budget_s)
    bolt, authorization = build_bolt_app(services.settings, Core(services), runner)
    return SlackFront(
        web=build_web_app(bolt, signing_secret), bolt=bolt, authorization=authorization, runner=runner
    )


def make_server(front: SlackFront, settings: Settings) -> uvicorn.Server:
    """A uvicorn server for the front (a production ASGI server; Bolt's dev server is not used)."""
    config = uvicorn.Config(
        front.web,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
        lifespan="off",
    )
    return uvicorn.Server(config)


async def run_front(
    front: SlackFront,
    settings: Settings,
    *,
    server: uvicorn.Server | None = None,
    sockets: list[socket.socket] | None = None,
) -> None:
    """Serve HTTP (and Socket Mode when an app token is set) until SIGTERM or SIGINT."""
    await front.authorization.warm_up()
    socket_mode = None
    if settings.socket_mode:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        assert settings.slack_app_token is not None
        socket_mode = AsyncSocketModeHandler(front.bolt, settings.slack_app_token.get_secret_value())
        await socket_mode.connect_async()  # type: ignore[no-untyped-call]
        logger.info("connected to Slack over Socket Mode")
    for sock in sockets or []:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
            # asyncio turns Nagle off only for sockets made with proto=IPPROTO_TCP; one made with
            # socket.socket() has proto 0, and each keep-alive answer then waits ~40 ms for a delayed ACK.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    server = server or make_server(front, settings)
    logger.info("serving Slack on %s:%s", settings.host, settings.port)
    try:
        await server.serve(sockets=sockets)
    finally:
        if socket_mode is not None:
            await socket_mode.close_async()  # type: ignore[no-untyped-call]
        front.runner.shutdown()
