"""Helpers for tests that plan and send reminders: local instants, the jobs run by hand, the DMs received."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services import Services
from bot.wiring import build_notifier
from handlers.slack.standin import RecordedRequest, SlackStandIn
from jobs.scheduler import plan_nudges, run_once, send_nudges
from jobs.sender import Pacer, SendReport
from storage.models import Nudge
from tests.handlers.slack.support import wait_for_profile
from tests.harness import SlackClient, text_of

CHICAGO = ZoneInfo("America/Chicago")
BERLIN = ZoneInfo("Europe/Berlin")


def local(tz: ZoneInfo, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock time in 2026 in `tz`, as a UTC instant."""
    return datetime(2026, month, day, hour, minute, tzinfo=tz).astimezone(UTC)


def chicago(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Ana's wall clock."""
    return local(CHICAGO, month, day, hour, minute)


def introduce(slack: SlackClient, session: Session, user: str = "U111") -> None:
    """Store a technician's time zone, as after their first command."""
    slack.command("help", user=user)
    wait_for_profile(session, user)


class Jobs:
    """The scheduler's jobs, run by hand at chosen instants, delivering to the fake Slack."""

    def __init__(self, services: Services, fake: SlackStandIn) -> None:
        self.services = services
        self.fake = fake
        self.notifier = build_notifier(services.settings)

    def _at(self, at: datetime) -> Services:
        return replace(self.services, clock=lambda: at)

    def run(self, at: datetime) -> SendReport:
        """Every job once, as `python -m jobs run-once --at` does."""
        return run_once(self.services, self.notifier, at=at)

    def plan(self, at: datetime) -> int:
        """Only the planners."""
        return plan_nudges(self._at(at))

    def send(self, at: datetime) -> SendReport:
        """Only the sender."""
        return send_nudges(self._at(at), self.notifier, Pacer())

    def dms(self, user: str | None = None) -> list[RecordedRequest]:
        """The DMs Slack received (to one user, if given), oldest first."""
        calls = self.fake.calls("chat.postMessage")
        return [call for call in calls if user is None or call.params["channel"] == user]

    def texts(self, user: str | None = None) -> list[str]:
        """Each DM's notification text, oldest first."""
        return [str(call.params["text"]) for call in self.dms(user)]


def shown(message: dict[str, Any]) -> list[str]:
    """The lines a message shows, block by block."""
    return text_of(message).split("\n")


def sent_at(session: Session) -> list[tuple[str, datetime | None]]:
    """When each nudge was sent (None: it was not), by period, in the order planned."""
    rows = session.scalars(select(Nudge).order_by(Nudge.id))
    return [(row.period, row.sent_at) for row in rows]


def outbox(session: Session) -> list[tuple[str, str, str, str]]:
    """Every nudge as (subject, kind, period, status), in the order planned."""
    rows = session.scalars(select(Nudge).order_by(Nudge.id))
    return [(row.subject, row.kind, row.period, row.status.value) for row in rows]
