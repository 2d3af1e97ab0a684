"""Bolt listeners. Each one acks, translates, calls the core and renders; `register` lists them all."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.clientlist.chat import SUFFIXES as CSV_SUFFIXES
from bot.core import Core, Handled
from bot.forms import SETTINGS_FORM, VISIT_FORM
from bot.home import NOTICE_BLOCKS
from bot.people import Actor
from bot.replies import Attachment, FormOutcome, Reply, Section
from handlers.runner import Background, CoreRunner
from handlers.slack import render, translate
from handlers.slack.profiles import ProfileFetcher

logger = logging.getLogger(__name__)

WORKING = Reply(summary="Working on it…", blocks=(Section("Working on it… I'll reply here in a moment."),))
FORM_FAILED = "Something went wrong on my side and nothing was saved. Please try again."
FAILED = Reply(summary="Something went wrong", blocks=(Section(f":warning: {FORM_FAILED}"),), tone="error")
FILE_FAILED = Reply(
    summary="I couldn't attach the file",
    blocks=(Section(":warning: I couldn't attach the file here, sorry. Its text is in my reply above."),),
    tone="error",
)
# Every action id the core hands out: "area.verb", plus the "#n" the renderer adds.
# A client list sent in a DM: where Slack keeps it, and the most we fetch.
SLACK_FILE_HOST = "files.slack.com"
MAX_SHARED_FILE_BYTES = 10 * 1024 * 1024
WEB_TIMEOUT_S = 30
DM_HINT = Reply(
    summary="Type /visit or /promise",
    blocks=(
        Section(
            ":wave: I answer `/visit` and `/promise` (try `/visit help`), here or in any channel. "
            "Managers can send me a client list exported from the PSA, as a CSV file, to import it."
        ),
    ),
    tone="info",
)
FILE_UNREADABLE = Reply(
    summary="I couldn't read that file",
    blocks=(
        Section(
            ":warning: I couldn't read that file from Slack: it may be over 10 MB, or Nudgebot's app lacks "
            "the files:read scope (see the README's manifest). Send it again, or import it on the server "
            "with `python -m bot import clients FILE.csv`."
        ),
    ),
    tone="error",
)
ACTION_IDS = re.compile(r"^[a-z]+\.[a-z]+(#\d+)?$")
# "Change settings" on App Home opens a form, which needs the press's trigger id: its own listener.
SETTINGS_BUTTON = re.compile(r"^home\.settings(#\d+)?$")
# A Home refresh waits (this long at most) for a profile fetch under way, so it shows the person's zone.
PROFILE_WAIT_S = 10.0
# A Home refresh after a command or a DM button waits this long, so a burst of changes is one publish.
HOME_SETTLE_S = 2.0


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
    # App Home refreshes: whose is being published, whose changed again meanwhile, and the answer to
    # show on top (a button pressed on the Home). A burst of changes publishes once or twice, not each.
    refreshing: set[Actor] = field(default_factory=set)
    stale: set[Actor] = field(default_factory=set)
    notices: dict[Actor, Reply] = field(default_factory=dict)
    # How long a refresh after a command waits for more changes, and the refreshes to hurry instead.
    settle_s: float = HOME_SETTLE_S
    # Who has opened their Home (or pressed a button on it) since this process started.
    home_viewers: set[Actor] = field(default_factory=set)
    urgent: dict[Actor, asyncio.Event] = field(default_factory=dict)
    # The connections every call to Slack shares while serving (SlackFront.start); None before.
    http: aiohttp.ClientSession | None = None

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
        self._share_files(client, invocation.actor.user, handled.reply)
        if handled.refresh_profile:
            self.profiles.schedule(client, invocation.actor)
        self._changed(client, invocation.actor, handled.reply)

    async def _answer_late(
        self, future: asyncio.Future[Handled], respond: AsyncRespond, client: AsyncWebClient, actor: Actor
    ) -> None:
        try:
            handled = await future
        except Exception:
            logger.exception("a command failed after the ack")
            await self._respond(
                respond, **render.build_message(FAILED), response_type="ephemeral", replace_original=True
            )
            return
        await self._respond(
            respond, **render.build_message(handled.reply), response_type="ephemeral", replace_original=True
        )
        self._share_files(client, actor.user, handled.reply)
        if handled.refresh_profile:
            self.profiles.schedule(client, actor)
        self._changed(client, actor, handled.reply)

    def _share_files(self, client: AsyncWebClient, user: str, reply: Reply) -> None:
        """Share a reply's files (a report to download) in the person's DM, after the ack."""
        if reply.files:
            self.background.spawn(self._upload_files(client, user, reply.files), what="file upload")

    async def _upload_files(self, client: AsyncWebClient, user: str, files: tuple[Attachment, ...]) -> None:
        try:
            opened = await client.conversations_open(users=user)
            channel = str(opened["channel"]["id"])
            for file in files:
                await client.files_upload_v2(
                    channel=channel, content=file.content, filename=file.filename, title=file.title
                )
        except SlackApiError as failure:
            logger.warning("could not share a file with %s: %s", user, failure.response.get("error"))
            await self._direct_message(client, user, FILE_FAILED)
        except (SlackRequestError, aiohttp.ClientError, OSError) as failure:
            # The bytes did not reach Slack's upload URL, or the network failed on the way.
            logger.warning("could not upload a file for %s: %s", user, type(failure).__name__)
            await self._direct_message(client, user, FILE_FAILED)

    async def _open_form(self, client: AsyncWebClient, body: dict[str, Any], command: str) -> None:
        form = self.core.form(command)
        view = render.build_modal(form, private_metadata={"channel": str(body.get("channel_id", ""))})
        try:
            await client.views_open(trigger_id=body["trigger_id"], view=view)
        except SlackApiError as failure:
            logger.warning("views.open failed: %s", failure.response.get("error"))

    async def _respond(self, respond: AsyncRespond, **message: Any) -> None:
        """Answer on the request's response_url, over the shared connections while serving: Bolt's own
        `respond` opens a new connection (against Slack, a TLS handshake too) for every answer."""
        if self.http is None or respond.response_url is None:
            await respond(**message)
            return
        await AsyncWebhookClient(respond.response_url, session=self.http, timeout=WEB_TIMEOUT_S).send(
            **message
        )

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
        if on_home:
            self.home_viewers.add(press.actor)
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
        if not on_home:
            await self._respond(respond, **render.build_message(reply), replace_original=True)
            self._changed(client, actor, reply)
        elif reply.files or len(reply.blocks) > NOTICE_BLOCKS:
            # Too long to show on top of the Home (a digest, say): it goes to a DM instead.
            await self._direct_message(client, actor.user, reply)
            self._refresh_home(client, actor)
        else:
            self._refresh_home(client, actor, notice=reply)

    async def open_settings(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        """ "Change settings" on App Home: the settings form, opened with this press's trigger id."""
        await ack()
        actor = translate.actor(body)
        trigger_id = str(body.get("trigger_id", ""))
        self.background.spawn(self._open_settings(client, actor, trigger_id), what="views.open")

    async def _open_settings(self, client: AsyncWebClient, actor: Actor, trigger_id: str) -> None:
        form = await self.runner.start(self.core.settings_form, actor)
        try:
            await client.views_open(trigger_id=trigger_id, view=render.build_modal(form, private_metadata={}))
        except SlackApiError as failure:
            logger.warning("views.open failed: %s", failure.response.get("error"))

    async def submit(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        """A submitted form: errors go back onto the fields; success closes it and DMs the reply."""
        submission = translate.submission(body)
        future = self.runner.start(self.core.submit, submission)
        try:
            outcome = await self.runner.within_budget(future)
        except Exception:
            logger.exception("form %s failed", submission.kind)
            # Keep the form open with what was typed, so trying again is one click.
            if submission.kind == SETTINGS_FORM:
                first = "hours"
            else:
                first = self.core.form("visit" if submission.kind == VISIT_FORM else "promise").fields[0].id
            await ack(response_action="errors", errors={first: FORM_FAILED})
            return
        if outcome is not None and outcome.errors:
            await ack(response_action="errors", errors=outcome.errors)
            return
        await ack()
        self.background.spawn(self._confirm_submission(future, client, submission.actor), what="form")

    async def _confirm_submission(
        self, future: asyncio.Future[FormOutcome], client: AsyncWebClient, actor: Actor
    ) -> None:
        try:
            outcome = await future
        except Exception:
            logger.exception("a form failed after the ack")
            await self._direct_message(client, actor.user, FAILED)
            return
        if outcome.reply is not None:
            await self._direct_message(client, actor.user, outcome.reply)
        if not outcome.errors:
            self._refresh_home(client, actor)

    async def _direct_message(self, client: AsyncWebClient, user: str, reply: Reply) -> None:
        try:
            await client.chat_postMessage(channel=user, **render.build_message(reply))
        except SlackApiError as failure:
            logger.warning("could not DM %s: %s", user, failure.response.get("error"))

    async def message(self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        """A file sent to the bot in its DM: a client list to import, read after the event is acknowledged."""
        if event.get("channel_type") != "im" or event.get("bot_id") or not event.get("user"):
            return
        actor = Actor(workspace=str(body.get("team_id", "")), user=str(event["user"]))
        if event.get("subtype") is None:
            # Words typed in the DM: the bot answers slash commands, so say which.
            self.background.spawn(self._direct_message(client, actor.user, DM_HINT), what="DM hint")
            return
        files = [f for f in event.get("files") or [] if isinstance(f, dict)]
        if event.get("subtype") != "file_share" or not files:
            return
        request_key = f"event:{body.get('event_id')}" if body.get("event_id") else None
        said = str(event.get("text") or "")
        self.background.spawn(
            self._import_sent_file(client, actor, files[0], said, request_key), what="client list import"
        )

    async def _import_sent_file(
        self, client: AsyncWebClient, actor: Actor, file: dict[str, Any], said: str, request_key: str | None
    ) -> None:
        name = str(file.get("name") or "file")
        # Not a CSV: the core refuses it by its name, so its bytes are never fetched.
        data = await self._download(client, file) if name.lower().endswith(CSV_SUFFIXES) else b""
        if data is None:
            await self._direct_message(client, actor.user, FILE_UNREADABLE)
            return
        future = self.runner.start(
            lambda: self.core.import_file(actor, request_key, filename=name, data=data, said=said)
        )
        try:
            reply = await future
        except Exception:
            logger.exception("a client list import failed")
            reply = FAILED
        await self._direct_message(client, actor.user, reply)

    async def _download(self, client: AsyncWebClient, file: dict[str, Any]) -> bytes | None:
        """A shared file's bytes, fetched with the bot's token from Slack's file host only."""
        url = str(file.get("url_private_download") or file.get("url_private") or "")
        if not _slack_file_url(url, self.core.services.settings.slack_api_url):
            logger.warning("a shared file's URL is not on Slack's file host; not fetched")
            return None
        if int(file.get("size") or 0) > MAX_SHARED_FILE_BYTES:
            return None
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WEB_TIMEOUT_S)) as http,
                http.get(url, headers={"Authorization": f"Bearer {client.token}"}) as response,
            ):
                # Without files:read (or with a wrong token) Slack answers with its sign-in page.
                if response.status != 200 or response.content_type == "text/html":
                    logger.warning(
                        "could not fetch a shared file: HTTP %s, %s", response.status, response.content_type
                    )
                    return None
                data = await response.content.read(MAX_SHARED_FILE_BYTES + 1)
        except (aiohttp.ClientError, OSError, TimeoutError) as failure:
            logger.warning("could not fetch a shared file: %s", type(failure).__name__)
            return None
        return data if len(data) <= MAX_SHARED_FILE_BYTES else None

    async def home_opened(self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        """Publish App Home (the technician's open items) after the event is acknowledged."""
        if event.get("tab", "home") != "home":
            return
        actor = Actor(workspace=str(body.get("team_id", "")), user=str(event.get("user", "")))
        self.home_viewers.add(actor)
        self._refresh_home(client, actor)
        self.background.spawn(self._check_profile(client, actor), what="profile check")

    async def _check_profile(self, client: AsyncWebClient, actor: Actor) -> None:
        if await self.runner.start(self.core.needs_profile, actor):
            self.profiles.schedule(client, actor)

    def _changed(self, client: AsyncWebClient, actor: Actor, reply: Reply) -> None:
        """After a command or a button on a message: the person's Home, unless nothing changed.

        The Home tab is not on screen while someone types a command or answers a DM (and opening it
        publishes it afresh), so these refreshes wait `settle_s` and a burst of changes costs one; and
        only people who look at their Home get them.
        """
        # Someone who has not opened their Home (since this process started) gets it fresh when they do.
        if reply.tone != "error" and actor in self.home_viewers:
            self._refresh_home(client, actor, settle=True)

    def _refresh_home(
        self, client: AsyncWebClient, actor: Actor, notice: Reply | None = None, *, settle: bool = False
    ) -> None:
        """Republish the person's App Home in the background; one already under way goes once more."""
        if not actor.user:
            return
        if notice is not None:
            self.notices[actor] = notice
        if not settle:
            # Someone looking at their Home: a refresh that is settling goes now.
            self.urgent.setdefault(actor, asyncio.Event()).set()
        if actor in self.refreshing:
            self.stale.add(actor)
            return
        self.refreshing.add(actor)
        self.background.spawn(self._republish(client, actor, settle), what="App Home")

    async def _republish(self, client: AsyncWebClient, actor: Actor, settle: bool) -> None:
        try:
            if settle:
                urgent = self.urgent.setdefault(actor, asyncio.Event())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(urgent.wait(), self.settle_s)
            # On someone's first command their profile is being fetched: wait, so times are in their zone.
            await self.profiles.settled(actor, timeout=PROFILE_WAIT_S)
            while True:
                # Anything changed from here on is published by the next round, not lost.
                self.stale.discard(actor)
                self.urgent.pop(actor, None)
                await self._publish_home(client, actor, self.notices.pop(actor, None))
                if actor not in self.stale:
                    return
        finally:
            self.refreshing.discard(actor)
            self.stale.discard(actor)
            self.urgent.pop(actor, None)

    async def _publish_home(self, client: AsyncWebClient, actor: Actor, notice: Reply | None = None) -> None:
        reply = await self.runner.start(self.core.home, actor, notice)
        try:
            await client.views_publish(user_id=actor.user, view=render.build_home(reply))
        except SlackApiError as failure:
            logger.warning("views.publish failed: %s", failure.response.get("error"))


def _slack_file_url(url: str, api_url: str) -> bool:
    """Whether a file URL is Slack's file host (or, in tests and the sandbox, the stand-in's)."""
    found, api = urlsplit(url), urlsplit(api_url)
    if found.scheme == "https" and found.hostname == SLACK_FILE_HOST:
        return True
    return api.hostname not in (None, "slack.com") and (found.scheme, found.netloc) == (
        api.scheme,
        api.netloc,
    )


def register(app: AsyncApp, listeners: SlackListeners) -> None:
    """Every command, action, view and event Nudgebot answers."""
    app.command("/visit")(listeners.command)
    app.command("/promise")(listeners.command)
    # Before the generic one: Bolt runs the first listener that matches.
    app.action(SETTINGS_BUTTON)(listeners.open_settings)
    app.action(ACTION_IDS)(listeners.action)
    app.view("visit.log")(listeners.submit)
    app.view("promise.add")(listeners.submit)
    app.view(SETTINGS_FORM)(listeners.submit)
    app.event("app_home_opened")(listeners.home_opened)
    app.event("message")(listeners.message)
