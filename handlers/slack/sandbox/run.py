"""`python -m bot sandbox`: the sandbox served on 127.0.0.1, its scheduler running, until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import sys

import uvicorn

from bot.settings import LogLevel, SettingsError
from bot.wiring import build_notifier
from handlers.front import build_front, make_server, run_front
from handlers.slack.sandbox.app import DATABASE, Sandbox, build_sandbox, routes
from handlers.slack.sandbox.demo import load_demo
from jobs.scheduler import build_scheduler

logger = logging.getLogger(__name__)
SHUTDOWN_GRACE_S = 2


async def serve(
    sandbox: Sandbox,
    *,
    demo: bool = False,
    announce: str | None = None,
    server: uvicorn.Server | None = None,
    sockets: list[socket.socket] | None = None,
) -> None:
    """Serve the bot and the page on one port, with the scheduler, until the server stops."""
    settings = sandbox.services.settings
    port = sockets[0].getsockname()[1] if sockets else settings.port
    # Clients' one-click links in the drafted e-mails open on this same page's server.
    settings.public_url = f"http://127.0.0.1:{port}"
    front = build_front(sandbox.services)
    front.web.router.routes.extend(routes(sandbox))
    notifier = build_notifier(settings)
    assert front.slack is not None
    sandbox.connect(f"http://127.0.0.1:{port}", notifier, front.slack.profiles)
    sandbox.demo = lambda: load_demo(sandbox)
    scheduler = build_scheduler(sandbox.services, notifier, lock=sandbox.jobs_lock)
    scheduler.start()
    sandbox.scheduler = scheduler
    server = server or make_server(front, settings)
    # The page's event streams never end by themselves: a stopping sandbox gives them a moment.
    server.config.timeout_graceful_shutdown = SHUTDOWN_GRACE_S
    sandbox.server = server
    if announce:
        sys.stderr.write(announce.format(url=f"http://127.0.0.1:{port}") + "\n")
    loading = asyncio.create_task(_load_when_up(sandbox, server)) if demo else None
    try:
        await run_front(front, settings, server=server, sockets=sockets)
    finally:
        if loading is not None:
            loading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loading
        scheduler.shutdown(wait=False)
        if sandbox.slack is not None:
            await sandbox.slack.close()


async def _load_when_up(sandbox: Sandbox, server: uvicorn.Server) -> None:
    while not server.started:
        await asyncio.sleep(0.05)
    assert sandbox.demo is not None
    logger.info("loading the demo company")
    try:
        said = await sandbox.demo()
    except Exception:
        # Stopped while loading: the bot is gone, so its requests fail; nothing to say.
        if not sandbox.stopping:
            logger.exception("the demo company could not be loaded")
        return
    logger.info("%s", said)


def main(*, port: int, database_url: str | None, demo: bool, announce: str, log_level: LogLevel) -> int:
    """Build the sandbox and serve it on 127.0.0.1 until stopped."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", port))
    except OSError as taken:
        listener.close()
        raise SettingsError(
            f"port {port} on 127.0.0.1 is not free ({taken.strerror}): start the sandbox with another, "
            f"for example --port {port + 1 if 0 < port < 65535 else 3001}"
        ) from None
    sandbox = build_sandbox(database_url=database_url or DATABASE, port=port, log_level=log_level)
    try:
        asyncio.run(serve(sandbox, demo=demo, announce=announce, sockets=[listener]))
    finally:
        listener.close()
        sandbox.close()
    return 0
