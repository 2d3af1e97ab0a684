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
    """What a request or a job needs, built once by the composition root."""

    settings: Settings
    sessions: sessionmaker[Session]
    clock: Clock = utc_now
