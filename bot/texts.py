"""How times, windows and people are written in replies."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo


def _clock(moment: datetime) -> str:
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    return f"{hour}{suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d}{suffix}"


def time_of_day(at: time) -> str:
    """`8am`, `7:30am`, `4pm`."""
    return _clock(datetime.combine(date.min, at))


def day(moment: datetime, tz: ZoneInfo, *, now: datetime | None = None) -> str:
    """`Fri 27 Nov` (with the year when it is not this year's)."""
    local = moment.astimezone(tz)
    text = f"{local:%a} {local.day} {local:%b}"
    if now is not None and local.year != now.astimezone(tz).year:
        text += f" {local.year}"
    return text


def window(start: datetime, end: datetime, tz: ZoneInfo, *, now: datetime | None = None) -> str:
    """`Fri 27 Nov, 8–9am`."""
    first, last = start.astimezone(tz), end.astimezone(tz)
    left, right = _clock(first), _clock(last)
    if left[-2:] == right[-2:]:
        left = left[:-2]
    return f"{day(start, tz, now=now)}, {left}–{right}"


def due(moment: datetime, tz: ZoneInfo, *, now: datetime | None = None) -> str:
    """`Fri 27 Nov` for an end-of-day due date, `Fri 27 Nov, 5pm` when a time was given."""
    local = moment.astimezone(tz)
    if (local.hour, local.minute) == (23, 59):
        return day(moment, tz, now=now)
    return f"{day(moment, tz, now=now)}, {_clock(local)}"


def minutes_span(start: datetime, end: datetime) -> int:
    """Whole minutes between two instants."""
    # Datetimes sharing a zone subtract wall-clock time; across a DST change only UTC gives real time.
    return int((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() // 60)


def hours_phrase(minutes: int) -> str:
    """`4 hours`, `1 hour 30 minutes`, `90 minutes` read aloud."""
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour" + ("s" if hours != 1 else ""))
    if rest:
        parts.append(f"{rest} minute" + ("s" if rest != 1 else ""))
    return " ".join(parts) or "0 minutes"
