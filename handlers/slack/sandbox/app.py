"""The sandbox: the real bot, the Slack stand-in it talks to, and the page to try it in, in one process.

`build_sandbox` makes the pieces; `routes` are the page's, mounted beside the bot's own on one server
on 127.0.0.1: the page (`/`), its state and HTML fragments (`/sandbox/…`), an event stream that says
what changed, and the person's actions, which `SlackSide` turns into signed requests to `/slack/events`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from bot.hours import WorkingHours
from bot.notify import Notifier
from bot.services import Services, utc_now
from bot.settings import LogLevel, Settings
from bot.wiring import build_services
from handlers.slack.profiles import ProfileFetcher
from handlers.slack.sandbox import views
from handlers.slack.sandbox.clock import SandboxClock, next_digest, next_working_morning
from handlers.slack.sandbox.slack_side import SlackSide
from handlers.slack.sandbox.workspace import MANAGERS, MANAGERS_NAME, PEOPLE, Workspace
from handlers.slack.standin import SlackStandIn
from jobs.scheduler import run_once
from jobs.sender import SendReport
from storage.repositories import latest_activity

logger = logging.getLogger(__name__)

STATIC = resources.files("handlers.slack.sandbox") / "static"
DATABASE = "sqlite:///sandbox.db"
# How far "+4 working hours" moves the clock, counted in the viewer's working hours.
WORKING_STEP = timedelta(hours=4)
KEEP_ALIVE_S = 15.0
# How often an idle event stream looks whether the sandbox is stopping.
POLL_S = 0.5
RESUME_AFTER = timedelta(minutes=1)
# How long a clock move waits for the profiles the bot is still fetching (the stand-in answers at once).
PROFILES_WAIT_S = 5.0
JSON_ONLY = JSONResponse({"error": "send JSON"}, status_code=415)


@dataclass
class Sandbox:
    """Everything the sandbox runs: the stand-in, the workspace it feeds, the clock, the bot's services."""

    standin: SlackStandIn
    workspace: Workspace
    clock: SandboxClock
    services: Services
    signing_secret: str
    token: str
    slack: SlackSide | None = None
    notifier: Notifier | None = None
    profiles: ProfileFetcher | None = None
    # What loads the demo company, and the scheduler it pauses meanwhile (set by the runner).
    demo: Callable[[], Awaitable[str]] | None = None
    scheduler: Any = None
    # The HTTP server (uvicorn) once serving: the event streams end when it stops.
    server: Any = None
    # Held by each scheduler job, and by whoever moves the clock: the clock never moves mid-job, and a
    # move's report counts everything its run sent.
    jobs_lock: threading.Lock = field(default_factory=threading.Lock)

    def close(self) -> None:
        """Stop the stand-in and close the database's connections (once the server has stopped)."""
        self.standin.stop()
        self.services.sessions.kw["bind"].dispose()

    @property
    def stopping(self) -> bool:
        """Whether the server has been told to stop."""
        return bool(self.server is not None and self.server.should_exit)

    def connect(self, bot_url: str, notifier: Notifier, profiles: ProfileFetcher) -> None:
        """Point the Slack side at the bot's `/slack/events`; give the jobs their notifier, and the clock
        the bot's profile fetches to wait for."""
        self.slack = SlackSide(
            self.workspace,
            events_url=f"{bot_url}/slack/events",
            respond_url=f"http://127.0.0.1:{self.standin.port}/respond",
            signing_secret=self.signing_secret,
        )
        self.notifier = notifier
        self.profiles = profiles

    # -- the clock ---------------------------------------------------------------------------------------

    def target(self, viewer: str, to: str) -> datetime:
        """Where "+4 working hours", "next working morning", "next digest" or an instant moves the clock."""
        now, tz = self.clock(), self.workspace.tz(viewer)
        if to == "4h":
            return WorkingHours(tz).add(now, WORKING_STEP)
        if to == "morning":
            return next_working_morning(now, tz)
        if to == "digest":
            settings = self.services.settings
            return next_digest(now, settings.digest_schedule, ZoneInfo(settings.digest_zone))
        moment = datetime.fromisoformat(to)
        return moment if moment.tzinfo else moment.replace(tzinfo=tz)

    async def advance(self, moment: datetime) -> SendReport:
        """Move the clock to `moment` and run every job as of then (the code of `jobs run-once --at`)."""
        async with self.holding_jobs():
            return await self.run_jobs_at(moment)

    @contextlib.asynccontextmanager
    async def holding_jobs(self) -> AsyncIterator[None]:
        """Hold `jobs_lock` (waiting for a running job off the event loop)."""
        await asyncio.to_thread(self.jobs_lock.acquire)
        try:
            yield
        finally:
            self.jobs_lock.release()

    async def run_jobs_at(self, moment: datetime) -> SendReport:
        """Set the clock and run the jobs as of then; the caller holds `jobs_lock`."""
        assert self.notifier is not None
        assert self.profiles is not None
        # A person's first command fetches their profile (their time zone) after the ack. In a workspace
        # minutes pass before the next job; here the jobs could run at once, in the wrong working hours.
        await self.profiles.quiet(timeout=PROFILES_WAIT_S)
        self.clock.set(moment)
        self.workspace.changed({"type": "clock"})
        return await asyncio.to_thread(run_once, self.services, self.notifier)


def build_sandbox(*, database_url: str = DATABASE, port: int = 3000, log_level: LogLevel = "INFO") -> Sandbox:
    """The stand-in (started, on a free loopback port), the workspace, and the bot's settings and services.

    The bot's settings are made here, never read from `.env` or the environment's chat settings: a fresh
    token and signing secret for each run, Slack's Web API at the stand-in, the sandbox's own database.
    """
    token, secret = f"xoxb-sandbox-{secrets.token_hex(12)}", secrets.token_hex(16)
    standin = SlackStandIn(valid_tokens={token})
    for person in PEOPLE:
        standin.add_user(
            person.id,
            real_name=person.name,
            display_name=person.name.split()[0],
            tz=person.tz,
            email=person.email,
        )
    standin.start()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        slack_bot_token=SecretStr(token),
        slack_signing_secret=SecretStr(secret),
        slack_app_token=None,
        slack_api_url=standin.base_url,
        teams_app_id=None,
        teams_app_password=None,
        teams_tenant_id=None,
        teams_local_playground=False,
        database_url=database_url,
        host="127.0.0.1",
        port=port,
        run_jobs=True,
        auto_migrate=True,
        digest_channel=MANAGERS,
        # The digest's week and times are the manager's.
        digest_timezone=next(person.tz for person in PEOPLE if person.manager),
        manager_ids=",".join(person.id for person in PEOPLE if person.manager),
        log_level=log_level,
        # Links in drafted e-mails point at the sandbox itself (set when its port is known); the secret
        # is made per run, so a link from an earlier run says it isn't valid.
        link_secret=SecretStr(secrets.token_urlsafe(24)),
    )
    clock = SandboxClock()
    services = replace(build_services(settings, migrate=True), clock=clock, real_clock=utc_now)
    with services.sessions() as session:
        latest = latest_activity(session)
    if latest is not None and latest > clock():
        # A sandbox played forward last time starts where it stopped, not before its own past.
        clock.set(latest + RESUME_AFTER)
    workspace = Workspace(clock, standin.shared_files)
    standin.observe(workspace.observe)
    return Sandbox(standin, workspace, clock, services, secret, token)


# -- the page's routes -----------------------------------------------------------------------------------


def _viewer(sandbox: Sandbox, request: Request, body: dict[str, Any] | None = None) -> str:
    user = (body or {}).get("as") or request.query_params.get("as") or PEOPLE[0].id
    return str(user) if str(user) in sandbox.workspace.people else PEOPLE[0].id


async def _json_body(request: Request) -> dict[str, Any] | None:
    # Only JSON is taken, so a page elsewhere can't post here without the browser asking first (CORS).
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return None
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def routes(sandbox: Sandbox) -> list[Route]:
    """The page and what it asks the sandbox."""
    workspace = sandbox.workspace

    async def page(_: Request) -> Response:
        return HTMLResponse((STATIC / "index.html").read_text(encoding="utf-8"))

    async def static(request: Request) -> Response:
        name = Path(request.path_params["name"]).name
        types = {".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml"}
        asset = STATIC / name
        if not asset.is_file() or Path(name).suffix not in types:
            return Response(status_code=404)
        return Response(asset.read_bytes(), media_type=types[Path(name).suffix])

    async def state(request: Request) -> Response:
        viewer = _viewer(sandbox, request)
        me = workspace.person(viewer)
        now = sandbox.clock()
        return JSONResponse(
            {
                "me": viewer,
                "people": [
                    {"id": p.id, "name": p.name, "tz": p.tz, "role": p.role, "manager": p.manager}
                    for p in workspace.people.values()
                ],
                "conversations": [
                    {"id": workspace.dm(viewer), "name": "Nudgebot", "kind": "dm"},
                    {"id": MANAGERS, "name": f"#{MANAGERS_NAME}", "kind": "channel"},
                ],
                "clock": {
                    "iso": now.isoformat(),
                    "label": views.clock_label(now, ZoneInfo(me.tz)),
                    "zone": me.tz,
                },
                "digest": sandbox.services.settings.digest_schedule,
            }
        )

    async def conversation(request: Request) -> Response:
        viewer = _viewer(sandbox, request)
        channel = request.path_params["channel"]
        if not workspace.may_see(viewer, channel):
            return JSONResponse({"error": "not your conversation"}, status_code=403)
        return JSONResponse({"messages": views.conversation_items(workspace, channel, viewer)})

    async def home(request: Request) -> Response:
        return JSONResponse({"html": views.home_html(workspace, _viewer(sandbox, request))})

    async def modal(request: Request) -> Response:
        viewer = _viewer(sandbox, request)
        shown = workspace.modal(viewer)
        if shown is None:
            return JSONResponse({"html": None})
        return JSONResponse({"html": views.modal_html(shown, workspace, viewer)})

    async def files(request: Request) -> Response:
        shared = workspace.files.get(request.path_params["file_id"])
        if shared is None:
            return Response(status_code=404)
        media = "image/png" if shared.filename.lower().endswith(".png") else "text/plain; charset=utf-8"
        how = "attachment" if request.query_params.get("download") else "inline"
        headers = {"Content-Disposition": f'{how}; filename="{shared.filename}"'}
        return Response(shared.content, media_type=media, headers=headers)

    async def act(request: Request) -> Response:
        body = await _json_body(request)
        if body is None or sandbox.slack is None:
            return JSON_ONLY
        viewer = _viewer(sandbox, request, body)
        kind = body.get("kind")
        if kind == "command":
            channel = str(body.get("channel") or workspace.dm(viewer))
            if not workspace.may_see(viewer, channel):
                return JSONResponse({"error": "not your conversation"}, status_code=403)
            await sandbox.slack.command(viewer, channel, str(body.get("text") or ""))
        elif kind == "press":
            action = {key: str(value) for key, value in (body.get("action") or {}).items()}
            message_id = body.get("message")
            surface = str(body.get("surface") or "message")
            await sandbox.slack.press(
                viewer, action, message_id=str(message_id) if message_id else None, surface=surface
            )
        elif kind == "submit":
            errors = await sandbox.slack.submit(viewer, body.get("values") or {})
            return JSONResponse({"ok": not errors, "errors": errors})
        elif kind == "close":
            workspace.close_modal(viewer, all_views=False)
        elif kind == "home":
            await sandbox.slack.open_home(viewer)
        else:
            return JSONResponse({"error": f"unknown action {kind!r}"}, status_code=400)
        return JSONResponse({"ok": True})

    async def clock(request: Request) -> Response:
        body = await _json_body(request)
        if body is None:
            return JSON_ONLY
        viewer = _viewer(sandbox, request, body)
        now, tz = sandbox.clock(), workspace.tz(viewer)
        tomorrow = (now + timedelta(days=1)).astimezone(tz).strftime("%Y-%m-%dT09:00")
        try:
            moment = sandbox.target(viewer, str(body.get("to") or ""))
        except ValueError:
            return JSONResponse(
                {"error": f"Move the clock to 4h, morning, digest, or a date and time like {tomorrow}"},
                status_code=400,
            )
        if moment <= now:
            said = views.clock_label(now, tz)
            return JSONResponse(
                {"error": f"The sandbox's clock only moves forward: it is {said}. Try {tomorrow}."},
                status_code=400,
            )
        report = await sandbox.advance(moment)
        return JSONResponse({"ok": True, "iso": moment.isoformat(), "sent": report.sent})

    async def demo(request: Request) -> Response:
        if await _json_body(request) is None:
            return JSON_ONLY
        if sandbox.demo is None:
            return JSONResponse({"error": "no demo data here"}, status_code=404)
        said = await sandbox.demo()
        return JSONResponse({"ok": True, "said": said})

    async def events(request: Request) -> Response:
        queue: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def tell(event: dict[str, str]) -> None:
            # Called from the stand-in's threads: the queue belongs to this request's loop.
            loop.call_soon_threadsafe(queue.put_nowait, event)

        stop = workspace.subscribe(tell)

        async def stream() -> AsyncIterator[str]:
            try:
                yield "retry: 1000\n\n"
                quiet = 0.0
                while not sandbox.stopping:
                    try:
                        event = await asyncio.wait_for(queue.get(), POLL_S)
                    except TimeoutError:
                        quiet += POLL_S
                        if quiet >= KEEP_ALIVE_S:
                            quiet = 0.0
                            yield ": still here\n\n"
                        continue
                    quiet = 0.0
                    yield f"data: {json.dumps(event)}\n\n"
            finally:
                stop()

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
        )

    return [
        Route("/", page, methods=["GET"]),
        Route("/sandbox/static/{name}", static, methods=["GET"]),
        Route("/sandbox/state", state, methods=["GET"]),
        Route("/sandbox/conversation/{channel}", conversation, methods=["GET"]),
        Route("/sandbox/home", home, methods=["GET"]),
        Route("/sandbox/modal", modal, methods=["GET"]),
        Route("/sandbox/files/{file_id}", files, methods=["GET"]),
        Route("/sandbox/act", act, methods=["POST"]),
        Route("/sandbox/clock", clock, methods=["POST"]),
        Route("/sandbox/demo", demo, methods=["POST"]),
        Route("/sandbox/events", events, methods=["GET"]),
    ]
