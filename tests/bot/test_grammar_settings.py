"""`/visit cadence`, `pause`, `resume` and `hours` parsed into commands, or refused with an example."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.grammar.commands import (
    CADENCE_EXAMPLE,
    HOURS_EXAMPLE,
    PAUSE_EXAMPLE,
    RESUME_EXAMPLE,
    ClientRef,
    LogVisit,
    NeedClient,
    ParseError,
    PauseNudges,
    ResumeNudges,
    SetCadence,
    SetHours,
    ShowHours,
    parse_visit,
)
from bot.grammar.when import WhenError, parse_weekdays

CHICAGO = ZoneInfo("America/Chicago")
BERLIN = ZoneInfo("Europe/Berlin")
# Monday 23 Nov 2026, 09:00 in Chicago (16:00 in Berlin).
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
KNOWN = frozenset({"acme dental", "store 2", "hours plus"})
ACME = ClientRef("Acme Dental", True, 8, 19)
WEEKDAYS = frozenset(range(5))


def visit(text: str, *, tz: ZoneInfo = CHICAGO) -> Any:
    return parse_visit(text, known=KNOWN, now=NOW, tz=tz)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cadence Acme Dental 14", SetCadence(ACME, 14)),
        ("cadence Acme Dental 14 days", SetCadence(ACME, 14)),
        ("cadence Acme Dental 14d", SetCadence(ACME, 14)),
        ("cadence Acme Dental every 2 weeks", SetCadence(ACME, 14)),
        ("cadence Acme Dental 1", SetCadence(ACME, 1)),
        ("cadence Acme Dental 365", SetCadence(ACME, 365)),
        ("CADENCE acme dental 7", SetCadence(ClientRef("acme dental", True, 8, 19), 7)),
        ("cadence Store 2 10", SetCadence(ClientRef("Store 2", True, 8, 15), 10)),
        ('cadence "Northwind" 7', SetCadence(ClientRef("Northwind", False, 8, 19), 7)),
        ("cadence Acme Dentl 14", NeedClient("cadence", 8, (("Acme Dentl", 18), ("Acme", 12)))),
    ],
)
def test_cadence(text: str, expected: object) -> None:
    assert visit(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cadence", "Which client, and every how many days?"),
        ("cadence 14", "Which client? Put its name before the number of days."),
        ("cadence Acme Dental", "How often? Put the number of days (1 to 365) after the client's name."),
        (
            "cadence Acme Dental often",
            "How often? Put the number of days (1 to 365) after the client's name.",
        ),
        ("cadence Acme Dental 0", "A check-in cadence is a whole number of days from 1 to 365."),
        ("cadence Acme Dental 366", "A check-in cadence is a whole number of days from 1 to 365."),
        ("cadence Acme Dental 60 weeks", "A check-in cadence is a whole number of days from 1 to 365."),
        ("cadence Acme Dental -3", "A check-in cadence is a whole number of days from 1 to 365."),
        ("cadence Acme Dental 14.5", "A check-in cadence is a whole number of days from 1 to 365."),
    ],
)
def test_cadence_refusals(text: str, message: str) -> None:
    assert visit(text) == ParseError(message, CADENCE_EXAMPLE)


@pytest.mark.parametrize(
    ("text", "until"),
    [
        ("pause until 2026-12-07", date(2026, 12, 7)),
        ("pause till 2026-12-07", date(2026, 12, 7)),
        ("pause 7 Dec", date(2026, 12, 7)),
        # On a Monday, "Monday" is next week's.
        ("pause until Monday", date(2026, 11, 30)),
        ("pause until tomorrow", date(2026, 11, 24)),
        ("pause for 2 weeks", date(2026, 12, 7)),
        ("pause until in 3 days", date(2026, 11, 26)),
    ],
)
def test_pause(text: str, until: date) -> None:
    assert visit(text) == PauseNudges(until)


def test_pause_days_are_the_technicians_own() -> None:
    # 23:30 on Monday in Chicago is already Tuesday in Berlin.
    late = datetime(2026, 11, 24, 5, 30, tzinfo=UTC)

    assert parse_visit("pause until tomorrow", known=KNOWN, now=late, tz=CHICAGO) == PauseNudges(
        date(2026, 11, 24)
    )
    assert parse_visit("pause until tomorrow", known=KNOWN, now=late, tz=BERLIN) == PauseNudges(
        date(2026, 11, 25)
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pause", "Until when? Give the day your reminders should start again."),
        ("pause until", "Until when? Give the day your reminders should start again."),
        ("pause until today", "Pick a day after today: your reminders start again that morning."),
        ("pause until 2026-11-20", "Pick a day after today: your reminders start again that morning."),
        ("pause until 2027-11-24", "A pause can last up to a year."),
        ("pause until someday", "I can't tell which day “someday” is."),
    ],
)
def test_pause_refusals(text: str, message: str) -> None:
    assert visit(text) == ParseError(message, PAUSE_EXAMPLE)


def test_resume() -> None:
    assert visit("resume") == ResumeNudges()
    assert visit("Resume") == ResumeNudges()
    assert visit("resume now") == ParseError(
        "“resume” needs nothing after it: it ends your pause now.", RESUME_EXAMPLE
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hours", ShowHours()),
        ("hours 7-15", SetHours(time(7), time(15), None)),
        ("hours 7:30-16", SetHours(time(7, 30), time(16), None)),
        ("hours 7.30-16", SetHours(time(7, 30), time(16), None)),
        ("hours 8am-6pm", SetHours(time(8), time(18), None)),
        ("hours 8:00 – 16:30", SetHours(time(8), time(16, 30), None)),
        # Office hours as people say them: "9-5" is 9am to 5pm.
        ("hours 9-5", SetHours(time(9), time(17), None)),
        ("hours 7-3pm", SetHours(time(7), time(15), None)),
        ("hours 8am-6", SetHours(time(8), time(18), None)),
        ("hours 8-18 mon-sat", SetHours(time(8), time(18), frozenset(range(6)))),
        ("hours 8-18 Mon to Sat", SetHours(time(8), time(18), frozenset(range(6)))),
        ("hours 8-18 mon, wed, fri", SetHours(time(8), time(18), frozenset({0, 2, 4}))),
        ("hours 8-18 weekdays", SetHours(time(8), time(18), WEEKDAYS)),
        ("hours mon-sat", SetHours(None, None, frozenset(range(6)))),
        # A week that runs over Sunday.
        ("hours 8-17 sun-thu", SetHours(time(8), time(17), frozenset({6, 0, 1, 2, 3}))),
    ],
)
def test_hours(text: str, expected: object) -> None:
    assert visit(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hours 25-26", "Working hours fit in one day, from 0:00 to 23:59."),
        ("hours 8-24", "Working hours fit in one day, from 0:00 to 23:59."),
        ("hours 13am-5pm", "Working hours fit in one day, from 0:00 to 23:59."),
        ("hours 22-6", "Working hours end after they start, on the same day."),
        ("hours 8-8:30", "A working day is at least an hour long."),
        ("hours 8:75-16", "Minutes go up to 59."),
        ("hours 8-18 funday", "I can't read “funday” as days of the week."),
        ("hours 8-18mon", "I can't read “8-18mon” as working hours."),
        ("hours lots", "I can't read “lots” as days of the week."),
        ("hours 8", "I can't read “8” as working hours."),
        ("hours nine to five", "I can't read “nine to five” as days of the week."),
        ("hours 8-18 mon-funday", "I can't read “mon-funday” as days of the week."),
    ],
)
def test_hours_refusals(text: str, message: str) -> None:
    assert visit(text) == ParseError(message, HOURS_EXAMPLE)


def test_an_existing_client_named_like_a_settings_word_still_logs_a_visit() -> None:
    assert visit("Hours Plus 1h fixed the router") == LogVisit(
        ClientRef("Hours Plus", True, 0, 10), 60, "fixed the router", None
    )
    # Without a time spent it is the settings command after all.
    assert visit("hours plus") == ParseError("I can't read “plus” as days of the week.", HOURS_EXAMPLE)


@pytest.mark.parametrize(
    ("phrase", "days"),
    [
        ("mon-fri", WEEKDAYS),
        ("Monday-Friday", WEEKDAYS),
        ("mon–fri", WEEKDAYS),
        ("tue thu", frozenset({1, 3})),
        ("mon and wed", frozenset({0, 2})),
        ("mondays, fridays", frozenset({0, 4})),
        ("sat-mon", frozenset({5, 6, 0})),
        ("daily", frozenset(range(7))),
        ("weekends", frozenset({5, 6})),
    ],
)
def test_weekdays(phrase: str, days: frozenset[int]) -> None:
    assert parse_weekdays(phrase) == days


@pytest.mark.parametrize("phrase", ["", "and", "mon-xyz", "someday"])
def test_weekdays_that_are_not(phrase: str) -> None:
    with pytest.raises(WhenError):
        parse_weekdays(phrase)
