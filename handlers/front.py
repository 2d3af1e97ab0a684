"""The HTTP front: every platform that is on, on one server and port, with `GET /healthz`.

Slack (`POST /slack/events`) is on when its settings are set, Teams (`POST /api/messages`) when its
are; both share one core and one pool of threads for it. Served by uvicorn.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.core import Core
from bot.people import SLACK, TEAMS
from bot.services import Services
from bot.settings import Settings
from handlers import links
from handlers.runner import CoreRunner
from handlers.slack.server import SlackFront, build_slack

if TYPE_CHECKING:
    from handlers.teams.server import TeamsFront

logger = logging.getLogger(__name__)


@dataclass
class Front:
    """Everything that serves chat platforms, built once: the ASGI app and each platform's side."""

    web: Starlette
    platforms: tuple[str, ...]
    runner: CoreRunner
    slack: SlackFront | None = None
    teams: TeamsFront | None = None

    async def warm_up(self) -> None:
        """Checks that can stop start-up before anything else happens (Slack's token)."""
        if self.slack is not None:
            await self.slack.authorization.warm_up()


def health(platforms: tuple[str, ...], *, playground: bool) -> str:
    """What `GET /healthz` says: `ok: slack, teams` (the Playground named when it is on)."""
    names = [f"{name} (local Playground)" if name == TEAMS and playground else name for name in platforms]
    return "ok: " + ", ".join(names)


def build_front(services: Services) -> Front:
    """The core, our thread pool and each platform's side, wired into one ASGI app."""
    settings = services.settings
    platforms = settings.require_platforms()
    runner = CoreRunner(budget_s=settings.ack_budget_s)
    core = Core(services)
    slack = build_slack(services, core, runner) if SLACK in platforms else None
    teams = None
    if TEAMS in platforms:
        # Imported only when Teams is on: a Slack-only process does without the Teams SDK's start-up.
        from handlers.teams.server import build_teams

        teams = build_teams(services, core, runner)
    said = health(platforms, playground=settings.teams_local_playground)

    async def healthz(_: Request) -> Response:
        return PlainTextResponse(said)

    routes = [Route("/healthz", healthz, methods=["GET"])]
    if core.links is not None:
        routes += links.routes(core)
    if slack is not None:
        routes.append(slack.route)
    if teams is not None:
        routes += teams.routes()
    return Front(web=Starlette(routes=routes), platforms=platforms, runner=runner, slack=slack, teams=teams)


def make_server(front: Front, settings: Settings) -> uvicorn.Server:
    """A uvicorn server for the front (a production ASGI server)."""
    config = uvicorn.Config(
        front.web,
        host=settings.listen_host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
        lifespan="off",
        # Whose X-Forwarded-For is believed for a client's address (the one-click links' rate limit).
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
    return uvicorn.Server(config)


async def run_front(
    front: Front,
    settings: Settings,
    *,
    server: uvicorn.Server | None = None,
    sockets: list[socket.socket] | None = None,
) -> None:
    """Serve HTTP (and Slack's Socket Mode when an app token is set) until SIGTERM or SIGINT."""
    if front.slack is not None:
        await front.slack.start()
    if front.teams is not None:
        await front.teams.start()
    for sock in sockets or []:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
            # asyncio turns Nagle off only for sockets made with proto=IPPROTO_TCP; one made with
            # socket.socket() has proto 0, and each keep-alive answer then waits ~40 ms for a delayed ACK.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    server = server or make_server(front, settings)
    logger.info("serving %s on %s:%s", " and ".join(front.platforms), settings.listen_host, settings.port)
    try:
        await server.serve(sockets=sockets)
    finally:
        if front.slack is not None:
            await front.slack.stop()
        if front.teams is not None:
            await front.teams.stop()
        front.runner.shutdown()
