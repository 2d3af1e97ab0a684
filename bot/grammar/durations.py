"""Time spent: `1h30`, `90m`, `1.5h`, `1:30`, `2 hours`."""

from __future__ import annotations

import re

MAX_MINUTES = 24 * 60

_HOURS_MINUTES = re.compile(r"^(\d{1,2})\s*h(?:rs?|ours?)?\s*(\d{1,2})\s*(?:m|min|mins|minutes?)?$")
_HOURS = re.compile(r"^(\d{1,2}(?:[.,]\d{1,2})?)\s*(?:h|hr|hrs|hour|hours)$")
_MINUTES = re.compile(r"^(\d{1,4})\s*(?:m|min|mins|minute|minutes)$")
_CLOCK = re.compile(r"^(\d{1,2}):([0-5]\d)$")


def parse_duration(text: str) -> int | None:
    """Minutes in `text`, or None when it is not a duration (or not a sensible one: 1 minute to 24 hours)."""
    text = text.strip().lower()
    minutes: float | None = None
    if match := _HOURS_MINUTES.match(text):
        if int(match[2]) < 60:
            minutes = int(match[1]) * 60 + int(match[2])
    elif match := _HOURS.match(text):
        minutes = float(match[1].replace(",", ".")) * 60
    elif match := _MINUTES.match(text):
        minutes = int(match[1])
    elif match := _CLOCK.match(text):
        minutes = int(match[1]) * 60 + int(match[2])
    if minutes is None:
        return None
    rounded = round(minutes)
    return rounded if 1 <= rounded <= MAX_MINUTES else None


def format_duration(minutes: int) -> str:
    """`1h30`, `45m`, `2h`: how a technician writes it."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest}m"
    return f"{hours}h{rest:02d}" if rest else f"{hours}h"
