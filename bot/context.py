"""The state one request works in: its session, who is asking, their time zone and `now`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.links import Links
from bot.people import PLATFORM_NAMES, SHARES_FILES, SLACK, Conversation
from bot.replies import Reply, error
from storage.models import Client, Technician


@dataclass(frozen=True)
class Context:
    """A request's view of the world, valid inside one transaction."""

    session: Session
    workspace_id: int
    technician: Technician
    tz: ZoneInfo
    tz_known: bool
    now: datetime
    # True for the configured managers (MANAGER_IDS): they may see team data.
    is_manager: bool = False
    # Clients the command text could name, loaded once by match key.
    clients: dict[str, Client] = field(default_factory=dict)
    # The chat platform the request came from, and the conversation it was written in (Teams).
    platform: str = SLACK
    conversation: Conversation | None = None
    # Makes the one-click links in clients' e-mails; None without PUBLIC_URL (the e-mails carry none).
    links: Links | None = None

    @property
    def platform_name(self) -> str:
        """The platform as replies name it: "Slack", "Teams"."""
        return PLATFORM_NAMES.get(self.platform, self.platform)

    @property
    def shares_files(self) -> bool:
        """True where the bot can send a file with its answer (Slack); on Teams the text is the answer."""
        return self.platform in SHARES_FILES

    @property
    def direct_chat(self) -> str:
        """How replies name the person's direct chat with the bot: "your DMs", "our chat"."""
        return "your DMs" if self.platform == SLACK else "our chat"


class Refused(Exception):
    """The request changes nothing: the transaction is rolled back and `reply` says why."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.summary)
        self.reply = reply


# The largest id a button may carry: beyond a database integer SQLite raises OverflowError and
# PostgreSQL an error.
MAX_ID = 2**31 - 1


def button_number(text: str, out_of_date: str = "That button is out of date.") -> int:
    """The id a button's value carries, or a refusal saying the button is out of date."""
    try:
        number = int(text)
    except ValueError:
        raise Refused(error(out_of_date)) from None
    if abs(number) > MAX_ID:
        raise Refused(error(out_of_date))
    return number


def require_manager(ctx: Context, what: str) -> None:
    """Refuse, saying how to become one, unless the asker is a manager (MANAGER_IDS)."""
    if not ctx.is_manager:
        raise Refused(
            error(
                f"Only managers can {what}: whoever runs Nudgebot lists them in the MANAGER_IDS setting, "
                "and can add you like this.",
                f"MANAGER_IDS={ctx.technician.user_id}",
            )
        )
