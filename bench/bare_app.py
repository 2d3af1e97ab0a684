"""The latency baseline: the fastest way Bolt itself can ack a /visit command, served on uvicorn."""

from __future__ import annotations

import argparse
import os

import uvicorn
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route


def authorized_app(*, signing_secret: str, bot_token: str, api_url: str) -> AsyncApp:
    """An AsyncApp with no listeners, authorized by a fixed answer for team T111."""
    result = AuthorizeResult(
        enterprise_id=None, team_id="T111", bot_token=bot_token, bot_user_id="UBOT", bot_id="B111"
    )

    # A fixed answer keeps auth.test (and any network) off the request path; `token=` would conflict.
    async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        return result

    return AsyncApp(
        signing_secret=signing_secret,
        authorize=authorize,
        client=AsyncWebClient(base_url=api_url),
    )


def build_bolt_app(*, signing_secret: str, bot_token: str, api_url: str) -> AsyncApp:
    """Build an AsyncApp whose only listener acks /visit and nothing else."""
    app = authorized_app(signing_secret=signing_secret, bot_token=bot_token, api_url=api_url)

    async def ack_visit(ack: AsyncAck) -> None:
        await ack()

    app.command("/visit")(ack_visit)
    return app


def build_web_app(bolt_app: AsyncApp) -> Starlette:
    """Serve Bolt at POST /slack/events and a liveness probe at GET /healthz."""
    handler = AsyncSlackRequestHandler(bolt_app)

    async def slack_events(request: Request) -> Response:
        return await handler.handle(request)

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


def main() -> None:
    """Read the port and Slack settings, then serve until terminated."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=3000)
    args = parser.parse_args()
    bolt_app = build_bolt_app(
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        bot_token=os.environ.get("SLACK_BOT_TOKEN", "xoxb-bench-token"),
        api_url=os.environ.get("SLACK_API_URL", "https://slack.com/api/"),
    )
    uvicorn.run(
        build_web_app(bolt_app),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        workers=1,
    )


if __name__ == "__main__":
    main()
