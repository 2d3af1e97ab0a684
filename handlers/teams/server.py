"""`POST /api/messages`: the Bot Framework token checked first, then the activity to the Teams SDK app.

The route is ours, not the SDK's: it limits the body, checks the token with `BotFrameworkAuth` (every
claim, the key's endorsement and the service URL; keys fetched without blocking the event loop), and
answers 401 to anything unsigned, forged, expired or misdirected and 400 to a malformed body, never
500. Only then does the activity reach the SDK's pipeline (`app.server.on_request`), whose routing
and context run our listeners. With the local Playground, requests carry no token and are accepted
from loopback only.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import httpx
from microsoft_teams.api import JsonWebToken
from microsoft_teams.apps import App
from microsoft_teams.apps.events import ActivityEvent, CoreActivity
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.core import Core
from bot.services import Services
from handlers.bodies import read_limited
from handlers.runner import Background, CoreRunner
from handlers.teams.auth import BotFrameworkAuth, Unauthorized, is_loopback
from handlers.teams.listeners import TeamsListeners, register
from handlers.teams.notifier import build_messenger, service_urls

logger = logging.getLogger(__name__)

# Activities are a few kB; a card submission with long notes stays far below this.
MAX_BODY_BYTES = 256 * 1024
# How long a stopping bot waits for replies still on their way.
DRAIN_S = 10.0
REJECTED = JSONResponse({"error": "unauthorized"}, status_code=401)
MALFORMED = JSONResponse({"error": "malformed activity"}, status_code=400)


class _Unserved:
    """The SDK wants an HTTP adapter to register its own route on; ours serves the route instead."""

    def register_route(self, method: str, path: str, handler: Any) -> None:
        """Nothing to do: `TeamsFront.messages` is the route."""

    def serve_static(self, path: str, directory: str) -> None:
        """Nothing to serve."""

    async def start(self, port: int) -> None:
        """uvicorn is started by the front, not by the SDK."""

    async def stop(self) -> None:
        """Nothing to stop."""


def _playground_token(body: dict[str, Any]) -> Any:
    # What the SDK itself passes when it accepts a request without a token (a stand-in, checked by nobody).
    return SimpleNamespace(
        app_id="",
        app_display_name="",
        tenant_id="",
        service_url=str(body.get("serviceUrl") or ""),
        from_="azure",
        from_id="",
        is_expired=lambda: False,
    )


@dataclass
class TeamsFront:
    """Everything that serves Teams: the route, the SDK app, the token gate and the outbound messenger."""

    app: App
    auth: BotFrameworkAuth | None
    listeners: TeamsListeners
    http: httpx.AsyncClient

    def routes(self) -> list[Route]:
        """The one route Teams calls."""
        return [Route("/api/messages", self.messages, methods=["POST"])]

    async def start(self) -> None:
        """Ready the SDK app (no network: keys are fetched on the first request)."""
        await self.app.initialize()
        if self.auth is None:
            logger.warning(
                "TEAMS_LOCAL_PLAYGROUND is on: requests without a token are accepted from this machine "
                "only, and replies go only to loopback addresses; never use it in production"
            )

    async def stop(self) -> None:
        """Finish replies under way (for a while: platforms give a stopping process about 30 s) and close
        connections."""
        try:
            await asyncio.wait_for(self.listeners.background.drain(), DRAIN_S)
        except TimeoutError:
            logger.warning("stopped with Teams replies still unsent (the commands themselves are stored)")
        await self.listeners.messenger.close()
        await self.http.aclose()

    async def messages(self, request: Request) -> Response:
        """One activity from Teams (or the Playground)."""
        raw = await read_limited(request, MAX_BODY_BYTES)
        if raw is None:
            return JSONResponse({"error": "request too large"}, status_code=413)
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            # Checked before the token so a garbage body costs no key lookup; it still says nothing.
            return REJECTED if not self._may_enter(request) else MALFORMED
        token = await self._verified(request, body)
        if token is None:
            return REJECTED
        try:
            activity = CoreActivity.model_validate(body)
            result = await self.app.server.on_request(ActivityEvent(body=activity, token=token))  # type: ignore[misc]
        except ValidationError:
            logger.warning("ignored a signed activity the Teams SDK can't read")
            return MALFORMED
        return _response(result)

    def _may_enter(self, request: Request) -> bool:
        # Without a token to check, only requests from this machine (the Playground) are let in.
        return self.auth is not None or is_loopback(request.client.host if request.client else None)

    async def _verified(self, request: Request, body: dict[str, Any]) -> Any:
        """The request's verified token, or None (logged) when it must be refused."""
        if self.auth is None:
            if self._may_enter(request):
                return _playground_token(body)
            logger.warning(
                "refused a request without a token from %s: the Playground is loopback only", request.client
            )
            return None
        headers = request.headers.getlist("authorization")
        header = headers[0] if len(headers) == 1 else None
        try:
            await self.auth.verify(
                header, service_url=body.get("serviceUrl"), channel_id=body.get("channelId")
            )
        except Unauthorized as refused:
            logger.warning("refused a Teams request (%s) from %s", refused.reason, request.client)
            return None
        assert header is not None
        return JsonWebToken(header.split(" ", 1)[1].strip())


def _response(result: Any) -> Response:
    """The SDK's InvokeResponse as HTTP: its status, and its body when it has one."""
    if hasattr(result, "model_dump"):
        result = result.model_dump(by_alias=True, exclude_none=True)
    status, body = 200, None
    if isinstance(result, dict):
        status = int(result.get("status") or 200)
        body = result.get("body")
    if body is None:
        return Response(status_code=status)
    return JSONResponse(body, status_code=status)


def build_teams(services: Services, core: Core, runner: CoreRunner) -> TeamsFront:
    """The Teams side of the front, with the deployment's registration (or the Playground)."""
    settings = services.settings
    credentials = settings.require_teams()
    http = httpx.AsyncClient()
    messenger = build_messenger(settings)
    auth = (
        None
        if credentials.playground
        else BotFrameworkAuth(settings.teams_openid_url, credentials.app_id, http=http)
    )
    app = App(
        client_id=credentials.app_id,
        tenant_id=credentials.tenant_id or None,
        token=messenger.tokens,
        http_server_adapter=_Unserved(),
    )
    listeners = TeamsListeners(
        core=core,
        runner=runner,
        background=Background(),
        messenger=messenger,
        service_urls=service_urls(settings),
        tenant_id=None if credentials.playground else credentials.tenant_id,
    )
    register(app, listeners)
    return TeamsFront(app=app, auth=auth, listeners=listeners, http=http)
