"""The dependencies the core and the adapters are handed: settings, sessions and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.settings import Settings

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock; everything else takes the clock as a parameter."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Services:
    """What a request or a job needs, built once by the composition root.

    `clock` says what instant the rules are asked about: what is due, and when things happen. Leases,
    rate-limit gates and retention run on real elapsed time instead (`real_now`), so a job run as of
    another instant (`run-once --at`, the sandbox's clock) can't take a live worker's nudges or purge
    fresh replay keys. Without a `real_clock`, both are `clock`.
    """

    settings: Settings
    sessions: sessionmaker[Session]
    clock: Clock = utc_now
    real_clock: Clock | None = None

    def real_now(self) -> datetime:
        """The wall clock's instant (the as-of clock's when no separate one is given)."""
        return (self.real_clock or self.clock)()
