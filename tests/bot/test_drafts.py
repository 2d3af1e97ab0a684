"""The follow-up e-mail drafted after a visit, and the mailto: link that opens it."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest

from bot.drafts import MAX_MAILTO, Draft, followup

CHICAGO = ZoneInfo("America/Chicago")
# Monday 23 Nov 2026, 09:00 in Chicago.
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def test_followup_has_what_was_done_time_spent_and_what_is_left() -> None:
    draft = followup(
        client_name="Acme Dental",
        contact_name="Jane Roe",
        contact_email="jane@acme.example",
        technician_name="Ana Lima",
        visited_at=NOW,
        minutes=90,
        work_done="replaced fuser",
        remaining="order toner",
        tz=CHICAGO,
    )

    assert draft == Draft(
        to="jane@acme.example",
        subject="Visit summary: Acme Dental, Mon 23 Nov",
        body=(
            "Hello Jane,\n"
            "\n"
            "Thank you for having me at Acme Dental on Mon 23 Nov. Here is a short summary of the visit.\n"
            "\n"
            "What was done: replaced fuser\n"
            "Time spent: 1h30\n"
            "What is left: order toner\n"
            "\n"
            "If anything isn't working as it should, reply to this e-mail or give me a call.\n"
            "\n"
            "Best regards,\n"
            "Ana Lima"
        ),
    )


@pytest.mark.parametrize("contact_name", [None, "", "   "])
def test_followup_without_contact_or_technician_still_reads_well(contact_name: str | None) -> None:
    draft = followup(
        client_name="Café Müller GmbH",
        contact_name=contact_name,
        contact_email=None,
        technician_name=None,
        # 03:00 UTC on Tuesday is still Monday evening in Chicago.
        visited_at=datetime(2026, 11, 24, 3, 0, tzinfo=UTC),
        minutes=45,
        work_done="reset VPN",
        remaining=None,
        tz=CHICAGO,
    )

    assert draft.to is None
    assert draft.subject == "Visit summary: Café Müller GmbH, Mon 23 Nov"
    assert draft.body.splitlines() == [
        "Hello,",
        "",
        "Thank you for having me at Café Müller GmbH on Mon 23 Nov. Here is a short summary of the visit.",
        "",
        "What was done: reset VPN",
        "Time spent: 45m",
        "What is left: Nothing is left open from this visit.",
        "",
        "If anything isn't working as it should, reply to this e-mail or give me a call.",
        "",
        "Best regards,",
    ]


def test_mailto_percent_encodes_subject_and_body() -> None:
    draft = Draft(
        to="jane@acme.example", subject="Visit summary: Acme & Co, Mon 23 Nov", body="Hi,\n\n50% done?"
    )

    assert draft.mailto() == (
        "mailto:jane@acme.example"
        "?subject=Visit%20summary%3A%20Acme%20%26%20Co%2C%20Mon%2023%20Nov"
        "&body=Hi%2C%0A%0A50%25%20done%3F"
    )


def test_mailto_round_trips_through_a_url_parser() -> None:
    body = "Line one\nWhat is left: order toner & paper; call back?\nÄrger: keiner"
    draft = Draft(
        to="j.roe+it@acme.example", subject="Visit summary: Café Müller GmbH, Mon 23 Nov", body=body
    )

    parts = urlsplit(draft.mailto())

    assert (parts.scheme, parts.path) == ("mailto", "j.roe+it@acme.example")
    assert parse_qs(parts.query) == {"subject": [draft.subject], "body": [body]}


def test_mailto_address_cannot_smuggle_extra_headers() -> None:
    draft = Draft(to="jane@acme.example?cc=x@evil.example&bcc=y", subject="S", body="B")

    assert draft.mailto() == "mailto:jane@acme.example%3Fcc%3Dx@evil.example%26bcc%3Dy?subject=S&body=B"


def test_mailto_without_an_address() -> None:
    assert Draft(to=None, subject="S", body="B").mailto() == "mailto:?subject=S&body=B"


def test_a_link_of_exactly_the_limit_keeps_the_body() -> None:
    prefix = "mailto:a@b.example?subject=S&body="
    draft = Draft(to="a@b.example", subject="S", body="x" * (MAX_MAILTO - len(prefix)))

    assert draft.mailto() == prefix + "x" * (MAX_MAILTO - len(prefix))


def test_a_longer_draft_falls_back_to_the_subject_and_keeps_the_address() -> None:
    prefix = "mailto:a@b.example?subject=S&body="
    draft = Draft(to="a@b.example", subject="S", body="x" * (MAX_MAILTO - len(prefix) + 1))

    assert draft.mailto() == "mailto:a@b.example?subject=S"


def test_a_body_that_only_grows_past_the_limit_when_encoded_falls_back() -> None:
    # 600 characters, but each "ü" is six once percent-encoded.
    draft = Draft(to="jane@acme.example", subject="Visit summary: Acme Dental, Mon 23 Nov", body="ü" * 600)

    assert (
        draft.mailto()
        == "mailto:jane@acme.example?subject=Visit%20summary%3A%20Acme%20Dental%2C%20Mon%2023%20Nov"
    )


def test_a_subject_too_long_on_its_own_is_shortened_and_the_address_kept() -> None:
    # A 200-character client name in CJK is 1800 characters once percent-encoded.
    draft = Draft(to="a@b.example", subject="Visit summary: " + "東" * 200, body="B")

    link = draft.mailto()

    assert len(link) <= MAX_MAILTO
    assert link.startswith("mailto:a@b.example?subject=Visit%20summary%3A%20%E6%9D%B1")
    kept = len("mailto:a@b.example?subject=Visit%20summary%3A%20")
    fits = (MAX_MAILTO - kept - len("%E2%80%A6")) // len("%E6%9D%B1")
    assert unquote(link.split("?subject=", 1)[1]) == "Visit summary: " + "東" * fits + "…"
