"""The Bolt app: our client, single-workspace authorization without a request-path `auth.test`, listeners."""

from __future__ import annotations

import asyncio
import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import Core
from bot.settings import Settings
from handlers.runner import Background, CoreRunner
from handlers.slack.listeners import SlackListeners, register
from handlers.slack.profiles import ProfileFetcher

logger = logging.getLogger(__name__)

# views.open must happen within 3 s of the command; a slow Slack must not hold a listener longer.
WEB_API_TIMEOUT_S = 10


class TokenRejected(Exception):
    """Slack refused the bot token at start-up."""


class BotAuthorization:
    """Authorizes requests with the bot token, calling `auth.test` once at start-up, not per request."""

    def __init__(self, client: AsyncWebClient, token: str) -> None:
        self.client = client
        self.token = token
        self.result: AuthorizeResult | None = None
        self.lock = asyncio.Lock()
        self.warmed_up = False

    async def warm_up(self) -> None:
        """Check the token before serving; a rejected token stops start-up, an unreachable Slack does not."""
        if self.warmed_up:
            # `python -m bot` checks before migrating and run_front checks again: one try is enough.
            return
        self.warmed_up = True
        try:
            await self.authorize()
        except SlackApiError as failure:
            error = failure.response.get("error")
            if error in {"invalid_auth", "not_authed", "token_revoked", "account_inactive"}:
                raise TokenRejected(
                    f"Slack rejected SLACK_BOT_TOKEN ({error}): copy the Bot User OAuth Token again"
                ) from None
            logger.warning("auth.test failed at start-up (%s); will retry on the first request", error)
        except OSError as failure:
            logger.warning("Slack is unreachable at start-up (%s); will retry on the first request", failure)

    async def authorize(self) -> AuthorizeResult:
        """The cached result of `auth.test` for our token."""
        if self.result is None:
            async with self.lock:
                if self.result is None:
                    response = await self.client.auth_test(token=self.token)
                    self.result = AuthorizeResult.from_auth_test_response(
                        auth_test_response=response, bot_token=self.token
                    )
        return self.result


def build_bolt_app(
    settings: Settings, core: Core, runner: CoreRunner, profiles: ProfileFetcher
) -> tuple[AsyncApp, BotAuthorization, SlackListeners]:
    """The Bolt app with every listener registered, its authorization (to warm up before serving) and the
    listeners."""
    token, signing_secret = settings.require_slack()
    client = AsyncWebClient(base_url=settings.slack_api_url, timeout=WEB_API_TIMEOUT_S)
    authorization = BotAuthorization(client, token)

    async def authorize() -> AuthorizeResult:
        # Bolt passes a callable only the arguments it names; this one needs none.
        return await authorization.authorize()

    app = AsyncApp(
        signing_secret=signing_secret,
        client=client,
        authorize=authorize,
        # Unknown requests get a quiet 404 instead of Bolt's suggested-code warnings in our logs.
        raise_error_for_unhandled_request=False,
        # Answer as soon as the listener returns, instead of Bolt polling for ack() every 10 ms;
        # listeners therefore push all Web API work into background tasks (see listeners.py).
        process_before_response=True,
        logger=logging.getLogger("slack_bolt"),
    )
    listeners = SlackListeners(core=core, runner=runner, background=Background(), profiles=profiles)
    register(app, listeners)
    return app, authorization, listeners
