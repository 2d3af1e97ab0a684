"""Bolt listeners. Each one acks, translates, calls the core and renders; `register` lists them all."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import Core, Handled
from bot.forms import VISIT_FORM
from bot.people import Actor
from bot.replies import FormOutcome, Reply, Section
from handlers.slack import render, translate
from handlers.slack.profiles import ProfileFetcher
from handlers.slack.runner import Background, CoreRunner

logger = logging.getLogger(__name__)

WORKING = Reply(summary="Working on it…", blocks=(Section("Working on it… I'll reply here in a moment."),))
FORM_FAILED = "Something went wrong on my side and nothing was saved. Please try again."
FAILED = Reply(summary="Something went wrong", blocks=(Section(f":warning: {FORM_FAILED}"),), tone="error")
# Every action id the core hands out: "area.verb", plus the "#n" the renderer adds.
ACTION_IDS = re.compile(r"^[a-z]+\.[a-z]+(#\d+)?$")


@dataclass
class SlackListeners:
    """The listeners, holding what they share: the core, our thread pool, background tasks, profiles.

    Bolt runs with process_before_response, so the HTTP response leaves when a listener returns:
    listeners only ack (with the core's answer when it is quick) and hand every Web API call to
    `background`, so no Slack call ever happens before the ack or delays it.
    """

    core: Core
    runner: CoreRunner
    background: Background
    profiles: ProfileFetcher

    async def command(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        """`/visit` and `/promise`: answered in the ack itself when the core is quick (nearly always)."""
        invocation = translate.invocation(body)
        if not invocation.text.strip():
            await ack()
            self.background.spawn(self._open_form(client, body, invocation.command), what="views.open")
            return
        future = self.runner.start(self.core.command, invocation)
        try:
            handled = await self.runner.within_budget(future)
        except Exception:
            logger.exception("/%s failed", invocation.command)
            await ack(**render.build_message(FAILED), response_type="ephemeral")
            return
        if handled is None:
            # The database is slow (a long lock): ack now so Slack doesn't time out, and answer when done.
            await ack(**render.build_message(WORKING), response_type="ephemeral")
            self.background.spawn(
                self._answer_late(future, respond, client, invocation.actor), what="late answer"
            )
            return
        await ack(**render.build_message(handled.reply), response_type="ephemeral")
        if handled.refresh_profile:
            self.profiles.schedule(client, invocation.actor)

    async def _answer_late(
        self, future: asyncio.Future[Handled], respond: AsyncRespond, client: AsyncWebClient, actor: Actor
    ) -> None:
        try:
            handled = await future
        except Exception:
            logger.exception("a command failed after the ack")
            await respond(**render.build_message(FAILED), response_type="ephemeral", replace_original=True)
            return
        await respond(**render.build_message(handled.reply), response_type="ephemeral", replace_original=True)
        if handled.refresh_profile:
            self.profiles.schedule(client, actor)

    async def _open_form(self, client: AsyncWebClient, body: dict[str, Any], command: str) -> None:
        form = self.core.form(command)
        view = render.build_modal(form, private_metadata={"channel": str(body.get("channel_id", ""))})
        try:
            await client.views_open(trigger_id=body["trigger_id"], view=view)
        except SlackApiError as failure:
            logger.warning("views.open failed: %s", failure.response.get("error"))

    async def action(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        """A button on one of our messages or on App Home; the message is updated in place after the ack."""
        elements = body.get("actions") or []
        if not elements:
            await ack()
            return
        press = translate.press(body, elements[0])
        future = self.runner.start(self.core.press, press)
        with contextlib.suppress(Exception):
            # A failure is reported on the message by _show_pressed; the ack must go out regardless.
            await self.runner.within_budget(future)
        await ack()
        on_home = (body.get("container") or {}).get("type") == "view"
        self.background.spawn(
            self._show_pressed(future, respond, client, press.actor, on_home), what="button"
        )

    async def _show_pressed(
        self,
        future: asyncio.Future[Reply],
        respond: AsyncRespond,
        client: AsyncWebClient,
        actor: Actor,
        on_home: bool,
    ) -> None:
        try:
            reply = await future
        except Exception:
            logger.exception("a button failed")
            reply = FAILED
        if on_home:
            await self._publish_home(client, actor)
        else:
            await respond(**render.build_message(reply), replace_original=True)

    async def submit(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        """A submitted form: errors go back onto the fields; success closes it and DMs the reply."""
        submission = translate.submission(body)
        future = self.runner.start(self.core.submit, submission)
        try:
            outcome = await self.runner.within_budget(future)
        except Exception:
            logger.exception("form %s failed", submission.kind)
            # Keep the form open with what was typed, so trying again is one click.
            form = self.core.form("visit" if submission.kind == VISIT_FORM else "promise")
            await ack(response_action="errors", errors={form.fields[0].id: FORM_FAILED})
            return
        if outcome is not None and outcome.errors:
            await ack(response_action="errors", errors=outcome.errors)
            return
        await ack()
        self.background.spawn(self._confirm_submission(future, client, submission.actor.user), what="form")

    async def _confirm_submission(
        self, future: asyncio.Future[FormOutcome], client: AsyncWebClient, user: str
    ) -> None:
        try:
            outcome = await future
        except Exception:
            logger.exception("a form failed after the ack")
            await self._direct_message(client, user, FAILED)
            return
        if outcome.reply is not None:
            await self._direct_message(client, user, outcome.reply)

    async def _direct_message(self, client: AsyncWebClient, user: str, reply: Reply) -> None:
        try:
            await client.chat_postMessage(channel=user, **render.build_message(reply))
        except SlackApiError as failure:
            logger.warning("could not DM %s: %s", user, failure.response.get("error"))

    async def home_opened(self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        """Publish App Home (the technician's open items) after the event is acknowledged."""
        if event.get("tab", "home") != "home":
            return
        actor = Actor(workspace=str(body.get("team_id", "")), user=str(event.get("user", "")))
        self.background.spawn(self._refresh_home(client, actor), what="App Home")

    async def _refresh_home(self, client: AsyncWebClient, actor: Actor) -> None:
        await self._publish_home(client, actor)
        if await self.runner.start(self.core.needs_profile, actor):
            self.profiles.schedule(client, actor)

    async def _publish_home(self, client: AsyncWebClient, actor: Actor) -> None:
        reply = await self.runner.start(self.core.home, actor)
        try:
            await client.views_publish(user_id=actor.user, view=render.build_home(reply))
        except SlackApiError as failure:
            logger.warning("views.publish failed: %s", failure.response.get("error"))


def register(app: AsyncApp, listeners: SlackListeners) -> None:
    """Every command, action, view and event Nudgebot answers."""
    app.command("/visit")(listeners.command)
    app.command("/promise")(listeners.command)
    app.action(ACTION_IDS)(listeners.action)
    app.view("visit.log")(listeners.submit)
    app.view("promise.add")(listeners.submit)
    app.event("app_home_opened")(listeners.home_opened)
