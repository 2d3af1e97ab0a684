"""Dates, arrival windows and working hours in the technician's time zone (dates read with dateparser)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dateparser

MAX_PHRASE = 60

# A phrase names a time of day (not just a day) when it has one of these.
_HAS_TIME = re.compile(
    r"\d{1,2}:\d{2}|\d\s*(?:am|pm|a\.m\.|p\.m\.)\b|\b(?:noon|midnight|tonight|hours?|minutes?|mins?)\b",
    re.IGNORECASE,
)
# dateparser reads a bare "2" as a month away; a day needs a letter or a written-out date.
_DATEISH = re.compile(r"[^\W\d_]|\d{1,4}[-/.]\d{1,2}")
# dateparser also reads the "5" of "Friday at 5" as May and drops the weekday, so a named weekday must
# agree with the date it returns.
_WEEKDAYS = {
    name: weekday
    for weekday, names in enumerate(
        [
            "mon monday",
            "tue tues tuesday",
            "wed wednesday",
            "thu thur thurs thursday",
            "fri friday",
            "sat saturday",
            "sun sunday",
        ]
    )
    for name in names.split()
}
_WEEKDAY = re.compile(r"\b(" + "|".join(sorted(_WEEKDAYS, key=len, reverse=True)) + r")\b", re.IGNORECASE)
# Years a local date can have and still be converted to UTC and back without overflowing.
_YEARS = range(2, 9999)

_RANGE = re.compile(
    r"(?:^|\s)(?:from\s+)?(?P<h1>\d{1,2})(?::(?P<m1>\d{2}))?\s*(?P<s1>am|pm)?"
    r"\s*(?:-|\u2013|\u2014|to|until|till)\s*"
    r"(?P<h2>\d{1,2})(?::(?P<m2>\d{2}))?\s*(?P<s2>am|pm)?$",
    re.IGNORECASE,
)
_SINGLE = re.compile(
    r"(?:^|\s)(?:at\s+)?(?P<h1>\d{1,2})(?:(?::(?P<m1>\d{2}))\s*(?P<s1a>am|pm)?|\s*(?P<s1b>am|pm))$",
    re.IGNORECASE,
)

DEFAULT_WINDOW = timedelta(hours=1)
MAX_WINDOW = timedelta(hours=12)


class WhenError(ValueError):
    """A date or window could not be read; the message says what to change."""


@dataclass(frozen=True)
class When:
    """A moment named by the technician; `has_time` is False for a plain day ("Friday")."""

    at: datetime
    has_time: bool

    def due(self) -> datetime:
        """The instant a due date means: the time given, or the end of that day ("by Friday")."""
        return self.at if self.has_time else end_of_day(self.at.date(), self.at.tzinfo)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Window:
    """An arrival window; `given_end` is False when only a start time was typed."""

    start: datetime
    end: datetime
    given_end: bool


def _local_base(now: datetime, tz: ZoneInfo) -> datetime:
    return now.astimezone(tz).replace(tzinfo=None)


# The days typed most often, read without dateparser, which takes about a millisecond a phrase: each
# means what dateparser makes of it (tests/bot/test_grammar_when.py compares them on every day of a week).
_PLAIN_WEEKDAYS = {
    name: weekday
    for weekday, names in enumerate(
        [
            "mon monday",
            "tue tuesday",
            "wed wednesday",
            "thu thursday",
            "fri friday",
            "sat saturday",
            "sun sunday",
        ]
    )
    for name in names.split()
}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _plain_day(phrase: str, today: date) -> date | None:
    """A weekday's name (the next one, a week on if it is today's), `today`, `tomorrow` or `2026-12-03`."""
    word = phrase.lower()
    if word in _PLAIN_WEEKDAYS:
        return today + timedelta(days=(_PLAIN_WEEKDAYS[word] - today.weekday() - 1) % 7 + 1)
    if word in ("today", "tomorrow"):
        return today + timedelta(days=word == "tomorrow")
    if _ISO_DATE.fullmatch(word):
        try:
            return date.fromisoformat(word)
        except ValueError:
            return None
    return None


def parse_day_or_moment(phrase: str, *, now: datetime, tz: ZoneInfo) -> When | None:
    """Read "Friday", "tomorrow 5pm", "in 3 days", "2026-12-03"; None when it is not a date."""
    phrase = phrase.strip()
    if not phrase or len(phrase) > MAX_PHRASE or not _DATEISH.search(phrase):
        return None
    plain = _plain_day(phrase, now.astimezone(tz).date())
    if plain is not None and plain.year in _YEARS:
        return When(at=datetime.combine(plain, time(), tzinfo=tz), has_time=False)
    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": _local_base(now, tz),
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    try:
        parsed = dateparser.parse(phrase, languages=["en"], settings=settings)
    except (ValueError, OverflowError, TypeError, KeyError, AttributeError, IndexError):
        # dateparser raises a variety of errors on odd input; for us any of them means "not a date".
        return None
    if parsed is None or parsed.year not in _YEARS:
        return None
    named = {_WEEKDAYS[name.lower()] for name in _WEEKDAY.findall(phrase)}
    if named and named != {parsed.weekday()}:
        return None
    has_time = bool(_HAS_TIME.search(phrase))
    moment = parsed if has_time else datetime.combine(parsed.date(), time())
    return When(at=moment.replace(tzinfo=tz), has_time=has_time)


def _to_24h(hour: int, suffix: str | None) -> int | None:
    if suffix is None:
        return hour if 0 <= hour <= 23 else None
    if not 1 <= hour <= 12:
        return None
    base = 0 if hour == 12 else hour
    return base + 12 if suffix == "pm" else base


def _other(suffix: str) -> str:
    return "am" if suffix == "pm" else "pm"


def _resolve_range(h1: int, h2: int, s1: str | None, s2: str | None) -> tuple[int, int] | None:
    """Hours of a typed range, reading "8-9am", "11-1pm", "8am-12" and "2-3" the way people mean them."""
    start: int | None
    end: int | None
    if s1 is None and s2 is None:
        start, end = h1, h2
        if 1 <= h1 < 7 and h2 <= 12:
            # Nobody books a 2-3 in the small hours: "2-3" is the afternoon.
            start, end = h1 + 12, (h2 + 12 if h2 != 12 else 12)
        elif end <= start and end < 12:
            end += 12
    elif s1 is None:
        assert s2 is not None
        end = _to_24h(h2, s2)
        start = _to_24h(h1, s2)
        if start is not None and end is not None and start > end:
            start = _to_24h(h1, _other(s2))
    else:
        start = _to_24h(h1, s1)
        end = _to_24h(h2, s2 or s1)
        if s2 is None and start is not None and end is not None and end <= start:
            end = _to_24h(h2, _other(s1))
    if start is None or end is None or start > 23 or end > 23:
        return None
    return start, end


def _minutes(text: str | None) -> int:
    value = int(text) if text else 0
    if value > 59:
        raise WhenError("minutes go up to 59")
    return value


def _day(phrase: str, *, now: datetime, tz: ZoneInfo) -> date:
    phrase = phrase.strip()
    if not phrase:
        return now.astimezone(tz).date()
    when = parse_day_or_moment(phrase, now=now, tz=tz)
    if when is None:
        raise WhenError(f"I can't tell which day “{phrase}” is")
    return when.at.date()


def _instant(day: date, hour: int, minute: int, tz: ZoneInfo) -> datetime:
    """A local time as an instant: a time the clocks skip moves on by the gap; a repeated one is the first."""
    return datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC).astimezone(tz)


def parse_window(phrase: str, *, now: datetime, tz: ZoneInfo) -> Window:
    """Read "Friday 8-9am", "tomorrow 14:00-15:30" or "2026-12-03 9am" (one hour from the start)."""
    phrase = " ".join(phrase.split())
    if match := _RANGE.search(phrase):
        hours = _resolve_range(
            int(match["h1"]),
            int(match["h2"]),
            (match["s1"] or "").lower() or None,
            (match["s2"] or "").lower() or None,
        )
        if hours is None:
            raise WhenError("that arrival window has an hour that doesn't exist")
        day = _day(phrase[: match.start()], now=now, tz=tz)
        first, last = (hours[0], _minutes(match["m1"])), (hours[1], _minutes(match["m2"]))
        if last <= first:
            raise WhenError("the window ends before it starts")
        start, end = _instant(day, *first, tz), _instant(day, *last, tz)
        given_end = True
    elif match := _SINGLE.search(phrase):
        suffix = (match["s1a"] or match["s1b"] or "").lower() or None
        hour = _to_24h(int(match["h1"]), suffix)
        if hour is None:
            raise WhenError("that start time has an hour that doesn't exist")
        day = _day(phrase[: match.start()], now=now, tz=tz)
        start = _instant(day, hour, _minutes(match["m1"]), tz)
        # Datetimes sharing a zone add and subtract wall-clock time; a DST change needs real time.
        end = (start.astimezone(UTC) + DEFAULT_WINDOW).astimezone(tz)
        given_end = False
    else:
        raise WhenError("I need a day and an arrival window")
    length = end.astimezone(UTC) - start.astimezone(UTC)
    if length <= timedelta(0):
        raise WhenError("that window falls in the hour the clocks skip")
    if length > MAX_WINDOW:
        raise WhenError("that window is longer than a working day")
    return Window(start=start, end=end, given_end=given_end)


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The last minute of a local day: what "by Friday" means."""
    return datetime.combine(day, time(23, 59), tzinfo=tz)


# Working hours: a time range at the start ("7-15", "7:30-16", "8am-6pm"), then the weekdays if any.
_HOURS = re.compile(
    r"^(?P<h1>\d{1,2})(?:[:.](?P<m1>\d{2}))?\s*(?P<s1>am|pm)?\s*(?:-|\u2013|\u2014|to)\s*"
    r"(?P<h2>\d{1,2})(?:[:.](?P<m2>\d{2}))?\s*(?P<s2>am|pm)?(?=\s|,|$)",
    re.IGNORECASE,
)
_DAY_RANGE = re.compile(r"\s*(?:-|\u2013|\u2014|\bto\b|\bthrough\b|\bthru\b)\s*", re.IGNORECASE)
_DAY_GROUPS = {
    "weekdays": frozenset(range(5)),
    "weekends": frozenset({5, 6}),
    "weekend": frozenset({5, 6}),
    "daily": frozenset(range(7)),
    "everyday": frozenset(range(7)),
}
MIN_WORKING_DAY = timedelta(hours=1)


@dataclass(frozen=True)
class Hours:
    """Working hours as typed: local start and end of the day, and the weekdays (None: not given)."""

    start: time | None
    end: time | None
    days: frozenset[int] | None


def _weekday(name: str) -> int | None:
    name = name.lower().rstrip(".")
    if name not in _WEEKDAYS and name.endswith("s"):
        name = name[:-1]  # "mondays"
    return _WEEKDAYS.get(name)


def parse_weekdays(phrase: str) -> frozenset[int]:
    """Read "mon-fri", "mon-sat", "mon, wed, fri", "sun-thu" (a range may wrap past Sunday), "weekdays"."""
    days: set[int] = set()
    text = _DAY_RANGE.sub("-", phrase.strip())
    for part in re.split(r"[\s,;&/+]+", text):
        if not part or part.lower() == "and":
            continue
        if part.lower() in _DAY_GROUPS:
            days |= _DAY_GROUPS[part.lower()]
            continue
        first, dash, last = part.partition("-")
        start, end = _weekday(first), _weekday(last) if dash else _weekday(first)
        if start is None or end is None:
            # Quote the words as typed ("nine to five"), not as normalised above ("nine-five").
            typed = re.search(re.escape(first) + _DAY_RANGE.pattern + re.escape(last), phrase, re.I)
            raise WhenError(f"I can't read “{typed[0] if dash and typed else part}” as days of the week")
        days.update((start + step) % 7 for step in range((end - start) % 7 + 1))
    if not days:
        raise WhenError("which days do you work")
    return frozenset(days)


def _working_range(match: re.Match[str]) -> tuple[time, time]:
    h1, h2 = int(match["h1"]), int(match["h2"])
    m1, m2 = _minutes(match["m1"]), _minutes(match["m2"])
    s1, s2 = (match["s1"] or "").lower() or None, (match["s2"] or "").lower() or None
    start: int | None
    end: int | None
    if s1 is None and s2 is None:
        start, end = h1, h2
        if (end, m2) <= (start, m1) and end <= 12 and start <= 12:
            end += 12  # "9-5" and "8-6" are office hours, not a night shift
    elif s1 is None:
        assert s2 is not None
        start, end = _to_24h(h1, s2), _to_24h(h2, s2)
        if start is not None and end is not None and (start, m1) >= (end, m2):
            start = _to_24h(h1, _other(s2))  # "7-3pm"
    else:
        start, end = _to_24h(h1, s1), _to_24h(h2, s2 or s1)
        if s2 is None and start is not None and end is not None and (end, m2) <= (start, m1):
            end = _to_24h(h2, _other(s1))  # "8am-6"
    if start is None or end is None or start > 23 or end > 23:
        raise WhenError("working hours fit in one day, from 0:00 to 23:59")
    first, last = time(start, m1), time(end, m2)
    if last <= first:
        raise WhenError("working hours end after they start, on the same day")
    if datetime.combine(date.min, last) - datetime.combine(date.min, first) < MIN_WORKING_DAY:
        raise WhenError("a working day is at least an hour long")
    return first, last


def parse_hours(phrase: str) -> Hours:
    """Read "7-15", "7:30-16", "8am-6pm", "9-5", "8-18 mon-sat" or "mon-sat"; WhenError says what's wrong."""
    phrase = " ".join(phrase.split())
    match = _HOURS.match(phrase)
    if match is None:
        if phrase[:1].isdigit():
            raise WhenError(f"I can't read “{phrase.split(' ')[0]}” as working hours")
        return Hours(start=None, end=None, days=parse_weekdays(phrase))
    start, end = _working_range(match)
    rest = phrase[match.end() :].strip(" ,")
    return Hours(start=start, end=end, days=parse_weekdays(rest) if rest else None)


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_NAMED_MONTH = re.compile(r"^([a-z]{3,9})\.?(?:\s+(\d{4}))?$")


def _month_before(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def parse_month(phrase: str, *, today: date) -> date | None:
    """The first day of the month a phrase names: `2026-11`, `November`, `nov 2026`, `last month`.

    A month named without a year is the latest one that has begun (in January, "December" is last
    year's); None when the phrase is not a month.
    """
    text = " ".join(phrase.lower().split())
    this_month = today.replace(day=1)
    if text in {"this month", "current month"}:
        return this_month
    if text in {"last month", "previous month"}:
        return _month_before(this_month)
    iso = _ISO_MONTH.match(text)
    if iso is not None:
        year, month = int(iso[1]), int(iso[2])
        return date(year, month, 1) if 1 <= month <= 12 and year >= 1900 else None
    named = _NAMED_MONTH.match(text)
    if named is None or named[1][:3] not in _MONTHS:
        return None
    if len(named[1]) > 3 and not _MONTH_NAMES[_MONTHS.index(named[1][:3])].startswith(named[1]):
        return None
    month = _MONTHS.index(named[1][:3]) + 1
    if named[2] is not None:
        year = int(named[2])
        return date(year, month, 1) if year >= 1900 else None
    year = today.year if month <= today.month else today.year - 1
    return date(year, month, 1)


_MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
