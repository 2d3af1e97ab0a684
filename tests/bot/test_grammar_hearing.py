"""`/visit notify`, `/visit feedback`, and a visit's or a call's `mood:` and `repair:`, as parsed."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.grammar import commands as grammar
from bot.grammar.commands import (
    ClientRef,
    ListNotices,
    LogCall,
    LogVisit,
    Mood,
    NeedClient,
    NotifyChange,
    ParseError,
    RecordFeedback,
    SetFeedbackEvery,
    parse_visit,
)

CHICAGO = ZoneInfo("America/Chicago")
# Monday 7 December 2026, 9:00 in Chicago.
NOW = datetime(2026, 12, 7, 15, tzinfo=UTC)
KNOWN = {"acme dental", "notify plus"}


def parse(text: str) -> object:
    return parse_visit(text, known=KNOWN, now=NOW, tz=CHICAGO)


def saturday(hour: int) -> datetime:
    return datetime(2026, 12, 12, hour, tzinfo=CHICAGO)


def test_a_notice_names_the_client_what_will_change_and_the_window() -> None:
    assert parse('notify Acme Dental "reboot the mail server" Saturday 22:00-23:00') == NotifyChange(
        ClientRef("Acme Dental", True, 7, 18), "reboot the mail server", saturday(22), saturday(23), None
    )


def test_unquoted_what_ends_where_the_window_begins_and_an_impact_may_follow() -> None:
    parsed = parse(
        "notify Acme Dental reboot the mail server on Saturday 10pm-11pm; impact: no e-mail for 15 min"
    )

    assert parsed == NotifyChange(
        ClientRef("Acme Dental", True, 7, 18),
        "reboot the mail server",
        saturday(22),
        saturday(23),
        "no e-mail for 15 min",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("notify", "Which client, what will change, and when?"),
        ("notify Acme Dental", "What will change at Acme Dental, and when?"),
        (
            "notify Acme Dental reboot the mail server",
            "When will you make the change? Put the day and a window after what will change, "
            "like Saturday 22:00-23:00.",
        ),
        (
            "notify Acme Dental reboot today 8-9am",
            "That window has already begun: a notice goes out before the change. Which day did you mean?",
        ),
    ],
)
def test_a_notice_without_its_parts_is_refused_with_an_example(text: str, message: str) -> None:
    assert parse(text) == ParseError(message, grammar.NOTIFY_EXAMPLE)


def test_notify_list_and_an_unknown_client_and_a_client_named_like_the_word() -> None:
    assert parse("notify list") == ListNotices()
    assert isinstance(parse("notify Acme Dentl reboot Saturday 22-23"), NeedClient)
    logged = parse("Notify Plus 1h replaced the switch")
    assert isinstance(logged, LogVisit)
    assert logged.client.name == "Notify Plus"


@pytest.mark.parametrize(
    ("said", "mood"),
    [
        ("2 waited a week for the printer", Mood(2, "waited a week for the printer")),
        ("unhappy", Mood(1)),
        ("🙁 slow", Mood(1, "slow")),
        ("happy!", Mood(5)),
        ("4/5 good job", Mood(4, "good job")),
        ("ok", Mood(3)),
    ],
)
def test_feedback_is_a_score_or_a_mood_word_then_what_they_said(said: str, mood: Mood) -> None:
    assert parse(f"feedback Acme Dental {said}") == RecordFeedback(
        ClientRef("Acme Dental", True, 9, 20), mood
    )


def test_feedback_refusals_and_the_managers_interval() -> None:
    assert parse("feedback Acme Dental") == ParseError(
        "How does Acme Dental feel? Give a score from 1 (unhappy) to 5 (happy), or happy, ok or unhappy, "
        "then any words of theirs.",
        grammar.FEEDBACK_EXAMPLE,
    )
    assert parse("feedback Acme Dental 7") == ParseError(
        "I can't tell how the client feels from “7”: write happy, ok or unhappy, or a score from 1 (unhappy) "
        "to 5 (happy).",
        grammar.FEEDBACK_EXAMPLE,
    )
    assert parse("feedback every 120 days") == SetFeedbackEvery(120)
    assert parse("feedback every 4 weeks") == SetFeedbackEvery(28)
    assert parse("feedback every 3") == ParseError(
        "Ask every 14 to 365 days.", grammar.FEEDBACK_EVERY_EXAMPLE
    )
    assert isinstance(parse("feedback Acme Dentl 2 slow"), NeedClient)


def test_a_visit_carries_the_clients_mood_and_keeps_its_todo() -> None:
    parsed = parse("Acme Dental 1h30 replaced fuser; mood: unhappy about the wait; todo: order toner")

    assert parsed == LogVisit(
        ClientRef("Acme Dental", True, 0, 11),
        90,
        "replaced fuser",
        "order toner",
        mood=Mood(1, "about the wait"),
        repair=None,
    )


def test_a_call_marked_as_a_repair_and_with_the_clients_word() -> None:
    parsed = parse("call Acme Dental spoke apologised; repair: replaced the dock; mood: happy")

    assert parsed == LogCall(
        ClientRef("Acme Dental", True, 5, 16), "spoke", "apologised", mood=Mood(5), repair="replaced the dock"
    )
    bare = parse("Acme Dental 1h replaced the dock; repair:")
    assert isinstance(bare, LogVisit)
    assert bare.repair == ""


def test_a_mood_that_cant_be_read_is_refused_and_nothing_is_guessed() -> None:
    assert parse("Acme Dental 1h fixed it; mood: grumpy") == ParseError(
        "I can't tell how the client feels from “grumpy”: write happy, ok or unhappy, or a score from 1 "
        "(unhappy) to 5 (happy).",
        grammar.MOOD_EXAMPLE,
    )
