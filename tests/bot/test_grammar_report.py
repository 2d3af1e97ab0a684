"""`/visit report <client> [month]` and `/visit digest` parsed into commands, and `parse_month` on its own."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.grammar.commands import (
    DIGEST_EXAMPLE,
    REPORT_EXAMPLE,
    ClientRef,
    ClientReport,
    LogVisit,
    NeedClient,
    ParseError,
    ShowDigest,
    parse_visit,
)
from bot.grammar.when import parse_month

CHICAGO = ZoneInfo("America/Chicago")
TOKYO = ZoneInfo("Asia/Tokyo")
# Monday 23 Nov 2026, 09:00 in Chicago.
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
TODAY = date(2026, 11, 23)
KNOWN = frozenset({"acme dental", "acme", "may day", "report co"})
ACME = ClientRef("Acme Dental", True, 7, 18)
NOT_A_MONTH = "I can't tell which month “{}” is: write it like November, Nov 2026, 2026-11 or last month."


def visit(text: str, *, now: datetime = NOW, tz: ZoneInfo = CHICAGO) -> Any:
    return parse_visit(text, known=KNOWN, now=now, tz=tz)


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("2026-11", date(2026, 11, 1)),
        ("2026-1", date(2026, 1, 1)),
        ("1999-12", date(1999, 12, 1)),
        ("November", date(2026, 11, 1)),
        ("nov", date(2026, 11, 1)),
        ("Nov.", date(2026, 11, 1)),
        ("sept", date(2026, 9, 1)),
        ("  OCTOBER  ", date(2026, 10, 1)),
        # Not begun yet this year: last year's.
        ("December", date(2025, 12, 1)),
        ("dec", date(2025, 12, 1)),
        ("Nov 2026", date(2026, 11, 1)),
        ("november   2025", date(2025, 11, 1)),
        ("Dec 2026", date(2026, 12, 1)),
        ("this month", date(2026, 11, 1)),
        ("current month", date(2026, 11, 1)),
        ("last month", date(2026, 10, 1)),
        ("Previous Month", date(2026, 10, 1)),
    ],
)
def test_parse_month_reads_the_usual_ways_of_naming_a_month(phrase: str, expected: date) -> None:
    assert parse_month(phrase, today=TODAY) == expected


def test_last_month_in_january_is_last_years_december() -> None:
    assert parse_month("last month", today=date(2027, 1, 5)) == date(2026, 12, 1)
    assert parse_month("December", today=date(2027, 1, 5)) == date(2026, 12, 1)
    assert parse_month("January", today=date(2027, 1, 5)) == date(2027, 1, 1)


@pytest.mark.parametrize(
    "phrase",
    [
        "",
        "2026-13",
        "2026-0",
        "0999-11",
        "Novembr",
        "novemberr",
        "junk",
        "Nov 0000",
        "nov 26",
        "11/2026",
        "next",
    ],
)
def test_parse_month_says_none_for_what_is_not_a_month(phrase: str) -> None:
    assert parse_month(phrase, today=TODAY) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("report Acme Dental", ClientReport(ACME, None)),
        ("report acme dental", ClientReport(ClientRef("acme dental", True, 7, 18), None)),
        ("report Acme Dental November", ClientReport(ACME, date(2026, 11, 1))),
        ("report Acme Dental Nov 2025", ClientReport(ACME, date(2025, 11, 1))),
        ("report Acme Dental 2026-10", ClientReport(ACME, date(2026, 10, 1))),
        ("report Acme Dental last month", ClientReport(ACME, date(2026, 10, 1))),
        ("report Acme Dental this month", ClientReport(ACME, date(2026, 11, 1))),
        (
            'report "Acme Dental" December',
            ClientReport(ClientRef("Acme Dental", True, 7, 20), date(2025, 12, 1)),
        ),
        # A client whose name ends like a month is found whole first.
        ("report May Day", ClientReport(ClientRef("May Day", True, 7, 14), None)),
        ("report May Day May", ClientReport(ClientRef("May Day", True, 7, 14), date(2026, 5, 1))),
    ],
)
def test_report_names_a_client_and_an_optional_month(text: str, expected: ClientReport) -> None:
    assert visit(text) == expected


def test_the_month_is_read_in_the_technicians_zone() -> None:
    # 1 December 2026, 03:00 in Tokyo is still 30 November in Chicago.
    first_of_december = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)

    assert visit("report Acme Dental last month", now=first_of_december, tz=TOKYO) == ClientReport(
        ACME, date(2026, 11, 1)
    )
    assert visit("report Acme Dental last month", now=first_of_december) == ClientReport(
        ACME, date(2026, 10, 1)
    )
    assert visit("report Acme Dental December", now=first_of_december, tz=TOKYO) == ClientReport(
        ACME, date(2026, 12, 1)
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("report", "Which client's report?"),
        ("report Acme Dental 2026-13", NOT_A_MONTH.format("2026-13")),
        ("report Acme Dental Novembr", NOT_A_MONTH.format("Novembr")),
        ("report Acme Dental 11/2026", NOT_A_MONTH.format("11/2026")),
        ("report Acme Dental nov 0000", NOT_A_MONTH.format("nov 0000")),
        ("report Acme Dental next month", NOT_A_MONTH.format("next month")),
        ('report "Acme Dental" Novembr', NOT_A_MONTH.format("Novembr")),
        ("report Acme Dental Dec 2026", "That month hasn't begun yet; pick this month or an earlier one."),
        ("report Acme Dental 2027-01", "That month hasn't begun yet; pick this month or an earlier one."),
    ],
)
def test_bad_reports_are_refused_with_an_example(text: str, message: str) -> None:
    assert visit(text) == ParseError(message, REPORT_EXAMPLE)


def test_an_unknown_client_is_left_to_the_did_you_mean_path() -> None:
    assert visit("report Acme Dentl November") == NeedClient(
        action="report", start=7, candidates=(("Acme Dentl", 17), ("Acme", 11))
    )
    assert visit("report Northwind") == NeedClient(action="report", start=7, candidates=(("Northwind", 16),))


def test_a_known_client_named_like_a_word_after_report_still_logs_a_visit() -> None:
    assert visit("Report Co 1h fixed the printer") == LogVisit(
        ClientRef("Report Co", True, 0, 9), 60, "fixed the printer", None
    )


def test_digest_takes_no_words() -> None:
    assert visit("digest") == ShowDigest()
    assert visit("digest now") == ParseError(
        "“digest” needs nothing after it: it covers the last 7 days.", DIGEST_EXAMPLE
    )
