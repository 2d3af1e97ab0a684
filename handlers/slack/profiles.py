"""Technicians' names and time zones from `users.info`, fetched after the ack and cached in the database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import Core
from bot.people import Actor, Profile
from handlers.runner import CoreRunner

logger = logging.getLogger(__name__)


def profile_from_user(user: dict[str, Any]) -> Profile:
    """Our profile from a Slack user object."""
    profile = user.get("profile") or {}
    name = (
        profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name")
    )
    return Profile(
        display_name=name or None,
        timezone=user.get("tz") or None,
        email=profile.get("email") or None,
        full_name=profile.get("real_name") or user.get("real_name") or None,
    )


# users.info answers these for people we will never get a profile for; stop asking for a week.
PERMANENT = {"user_not_found", "user_not_visible", "missing_scope", "not_allowed_token_type"}
# After a passing failure (Slack down, rate limited) wait this long before asking again.
RETRY_AFTER_S = 600.0


class ProfileFetcher:
    """Fetches each person's profile at most once at a time, never on the request path."""

    def __init__(self, core: Core, runner: CoreRunner, *, concurrency: int = 4) -> None:
        self.core = core
        self.runner = runner
        self.in_flight: dict[Actor, asyncio.Task[None]] = {}
        self.resting: dict[Actor, float] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.limit = asyncio.Semaphore(concurrency)

    def schedule(self, client: AsyncWebClient, actor: Actor) -> None:
        """Fetch in the background unless one is running for this person or the last one failed lately."""
        if actor in self.in_flight or not actor.user:
            return
        if self.resting.get(actor, 0.0) > time.monotonic():
            return
        task = asyncio.create_task(self._fetch(client, actor))
        self.in_flight[actor] = task
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _fetch(self, client: AsyncWebClient, actor: Actor) -> None:
        try:
            async with self.limit:
                response = await client.users_info(user=actor.user)
            profile = profile_from_user(response.get("user") or {})
            await self.runner.start(self.core.update_profile, actor, profile)
        except SlackApiError as failure:
            error = failure.response.get("error")
            logger.warning("users.info for %s failed: %s", actor.user, error)
            if error in PERMANENT:
                # Remember the attempt, so every later command doesn't ask again.
                await self.runner.start(self.core.update_profile, actor, Profile(None, None))
            else:
                self.resting[actor] = time.monotonic() + RETRY_AFTER_S
        except Exception:
            logger.exception("could not refresh the profile of %s", actor.user)
            self.resting[actor] = time.monotonic() + RETRY_AFTER_S
        finally:
            self.in_flight.pop(actor, None)

    async def settled(self, actor: Actor, *, timeout: float) -> None:
        """Wait, at most `timeout` seconds, for a fetch under way for this person to be stored."""
        task = self.in_flight.get(actor)
        if task is not None:
            # Shielded: a caller giving up must not cancel the fetch itself.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), timeout)

    async def quiet(self, *, timeout: float) -> None:
        """Wait, at most `timeout` seconds, for every fetch under way to be stored (none is cancelled)."""
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=timeout)

    async def drain(self) -> None:
        """Wait for running fetches (tests and shutdown)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)
