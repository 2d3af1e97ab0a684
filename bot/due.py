"""A reminder that has come due: the rules in `bot.nudges` and beside each habit return one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Due:
    """A reminder that is due now: about what, for which occurrence, and when its slot began."""

    subject: str
    kind: str
    period: str
    slot: datetime
