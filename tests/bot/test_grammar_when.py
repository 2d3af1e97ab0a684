"""Days, moments and arrival windows read in the technician's time zone, including across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import dateparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.grammar.when import (
    MAX_WINDOW,
    When,
    WhenError,
    Window,
    end_of_day,
    parse_day_or_moment,
    parse_window,
)

CHICAGO = ZoneInfo("America/Chicago")
BERLIN = ZoneInfo("Europe/Berlin")
# Monday 23 Nov 2026: 09:00 in Chicago, 16:00 in Berlin.
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize("tz", [CHICAGO, BERLIN], ids=["chicago", "berlin"])
@pytest.mark.parametrize(
    ("phrase", "local", "has_time"),
    [
        ("Friday", datetime(2026, 11, 27), False),
        ("friday", datetime(2026, 11, 27), False),
        ("Fri", datetime(2026, 11, 27), False),
        ("this Friday", datetime(2026, 11, 27), False),
        ("Monday", datetime(2026, 11, 30), False),
        ("next Monday", datetime(2026, 11, 30), False),
        # On a Monday, "next Tuesday" is the coming one (tomorrow), as dateparser reads it.
        ("next Tuesday", datetime(2026, 11, 24), False),
        ("today", datetime(2026, 11, 23), False),
        ("tomorrow", datetime(2026, 11, 24), False),
        ("tomorrow 5pm", datetime(2026, 11, 24, 17, 0), True),
        ("tomorrow noon", datetime(2026, 11, 24, 12, 0), True),
        ("Friday 14:30", datetime(2026, 11, 27, 14, 30), True),
        ("Friday 10 am", datetime(2026, 11, 27, 10, 0), True),
        ("in 3 days", datetime(2026, 11, 26), False),
        ("2026-12-03", datetime(2026, 12, 3), False),
        ("2026-12-03 9am", datetime(2026, 12, 3, 9, 0), True),
        ("Dec 3", datetime(2026, 12, 3), False),
        ("Friday 27 Nov", datetime(2026, 11, 27), False),
    ],
)
def test_days_and_moments_are_read_in_the_technicians_zone(
    tz: ZoneInfo, phrase: str, local: datetime, has_time: bool
) -> None:
    when = parse_day_or_moment(phrase, now=NOW, tz=tz)

    assert when == When(at=local.replace(tzinfo=tz), has_time=has_time)
    assert when.at.tzinfo is tz


# The forms read without dateparser, each in several spellings.
PLAIN_DAYS = [
    *(
        name
        for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        for name in (day, day.title(), day[:3], day[:3].upper())
    ),
    "today",
    "Tomorrow",
    "2026-12-03",
    "2027-02-28",
    "2026-11-01",
]


@pytest.mark.parametrize(
    "tz", [CHICAGO, BERLIN, ZoneInfo("Pacific/Kiritimati")], ids=["chicago", "berlin", "+14"]
)
@pytest.mark.parametrize("days_on", range(7))
def test_the_days_read_without_dateparser_mean_what_dateparser_reads(tz: ZoneInfo, days_on: int) -> None:
    # Every weekday as "today", late in the evening, where the local date is not UTC's.
    now = NOW + timedelta(days=days_on, hours=8, minutes=30)
    base = now.astimezone(tz).replace(tzinfo=None)
    settings = {"PREFER_DATES_FROM": "future", "RELATIVE_BASE": base, "RETURN_AS_TIMEZONE_AWARE": False}
    for phrase in PLAIN_DAYS:
        expected = dateparser.parse(phrase, languages=["en"], settings=settings)
        assert expected is not None, phrase
        read = parse_day_or_moment(phrase, now=now, tz=tz)
        assert read == When(
            at=datetime.combine(expected.date(), datetime.min.time(), tzinfo=tz), has_time=False
        ), phrase


@pytest.mark.parametrize(
    ("tz", "local"),
    [(CHICAGO, datetime(2026, 11, 23, 11, 0)), (BERLIN, datetime(2026, 11, 23, 18, 0))],
    ids=["chicago", "berlin"],
)
def test_in_two_hours_counts_from_the_local_now(tz: ZoneInfo, local: datetime) -> None:
    assert parse_day_or_moment("in 2 hours", now=NOW, tz=tz) == When(local.replace(tzinfo=tz), True)


@pytest.mark.parametrize(
    "phrase",
    [
        "",
        "   ",
        "2",
        "12 13",
        "nonsense",
        "the",
        "x" * 61,
        # dateparser reads the 5 as May 2027; the named weekday has to agree with the date.
        "Friday at 5",
        "fri 5",
        "Friday 2026-12-03",
        "friday 28 nov",
        # Too far out to convert to UTC and back.
        "9999-12-31",
    ],
)
def test_what_is_not_a_day_is_none(phrase: str) -> None:
    assert parse_day_or_moment(phrase, now=NOW, tz=CHICAGO) is None


@pytest.mark.parametrize(
    ("phrase", "start", "end", "given_end"),
    [
        ("Friday 8-9am", datetime(2026, 11, 27, 8), datetime(2026, 11, 27, 9), True),
        ("Friday 8–9am", datetime(2026, 11, 27, 8), datetime(2026, 11, 27, 9), True),
        ("Friday 8—9am", datetime(2026, 11, 27, 8), datetime(2026, 11, 27, 9), True),
        ("friday 8 - 9 am", datetime(2026, 11, 27, 8), datetime(2026, 11, 27, 9), True),
        ("friday from 8 to 9am", datetime(2026, 11, 27, 8), datetime(2026, 11, 27, 9), True),
        ("8–9am", datetime(2026, 11, 23, 8), datetime(2026, 11, 23, 9), True),
        ("8am-12", datetime(2026, 11, 23, 8), datetime(2026, 11, 23, 12), True),
        ("Friday 8-12", datetime(2026, 11, 27, 8), datetime(2026, 11, 27, 12), True),
        ("11-1pm", datetime(2026, 11, 23, 11), datetime(2026, 11, 23, 13), True),
        ("11am-1", datetime(2026, 11, 23, 11), datetime(2026, 11, 23, 13), True),
        ("12-1", datetime(2026, 11, 23, 12), datetime(2026, 11, 23, 13), True),
        ("2-3", datetime(2026, 11, 23, 14), datetime(2026, 11, 23, 15), True),
        ("Friday 0-1", datetime(2026, 11, 27, 0), datetime(2026, 11, 27, 1), True),
        ("Friday 14:00-15:30", datetime(2026, 11, 27, 14), datetime(2026, 11, 27, 15, 30), True),
        ("Friday 8:00am-9:15am", datetime(2026, 11, 27, 8), datetime(2026, 11, 27, 9, 15), True),
        ("2026-12-03 9am", datetime(2026, 12, 3, 9), datetime(2026, 12, 3, 10), False),
        ("Friday at 9:30", datetime(2026, 11, 27, 9, 30), datetime(2026, 11, 27, 10, 30), False),
        ("tomorrow 8am-8pm", datetime(2026, 11, 24, 8), datetime(2026, 11, 24, 20), True),
    ],
)
def test_windows_are_read_the_way_people_mean_them(
    phrase: str, start: datetime, end: datetime, given_end: bool
) -> None:
    window = parse_window(phrase, now=NOW, tz=CHICAGO)

    assert window == Window(start.replace(tzinfo=CHICAGO), end.replace(tzinfo=CHICAGO), given_end)


@pytest.mark.parametrize(
    ("phrase", "message"),
    [
        ("25-26", "that arrival window has an hour that doesn't exist"),
        ("Friday 23-24", "that arrival window has an hour that doesn't exist"),
        ("Friday 13pm", "that start time has an hour that doesn't exist"),
        ("Friday", "I need a day and an arrival window"),
        ("", "I need a day and an arrival window"),
        ("8-9am Friday", "I need a day and an arrival window"),
        ("5-4", "the window ends before it starts"),
        ("9-8am", "the window ends before it starts"),
        ("friday 10pm-1am", "the window ends before it starts"),
        ("Friday 8:75-9", "minutes go up to 59"),
        ("tomorrow 8am-9pm", "that window is longer than a working day"),
        ("xyz 8-9am", "I can't tell which day “xyz” is"),
    ],
)
def test_bad_windows_say_what_to_change(phrase: str, message: str) -> None:
    with pytest.raises(WhenError) as raised:
        parse_window(phrase, now=NOW, tz=CHICAGO)

    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("tz", "now", "phrase", "start", "end"),
    [
        # America/Chicago springs forward at 02:00 on Sun 8 Mar 2026 (CST -6 → CDT -5).
        (CHICAGO, utc(2026, 3, 2, 15), "2026-03-07 8-9am", utc(2026, 3, 7, 14), utc(2026, 3, 7, 15)),
        (CHICAGO, utc(2026, 3, 2, 15), "2026-03-08 8-9am", utc(2026, 3, 8, 13), utc(2026, 3, 8, 14)),
        (CHICAGO, utc(2026, 3, 2, 15), "Sunday 8-9am", utc(2026, 3, 8, 13), utc(2026, 3, 8, 14)),
        (CHICAGO, utc(2026, 3, 2, 15), "2026-03-08 9am", utc(2026, 3, 8, 14), utc(2026, 3, 8, 15)),
        (CHICAGO, utc(2026, 3, 2, 15), "2026-03-08 1am-3am", utc(2026, 3, 8, 7), utc(2026, 3, 8, 8)),
        # 02:30 never happens that night; it is read as the instant the clocks jump to (03:30 CDT).
        (CHICAGO, utc(2026, 3, 2, 15), "2026-03-08 2:30am", utc(2026, 3, 8, 8, 30), utc(2026, 3, 8, 9, 30)),
        # America/Chicago falls back at 02:00 on Sun 1 Nov 2026 (CDT -5 → CST -6).
        (CHICAGO, utc(2026, 10, 26, 15), "2026-10-31 8-9am", utc(2026, 10, 31, 13), utc(2026, 10, 31, 14)),
        (CHICAGO, utc(2026, 10, 26, 15), "2026-11-01 8-9am", utc(2026, 11, 1, 14), utc(2026, 11, 1, 15)),
        (CHICAGO, utc(2026, 10, 26, 15), "Sunday 8-9am", utc(2026, 11, 1, 14), utc(2026, 11, 1, 15)),
        # 1am happens twice; the first is meant, and a one-hour window is one real hour.
        (CHICAGO, utc(2026, 10, 26, 15), "2026-11-01 1am", utc(2026, 11, 1, 6), utc(2026, 11, 1, 7)),
        (CHICAGO, utc(2026, 10, 26, 15), "2026-11-01 1am-2am", utc(2026, 11, 1, 6), utc(2026, 11, 1, 8)),
        # Europe/Berlin springs forward at 02:00 on Sun 29 Mar 2026 and falls back at 03:00 on Sun 25 Oct.
        (BERLIN, utc(2026, 3, 23, 15), "2026-03-28 8-9am", utc(2026, 3, 28, 7), utc(2026, 3, 28, 8)),
        (BERLIN, utc(2026, 3, 23, 15), "2026-03-29 8-9am", utc(2026, 3, 29, 6), utc(2026, 3, 29, 7)),
        (BERLIN, utc(2026, 3, 23, 15), "2026-03-29 2:30am", utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 2, 30)),
        (
            BERLIN,
            utc(2026, 3, 23, 15),
            "2026-03-29 14:00-15:30",
            utc(2026, 3, 29, 12),
            utc(2026, 3, 29, 13, 30),
        ),
        (BERLIN, utc(2026, 10, 19, 15), "2026-10-24 8-9am", utc(2026, 10, 24, 6), utc(2026, 10, 24, 7)),
        (BERLIN, utc(2026, 10, 19, 15), "2026-10-25 8-9am", utc(2026, 10, 25, 7), utc(2026, 10, 25, 8)),
        (BERLIN, utc(2026, 10, 19, 15), "Sunday 8-9am", utc(2026, 10, 25, 7), utc(2026, 10, 25, 8)),
        (
            BERLIN,
            utc(2026, 10, 19, 15),
            "2026-10-25 2:30am",
            utc(2026, 10, 25, 0, 30),
            utc(2026, 10, 25, 1, 30),
        ),
    ],
)
def test_windows_on_dst_days_start_at_the_right_instant_and_last_real_time(
    tz: ZoneInfo, now: datetime, phrase: str, start: datetime, end: datetime
) -> None:
    window = parse_window(phrase, now=now, tz=tz)

    assert (window.start.astimezone(UTC), window.end.astimezone(UTC)) == (start, end)
    assert window.end.astimezone(UTC) - window.start.astimezone(UTC) == end - start
    assert (window.start.tzinfo, window.end.tzinfo) == (tz, tz)


@pytest.mark.parametrize(
    ("tz", "now", "phrase"),
    [
        (CHICAGO, utc(2026, 3, 2, 15), "2026-03-08 2-3am"),
        (BERLIN, utc(2026, 3, 23, 15), "2026-03-29 2-3am"),
    ],
)
def test_a_window_inside_the_skipped_hour_is_refused(tz: ZoneInfo, now: datetime, phrase: str) -> None:
    with pytest.raises(WhenError) as raised:
        parse_window(phrase, now=now, tz=tz)

    assert str(raised.value) == "that window falls in the hour the clocks skip"


def test_a_start_time_late_on_the_last_representable_day_is_refused_not_overflowed() -> None:
    with pytest.raises(WhenError) as raised:
        parse_window("9999-12-31 11pm", now=NOW, tz=CHICAGO)

    assert str(raised.value) == "I can't tell which day “9999-12-31” is"


@pytest.mark.parametrize(
    ("day", "tz", "instant"),
    [
        (date(2026, 11, 27), CHICAGO, utc(2026, 11, 28, 5, 59)),
        (date(2026, 11, 27), BERLIN, utc(2026, 11, 27, 22, 59)),
        (date(2026, 3, 8), CHICAGO, utc(2026, 3, 9, 4, 59)),
        (date(2026, 10, 25), BERLIN, utc(2026, 10, 25, 22, 59)),
    ],
)
def test_end_of_day_is_the_last_local_minute(day: date, tz: ZoneInfo, instant: datetime) -> None:
    moment = end_of_day(day, tz)

    assert moment == instant
    assert (moment.tzinfo, moment.hour, moment.minute) == (tz, 23, 59)


ZONES = st.sampled_from([CHICAGO, BERLIN, ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Pacific/Pago_Pago")])
WHEN_WORDS = st.sampled_from(
    [
        "Friday",
        "fri",
        "next",
        "Tuesday",
        "tomorrow",
        "today",
        "in",
        "3",
        "days",
        "hours",
        "at",
        "from",
        "to",
        "2026-12-03",
        "2026-03-08",
        "9999-12-31",
        "0001-01-01",
        "12/3",
        "8",
        "9",
        "0",
        "12",
        "25",
        "99",
        "8:00",
        "14:00",
        "9:75",
        "am",
        "pm",
        "8am",
        "9pm",
        "-",
        "–",
        "—",
        "8-9am",
        "11-1pm",
        "2-3",
        "noon",
        " ",
    ]
)
WHEN_PHRASES = st.lists(st.one_of(WHEN_WORDS, st.text(max_size=3)), max_size=6).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=80), WHEN_PHRASES), ZONES)
def test_parse_day_or_moment_never_raises(phrase: str, tz: ZoneInfo) -> None:
    when = parse_day_or_moment(phrase, now=NOW, tz=tz)

    assert when is None or (isinstance(when, When) and when.at.tzinfo is tz)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=80), WHEN_PHRASES), ZONES)
def test_parse_window_raises_only_when_error_and_windows_are_sane(phrase: str, tz: ZoneInfo) -> None:
    try:
        window: Window | None = parse_window(phrase, now=NOW, tz=tz)
    except WhenError as error:
        window, message = None, str(error)
    if window is None:
        assert message
    else:
        length = window.end.astimezone(UTC) - window.start.astimezone(UTC)
        assert timedelta(0) < length <= MAX_WINDOW
