"""The Teams latency baseline: a bare Teams SDK app that checks each request's token and only replies.

It is the SDK's own set-up (its FastAPI adapter and token validation, against the OpenID metadata the
benchmark serves) with one message handler that sends a one-word reply through the Bot Connector.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from microsoft_teams.api.auth.cloud_environment import PUBLIC, with_overrides
from microsoft_teams.apps import App, FastAPIAdapter


async def reply_ok(ctx: Any) -> None:
    """The bare app's whole answer to a message."""
    await ctx.send("ok")


def build_app(
    *,
    app_id: str,
    tenant_id: str,
    openid_url: str,
    token: str,
    on_message: Callable[[Any], Awaitable[None]] = reply_ok,
) -> FastAPI:
    """A FastAPI app serving the Teams SDK at POST /api/messages (answered by `on_message`), and /healthz."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await teams.initialize()
        yield

    web = FastAPI(lifespan=lifespan)
    teams = App(
        client_id=app_id,
        tenant_id=tenant_id,
        # A fixed token keeps Microsoft Entra (and any network but the connector) off the request path.
        token=lambda scope, tenant=None: token,
        http_server_adapter=FastAPIAdapter(app=web),
        cloud=with_overrides(PUBLIC, openid_metadata_url=openid_url),
    )

    teams.on_message(on_message)

    @web.get("/healthz")
    async def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    return web


def main() -> None:
    """Read the port and the Teams settings the benchmark sets, then serve until terminated."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=3000)
    args = parser.parse_args()
    web = build_app(
        app_id=os.environ["TEAMS_APP_ID"],
        tenant_id=os.environ["TEAMS_TENANT_ID"],
        openid_url=os.environ["TEAMS_OPENID_URL"],
        token=os.environ["BARE_TEAMS_TOKEN"],
    )
    uvicorn.run(web, host="127.0.0.1", port=args.port, log_level="warning", access_log=False, workers=1)


if __name__ == "__main__":
    main()
