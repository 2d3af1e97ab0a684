"""Runs the (blocking) core off the event loop, and tells the listener when the ack can't wait any longer."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

# Slack shows an error after 3 s without an ack; leave room for the network and Bolt's 10 ms ack polling.
ACK_BUDGET_S = 2.0


class CoreRunner:
    """A small pool of our own for core calls, so database waits never block the event loop."""

    def __init__(self, *, workers: int = 8, budget_s: float = ACK_BUDGET_S) -> None:
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="core")
        self.budget_s = budget_s

    def start(self, func: Callable[..., T], *args: object) -> asyncio.Future[T]:
        """Start `func(*args)` on the pool; the result is awaited with `within_budget` or plainly."""
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        return loop.run_in_executor(self.executor, lambda: context.run(func, *args))

    async def within_budget(self, future: asyncio.Future[T]) -> T | None:
        """The result if it is ready within the ack budget, else None (and the work carries on)."""
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.budget_s)
        except TimeoutError:
            return None

    def shutdown(self) -> None:
        """Finish what is running and stop."""
        self.executor.shutdown(wait=True)
