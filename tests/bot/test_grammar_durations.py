"""Time spent as technicians type it: `1h30`, `90m`, `1.5h`, `1:30`, within 1 minute to 24 hours."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.grammar.durations import MAX_MINUTES, format_duration, parse_duration


@pytest.mark.parametrize(
    ("typed", "minutes"),
    [
        ("1h30", 90),
        ("90m", 90),
        ("1.5h", 90),
        ("1,5h", 90),
        ("1:30", 90),
        ("2h", 120),
        ("2hours", 120),
        ("2 hours", 120),
        ("1 hour", 60),
        ("1hr", 60),
        ("1hrs30", 90),
        ("1h 30m", 90),
        ("1h30min", 90),
        ("1 h 30", 90),
        ("45m", 45),
        ("45 min", 45),
        ("45mins", 45),
        ("45 minutes", 45),
        ("1 minute", 1),
        ("0:05", 5),
        ("0.5h", 30),
        ("0.25h", 15),
        ("  1H30  ", 90),
        ("1440m", 1440),
        ("24h", 1440),
        ("24:00", 1440),
        ("23:59", 1439),
    ],
)
def test_documented_forms_are_read_as_minutes(typed: str, minutes: int) -> None:
    assert parse_duration(typed) == minutes


@pytest.mark.parametrize(
    "typed",
    [
        "0m",
        "0h",
        "0:00",
        "0.00h",
        "1441m",
        "24h01",
        "24:01",
        "25h",
        "25:00",
        "1h60",
        "1:60",
        "1:5",
        "1.555h",
        "12345m",
    ],
)
def test_out_of_range_durations_are_not_durations(typed: str) -> None:
    assert parse_duration(typed) is None


@pytest.mark.parametrize(
    "typed",
    ["", "   ", "h", "m", "1", "90", "1.5", "abc", "1h30x", "x1h30", "1d", "1 day", "-1h", "1h-30", "1:30pm"],
)
def test_junk_is_not_a_duration(typed: str) -> None:
    assert parse_duration(typed) is None


@pytest.mark.parametrize(
    ("minutes", "written"),
    [
        (1, "1m"),
        (45, "45m"),
        (59, "59m"),
        (60, "1h"),
        (65, "1h05"),
        (90, "1h30"),
        (1439, "23h59"),
        (1440, "24h"),
    ],
)
def test_format_duration_writes_it_the_way_a_technician_would(minutes: int, written: str) -> None:
    assert format_duration(minutes) == written


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_parses_to_none_or_a_sensible_duration(text: str) -> None:
    minutes = parse_duration(text)

    assert minutes is None or (isinstance(minutes, int) and 1 <= minutes <= MAX_MINUTES)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["1", "12", "0", "1.5", "2,25", ":", "h", "hr", "hours", "m", "min", " ", "30", "99"]
        ),
        max_size=5,
    ).map("".join)
)
def test_duration_shaped_text_parses_to_none_or_a_sensible_duration(text: str) -> None:
    minutes = parse_duration(text)

    assert minutes is None or (isinstance(minutes, int) and 1 <= minutes <= MAX_MINUTES)


@given(st.integers(min_value=1, max_value=MAX_MINUTES))
def test_formatted_durations_parse_back_to_the_same_minutes(minutes: int) -> None:
    assert parse_duration(format_duration(minutes)) == minutes
