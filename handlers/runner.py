"""Runs the (blocking) core off the event loop, and tells the listener when the ack can't wait any longer."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

logger = logging.getLogger(__name__)

# Slack shows an error after 3 s without an ack; leave room for the network (Teams waits about 15 s).
ACK_BUDGET_S = 2.0


class CoreRunner:
    """A small pool of our own for core calls, so database waits never block the event loop."""

    def __init__(self, *, workers: int = 4, budget_s: float = ACK_BUDGET_S) -> None:
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="core")
        self.budget_s = budget_s

    def start(self, func: Callable[..., T], *args: object) -> asyncio.Future[T]:
        """Start `func(*args)` on the pool; the result is awaited with `within_budget` or plainly."""
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        return loop.run_in_executor(self.executor, lambda: context.run(func, *args))

    async def within_budget(self, future: asyncio.Future[T], budget_s: float | None = None) -> T | None:
        """The result if it is ready within the ack budget (or `budget_s`), else None (and the work carries
        on)."""
        try:
            return await asyncio.wait_for(asyncio.shield(future), budget_s or self.budget_s)
        except TimeoutError:
            return None

    def shutdown(self) -> None:
        """Finish what is running and stop."""
        self.executor.shutdown(wait=True)


class Background:
    """Tasks that run after the ack (Web API calls, late replies); kept referenced and their errors logged."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, None], *, what: str) -> None:
        """Run `work` without holding up the HTTP response."""
        task = asyncio.create_task(self._guarded(work, what))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _guarded(self, work: Coroutine[Any, Any, None], what: str) -> None:
        try:
            await work
        except Exception:
            logger.exception("%s failed after the ack", what)

    async def drain(self) -> None:
        """Wait for every running task (tests, and a clean shutdown)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)
