"""`/visit` and `/promise` text parsed into commands, or refused with a message and an example that works."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.grammar.commands import (
    CADENCE_EXAMPLE,
    CALL_EXAMPLE,
    CANCEL_EXAMPLE,
    CONTACT_EXAMPLE,
    DONE_EXAMPLE,
    HOURS_EXAMPLE,
    LOG_EXAMPLE,
    MAX_TEXT,
    MOVE_EXAMPLE,
    PAUSE_EXAMPLE,
    PLAN_EXAMPLE,
    PROMISE_EXAMPLE,
    RESUME_EXAMPLE,
    AddPromise,
    CancelAppointment,
    ClientRef,
    ClientReport,
    Help,
    ListOpen,
    ListPromises,
    LogCall,
    LogVisit,
    MovePromise,
    NeedClient,
    ParseError,
    PauseNudges,
    PlanAppointment,
    PromiseDone,
    ResumeNudges,
    SetCadence,
    SetContact,
    SetHours,
    ShowDigest,
    ShowHours,
    candidate_keys,
    parse_promise,
    parse_visit,
)
from bot.grammar.durations import MAX_MINUTES
from bot.grammar.when import MAX_WINDOW

CHICAGO = ZoneInfo("America/Chicago")
BERLIN = ZoneInfo("Europe/Berlin")
# Monday 23 Nov 2026, 09:00 in Chicago.
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
KNOWN = frozenset({"acme dental", "café müller gmbh"})
ACME = ClientRef("Acme Dental", True, 0, 11)
# "ACME DENTAL" in full-width letters, as some Asian keyboards type it.
FULLWIDTH_ACME = "ACME DENTAL".translate({code: code + 0xFEE0 for code in range(ord("A"), ord("Z") + 1)})


def visit(text: str, *, now: datetime = NOW, tz: ZoneInfo = CHICAGO) -> Any:
    return parse_visit(text, known=KNOWN, now=now, tz=tz)


def promise(text: str, *, now: datetime = NOW, tz: ZoneInfo = CHICAGO) -> Any:
    return parse_promise(text, known=KNOWN, now=now, tz=tz)


def chicago(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=CHICAGO)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Acme Dental 1h30 replaced fuser; todo: order toner",
            LogVisit(ACME, 90, "replaced fuser", "order toner"),
        ),
        (
            "log Acme Dental 90m replaced fuser",
            LogVisit(ClientRef("Acme Dental", True, 4, 15), 90, "replaced fuser", None),
        ),
        (
            "acme dental 2 hours swapped drum",
            LogVisit(ClientRef("acme dental", True, 0, 11), 120, "swapped drum", None),
        ),
        (
            "Acme Dental 1.5h swapped drum. Next: check tray 2",
            LogVisit(ACME, 90, "swapped drum", "check tray 2"),
        ),
        ("Acme Dental 1:30 fixed it; left: nothing much", LogVisit(ACME, 90, "fixed it", "nothing much")),
        ("Acme Dental 1.5 h swapped drum", LogVisit(ACME, 90, "swapped drum", None)),
        (
            "CAFÉ MÜLLER GMBH 45m reset VPN",
            LogVisit(ClientRef("CAFÉ MÜLLER GMBH", True, 0, 16), 45, "reset VPN", None),
        ),
        (
            '"Café Müller GmbH" 45m reset VPN',
            LogVisit(ClientRef("Café Müller GmbH", True, 0, 18), 45, "reset VPN", None),
        ),
        (
            "„café müller gmbh“ 45m reset VPN",
            LogVisit(ClientRef("café müller gmbh", True, 0, 18), 45, "reset VPN", None),
        ),
        (
            f"{FULLWIDTH_ACME} 1h fixed",
            LogVisit(ClientRef(FULLWIDTH_ACME, True, 0, 11), 60, "fixed", None),
        ),
        ("New Client 45m reset VPN", LogVisit(ClientRef("New Client", False, 0, 10), 45, "reset VPN", None)),
        ("New Co 2 hours cabling", LogVisit(ClientRef("New Co", False, 0, 6), 120, "cabling", None)),
        ('"Suite 3" 45m printer', LogVisit(ClientRef("Suite 3", False, 0, 9), 45, "printer", None)),
        # The number in the name is not glued to the time: 45 minutes, not "345m".
        ("Suite 3 45m printer", LogVisit(ClientRef("Suite 3", False, 0, 7), 45, "printer", None)),
        ("Suite 1 1:30 printer", LogVisit(ClientRef("Suite 1", False, 0, 7), 90, "printer", None)),
        (
            "plan Acme Dental Friday 8-9am",
            PlanAppointment(
                ClientRef("Acme Dental", True, 5, 16),
                chicago(2026, 11, 27, 8),
                chicago(2026, 11, 27, 9),
                True,
            ),
        ),
        (
            "plan New Client Friday 8-9am",
            PlanAppointment(
                ClientRef("New Client", False, 5, 15),
                chicago(2026, 11, 27, 8),
                chicago(2026, 11, 27, 9),
                True,
            ),
        ),
        (
            "plan Acme Dental 2026-12-03 9am",
            PlanAppointment(
                ClientRef("Acme Dental", True, 5, 16),
                chicago(2026, 12, 3, 9),
                chicago(2026, 12, 3, 10),
                False,
            ),
        ),
        (
            "plan “Café Müller GmbH” tomorrow 2-3",
            PlanAppointment(
                ClientRef("Café Müller GmbH", True, 5, 23),
                chicago(2026, 11, 24, 14),
                chicago(2026, 11, 24, 15),
                True,
            ),
        ),
        (
            "plan Acme Dental 11-1pm",
            PlanAppointment(
                ClientRef("Acme Dental", True, 5, 16),
                chicago(2026, 11, 23, 11),
                chicago(2026, 11, 23, 13),
                True,
            ),
        ),
        (
            "cancel Acme Dental technician ill",
            CancelAppointment(ClientRef("Acme Dental", True, 7, 18), "technician ill"),
        ),
        ("cancel Acme Dental", CancelAppointment(ClientRef("Acme Dental", True, 7, 18), None)),
        ('cancel "New Client" flu', CancelAppointment(ClientRef("New Client", False, 7, 19), "flu")),
        (
            "call Acme Dental spoke moved to Tuesday 8-9am",
            LogCall(ClientRef("Acme Dental", True, 5, 16), "spoke", "moved to Tuesday 8-9am"),
        ),
        ("call Acme Dental voicemail", LogCall(ClientRef("Acme Dental", True, 5, 16), "voicemail", None)),
        (
            "call Acme Dental VM left details",
            LogCall(ClientRef("Acme Dental", True, 5, 16), "voicemail", "left details"),
        ),
        ("call Acme Dental reached Jane", LogCall(ClientRef("Acme Dental", True, 5, 16), "spoke", "Jane")),
        ("call Acme Dental all good", LogCall(ClientRef("Acme Dental", True, 5, 16), "spoke", "all good")),
        ("call Acme Dental", LogCall(ClientRef("Acme Dental", True, 5, 16), "spoke", None)),
        ("call New Client vm", LogCall(ClientRef("New Client", False, 5, 15), "voicemail", None)),
        (
            "contact Acme Dental Jane Roe jane@acme.example +1 555 0100",
            SetContact(ClientRef("Acme Dental", True, 8, 19), "Jane Roe", "jane@acme.example", "+1 555 0100"),
        ),
        (
            "contact Acme Dental jane@acme.example",
            SetContact(ClientRef("Acme Dental", True, 8, 19), None, "jane@acme.example", None),
        ),
        (
            "contact Acme Dental Jane +1 (555) 010-0100 ext. 12",
            SetContact(ClientRef("Acme Dental", True, 8, 19), "Jane", None, "+1 (555) 010-0100 ext. 12"),
        ),
        (
            'contact "Café Müller GmbH" "Jan de Vries" 555-0100-12',
            SetContact(ClientRef("Café Müller GmbH", True, 8, 26), "Jan de Vries", None, "555-0100-12"),
        ),
        ("list", ListOpen(None)),
        ("LIST", ListOpen(None)),
        ("list Acme Dental", ListOpen(ClientRef("Acme Dental", True, 5, 16))),
        ('list "Café Müller GmbH"', ListOpen(ClientRef("Café Müller GmbH", True, 5, 23))),
        ("help", Help("visit")),
        ("Help", Help("visit")),
    ],
)
def test_visit_sub_commands(text: str, expected: object) -> None:
    assert visit(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "cancel New Client ill",
            NeedClient("cancel", 7, (("New Client ill", 21), ("New Client", 17), ("New", 10))),
        ),
        ("call New Client", NeedClient("call", 5, (("New Client", 15), ("New", 8)))),
        ("contact New Co Jane", NeedClient("contact", 8, (("New Co Jane", 19), ("New Co", 14), ("New", 11)))),
        ("list New", NeedClient("list", 5, (("New", 8),))),
        (
            "list Acme Dental extra",
            NeedClient("list", 5, (("Acme Dental extra", 22), ("Acme Dental", 16), ("Acme", 9))),
        ),
    ],
)
def test_visit_commands_that_cannot_split_an_unknown_client_ask(text: str, expected: NeedClient) -> None:
    assert visit(text) == expected


@pytest.mark.parametrize(
    ("text", "message", "example"),
    [
        ("", "Which client, how long, and what did you do?", LOG_EXAMPLE),
        ("   ", "Which client, how long, and what did you do?", LOG_EXAMPLE),
        ("log", "Which client, how long, and what did you do?", LOG_EXAMPLE),
        (
            "Acme Dental replaced fuser",
            "How long were you at Acme Dental? Put the time right after the name (1h30, 90m, 1.5h or 1:30): "
            "the follow-up e-mail has to say it.",
            LOG_EXAMPLE,
        ),
        (
            "Acme Dental fixed 1h30",
            "How long were you at Acme Dental? Put the time right after the name (1h30, 90m, 1.5h or 1:30): "
            "the follow-up e-mail has to say it.",
            LOG_EXAMPLE,
        ),
        (
            "New Client replaced fuser",
            "How long did the visit take? Add the time (1h30, 90m, 1.5h or 1:30) after the client's name: "
            "the follow-up e-mail has to say it.",
            LOG_EXAMPLE,
        ),
        ("Acme Dental 0m nothing", None, LOG_EXAMPLE),
        ("Acme Dental 25h everything", None, LOG_EXAMPLE),
        ("45m reset VPN", "Start with the client's name, then the time spent.", LOG_EXAMPLE),
        (
            "Acme Dental 1h30",
            "What did you do at Acme Dental? Add a few words after the time; "
            "they go into the follow-up e-mail.",
            LOG_EXAMPLE,
        ),
        (
            "Acme Dental 1h30 todo: order toner",
            "What did you do at Acme Dental? Add a few words after the time; "
            "they go into the follow-up e-mail.",
            LOG_EXAMPLE,
        ),
        ('"" 45m reset VPN', "The client's name is empty.", LOG_EXAMPLE),
        ('"' + "A" * 201 + '" 45m reset VPN', "A client name can be at most 200 characters.", LOG_EXAMPLE),
        ("plan", "Which client, which day and what arrival window?", PLAN_EXAMPLE),
        ("plan Acme Dental Friday", "I need a day and an arrival window.", PLAN_EXAMPLE),
        ("plan New Client Friday", "I need a day and an arrival window.", PLAN_EXAMPLE),
        ("plan Acme Dental 25-26", "That arrival window has an hour that doesn't exist.", PLAN_EXAMPLE),
        ("plan Acme Dental Friday 9-8am", "The window ends before it starts.", PLAN_EXAMPLE),
        (
            "plan Acme Dental today 8-9am",
            "That window is already over. Which day did you mean?",
            PLAN_EXAMPLE,
        ),
        (
            "plan Acme Dental 2026-11-20 8-9am",
            "That window is already over. Which day did you mean?",
            PLAN_EXAMPLE,
        ),
        ("cancel", "Which client's appointment should I cancel?", CANCEL_EXAMPLE),
        ("call", "Which client did you call?", CALL_EXAMPLE),
        ("contact", "Which client, and who is their contact?", CONTACT_EXAMPLE),
        (
            "contact Acme Dental",
            "Who is the contact at Acme Dental? Give a name, e-mail or phone.",
            CONTACT_EXAMPLE,
        ),
        ("contact Acme Dental Jane 12", "“12” doesn't look like a phone number.", CONTACT_EXAMPLE),
        (
            'contact Acme Dental "' + "J" * 201 + '"',
            "A contact name can be at most 200 characters.",
            CONTACT_EXAMPLE,
        ),
        (
            '"Acme Dental 1h30 fixed',
            "A quote is opened but never closed.",
            '/visit "Café Müller GmbH" 45m reset VPN',
        ),
        ("x" * (MAX_TEXT + 1), "That's longer than I can take (3000 characters).", LOG_EXAMPLE),
    ],
)
def test_visit_refusals_say_what_is_wrong_with_an_example(
    text: str, message: str | None, example: str
) -> None:
    result = visit(text)

    assert isinstance(result, ParseError)
    if message is not None:
        assert result.message == message
    assert result.message
    assert result.example == example


def test_a_visit_of_exactly_the_maximum_length_is_taken() -> None:
    text = "Acme Dental 1h " + "x" * (MAX_TEXT - 15)

    assert len(text) == MAX_TEXT
    assert visit(text) == LogVisit(ACME, 60, "x" * (MAX_TEXT - 15), None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Acme Dental send the revised quote by Friday",
            AddPromise(ACME, "send the revised quote", chicago(2026, 11, 27, 23, 59), False),
        ),
        (
            "Acme Dental call back due tomorrow 5pm",
            AddPromise(ACME, "call back", chicago(2026, 11, 24, 17), True),
        ),
        (
            "Acme Dental check backups on 2026-12-03",
            AddPromise(ACME, "check backups", chicago(2026, 12, 3, 23, 59), False),
        ),
        ("Acme Dental call in 2 days", AddPromise(ACME, "call", chicago(2026, 11, 25, 23, 59), False)),
        (
            "Acme Dental send quote tomorrow",
            AddPromise(ACME, "send quote", chicago(2026, 11, 24, 23, 59), False),
        ),
        (
            "Acme Dental send quote by today",
            AddPromise(ACME, "send quote", chicago(2026, 11, 23, 23, 59), False),
        ),
        (
            "Acme Dental order a new monitor by next Tuesday",
            AddPromise(ACME, "order a new monitor", chicago(2026, 11, 24, 23, 59), False),
        ),
        (
            '"Café Müller GmbH" call back by Friday',
            AddPromise(
                ClientRef("Café Müller GmbH", True, 0, 18), "call back", chicago(2026, 11, 27, 23, 59), False
            ),
        ),
        (
            '"New Client" send quote by Friday',
            AddPromise(
                ClientRef("New Client", False, 0, 12), "send quote", chicago(2026, 11, 27, 23, 59), False
            ),
        ),
        ("done 12", PromiseDone((12,))),
        ("done 12 13", PromiseDone((12, 13))),
        ("done #12, 13", PromiseDone((12, 13))),
        ("done 12 12", PromiseDone((12,))),
        ("move 12 to Friday", MovePromise(12, chicago(2026, 11, 27, 23, 59), False)),
        ("move 12 Friday", MovePromise(12, chicago(2026, 11, 27, 23, 59), False)),
        ("move #12 until tomorrow 5pm", MovePromise(12, chicago(2026, 11, 24, 17), True)),
        ("list", ListPromises()),
        ("help", Help("promise")),
    ],
)
def test_promise_sub_commands(text: str, expected: object) -> None:
    assert promise(text) == expected


def test_promise_due_dates_are_in_the_technicians_zone() -> None:
    result = promise("Acme Dental send the revised quote by Friday", tz=BERLIN)

    assert result == AddPromise(
        ACME, "send the revised quote", datetime(2026, 11, 27, 23, 59, tzinfo=BERLIN), False
    )
    assert result.due.astimezone(UTC) == datetime(2026, 11, 27, 22, 59, tzinfo=UTC)


def test_a_promise_to_an_unknown_unquoted_client_asks_which_words_are_the_name() -> None:
    assert promise("New Client send quote by Friday") == NeedClient(
        "promise",
        0,
        (
            ("New Client send quote by Friday", 31),
            ("New Client send quote by", 24),
            ("New Client send quote", 21),
            ("New Client send", 15),
            ("New Client", 10),
            ("New", 3),
        ),
    )


BY_WHEN = "By when? A promise to Acme Dental needs a due date, like “by Friday” or “by 2026-12-03”."
PAST = "That date is already past. When will you do it?"


@pytest.mark.parametrize(
    ("text", "message", "example"),
    [
        ("", "Which client, what did you promise, and by when?", PROMISE_EXAMPLE),
        ("Acme Dental send the revised quote", BY_WHEN, PROMISE_EXAMPLE),
        ("Acme Dental replace the monitor", BY_WHEN, PROMISE_EXAMPLE),
        # dateparser alone reads this as 23 May 2027; refusing beats a wrong date.
        ("Acme Dental call back by Friday at 5", BY_WHEN, PROMISE_EXAMPLE),
        ("Acme Dental by Friday", "What did you promise Acme Dental?", PROMISE_EXAMPLE),
        ("Acme Dental fix it by yesterday", PAST, PROMISE_EXAMPLE),
        ("Acme Dental send quote by today 8am", PAST, PROMISE_EXAMPLE),
        ("Acme Dental send quote by 2026-11-20", PAST, PROMISE_EXAMPLE),
        ('"" send quote by Friday', "The client's name is empty.", PROMISE_EXAMPLE),
        ("done", "Which promise? Give its number from `/promise list`.", DONE_EXAMPLE),
        ("done 12 x", "“x” isn't a promise number; `/promise list` shows them.", DONE_EXAMPLE),
        ("move", "Which promise? Give its number from `/promise list`, then the new date.", MOVE_EXAMPLE),
        ("move 12", "To which date? Give the new due date after the number.", MOVE_EXAMPLE),
        ("move 12 to someday", "To which date? Give the new due date after the number.", MOVE_EXAMPLE),
        ("move 12 to yesterday", PAST, MOVE_EXAMPLE),
        (
            "“Acme Dental send quote by Friday",
            "A quote is opened but never closed.",
            '/promise "Café Müller GmbH" call back by Friday',
        ),
        ("x" * (MAX_TEXT + 1), "That's longer than I can take (3000 characters).", PROMISE_EXAMPLE),
    ],
)
def test_promise_refusals_say_what_is_wrong_with_an_example(text: str, message: str, example: str) -> None:
    assert promise(text) == ParseError(message, example)


EXAMPLES = [
    LOG_EXAMPLE,
    PLAN_EXAMPLE,
    CANCEL_EXAMPLE,
    CALL_EXAMPLE,
    CONTACT_EXAMPLE,
    "/visit list Acme Dental",
    "/visit help",
    '/visit "Café Müller GmbH" 45m reset VPN',
    PROMISE_EXAMPLE,
    DONE_EXAMPLE,
    MOVE_EXAMPLE,
    '/promise "Café Müller GmbH" call back by Friday',
    CADENCE_EXAMPLE,
    PAUSE_EXAMPLE,
    "/visit pause until 2026-12-07",
    RESUME_EXAMPLE,
    HOURS_EXAMPLE,
    "/visit hours 7-15",
    "/visit hours 8-18 mon-sat",
]
# Every day of the week, at the start and at the end of the working day in Chicago.
NOWS = [NOW + timedelta(days=day, hours=hours) for day in range(7) for hours in (0, 8)]


def parse_example(example: str, now: datetime) -> object:
    command, _, text = example.partition(" ")
    parse = parse_visit if command == "/visit" else parse_promise
    return parse(text, known=KNOWN & candidate_keys(text), now=now, tz=CHICAGO)


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_given_with_a_refusal_parses_on_any_day(example: str) -> None:
    for now in NOWS:
        result = parse_example(example, now)
        assert not isinstance(result, ParseError | NeedClient), (now, result)


def test_every_refusal_example_is_one_of_the_examples_checked() -> None:
    refusals = [
        visit(""),
        visit("plan"),
        visit("cancel"),
        visit("call"),
        visit("contact"),
        visit('"x'),
        visit("cadence"),
        visit("pause"),
        visit("resume now"),
        visit("hours 25-26"),
        promise(""),
        promise("done"),
        promise("move"),
        promise('"x'),
    ]

    assert {refusal.example for refusal in refusals} <= set(EXAMPLES)


def test_the_documented_command_table_parses() -> None:
    assert isinstance(visit("Acme Dental 1h30 replaced fuser; todo: order toner"), LogVisit)
    assert isinstance(visit("plan Acme Dental Friday 8-9am"), PlanAppointment)
    assert isinstance(visit("cancel Acme Dental"), CancelAppointment)
    assert isinstance(visit("call Acme Dental voicemail"), LogCall)
    assert isinstance(visit("contact Acme Dental Jane Roe jane@acme.example +1 555 0100"), SetContact)
    assert isinstance(promise("Acme Dental send the revised quote by Friday"), AddPromise)
    assert isinstance(promise("done 12 13"), PromiseDone)
    assert isinstance(promise("move 12 to Friday"), MovePromise)
    assert isinstance(visit("cadence Acme Dental 14"), SetCadence)
    assert isinstance(visit("pause until 2026-12-07"), PauseNudges)
    assert isinstance(visit("pause until Monday"), PauseNudges)
    assert isinstance(visit("resume"), ResumeNudges)
    assert isinstance(visit("hours 7-15"), SetHours)
    assert isinstance(visit("hours 7:30-16"), SetHours)
    assert isinstance(visit("hours 8-18 mon-sat"), SetHours)


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("", set()),
        ('"Acme', set()),
        (
            "Acme Dental 1h30 fixed",
            {
                "acme",
                "acme dental",
                "acme dental 1h30",
                "acme dental 1h30 fixed",
                "dental",
                "dental 1h30",
                "dental 1h30 fixed",
            },
        ),
        (
            'plan "Café Müller GmbH" Friday 8-9am',
            {
                "plan",
                "plan café müller gmbh",
                "plan café müller gmbh friday",
                "plan café müller gmbh friday 8-9am",
                "café müller gmbh",
            },
        ),
        ('"ACME Dental" 1h', {"acme dental", "1h"}),
    ],
)
def test_candidate_keys_are_every_name_the_text_could_start_with(text: str, keys: set[str]) -> None:
    assert candidate_keys(text) == keys


VISIT_TYPES = (
    LogVisit,
    PlanAppointment,
    CancelAppointment,
    LogCall,
    SetContact,
    ListOpen,
    Help,
    SetCadence,
    PauseNudges,
    ResumeNudges,
    SetHours,
    ShowHours,
    ClientReport,
    ShowDigest,
    NeedClient,
    ParseError,
)
PROMISE_TYPES = (AddPromise, PromiseDone, MovePromise, ListPromises, Help, NeedClient, ParseError)

COMMAND_WORDS = st.sampled_from(
    [
        "plan",
        "cancel",
        "call",
        "contact",
        "list",
        "help",
        "log",
        "cadence",
        "pause",
        "resume",
        "hours",
        "until",
        "every",
        "days",
        "mon-sat",
        "sun-thu",
        "7-15",
        "7:30-16",
        "14",
        "0",
        "done",
        "move",
        "to",
        "by",
        "due",
        "on",
        "todo:",
        ";",
        "spoke",
        "voicemail",
        "vm",
        "jane@acme.example",
        "+1",
        "555",
        "0100",
        "ext.",
        "#12",
        "12,",
        "13",
    ]
)
CLIENT_WORDS = st.sampled_from(
    [
        "Acme Dental",
        "acme",
        "Dental",
        "CAFÉ MÜLLER GMBH",
        "Café",
        "Müller",
        "GmbH",
        "New",
        "Client",
        "Suite 3",
    ]
)
TIME_WORDS = st.sampled_from(
    "1h30 90m 1.5h 1:30 2 hours 0m 25:00 1441m Friday tomorrow 5pm in 3 days 2026-12-03 2026-11-01 "
    "9999-12-31 next Tuesday yesterday 8-9am 8–9am 11-1pm 2-3 25-26 14:00-15:30 9am 11pm at".split()
)
QUOTE_MARKS = st.sampled_from(['"', "“", "”", "„", "«", "»", "'"])
GRAMMAR = st.lists(
    st.one_of(COMMAND_WORDS, CLIENT_WORDS, TIME_WORDS, QUOTE_MARKS, st.text(max_size=4)), max_size=10
).map(" ".join)
TEXTS = st.one_of(st.text(), GRAMMAR)


def check_visit(result: object) -> None:
    assert isinstance(result, VISIT_TYPES)
    match result:
        case ParseError(message, example):
            assert message.strip()
            assert example.startswith("/visit ")
        case LogVisit(client, minutes, work_done, _):
            assert client.name.strip()
            assert 1 <= minutes <= MAX_MINUTES
            assert work_done
        case PlanAppointment(_, start, end, _):
            assert NOW < end
            assert timedelta(0) < end - start <= MAX_WINDOW
        case NeedClient(_, _, candidates):
            assert candidates
        case SetCadence(client, days):
            assert client.name.strip()
            assert 1 <= days <= 365
        case PauseNudges(until):
            assert NOW.astimezone(CHICAGO).date() < until
        case SetHours(start, end, days):
            assert (start is None) == (end is None)
            assert start is None or end is None or start < end
            assert days is None or days
            assert start is not None or days is not None


def check_promise(result: object) -> None:
    assert isinstance(result, PROMISE_TYPES)
    match result:
        case ParseError(message, example):
            assert message.strip()
            assert example.startswith("/promise ")
        case AddPromise(client, text, due, _):
            assert client.name.strip()
            assert text
            assert due >= NOW
        case MovePromise(_, due, _):
            assert due >= NOW
        case PromiseDone(ids):
            assert ids


@settings(max_examples=200, deadline=None)
@given(TEXTS)
def test_parse_visit_never_raises_and_returns_a_declared_result(text: str) -> None:
    check_visit(visit(text))


@settings(max_examples=200, deadline=None)
@given(TEXTS)
def test_parse_promise_never_raises_and_returns_a_declared_result(text: str) -> None:
    check_promise(promise(text))


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(
        [
            "",
            "plan ",
            "cancel ",
            "call ",
            "contact ",
            "list ",
            "log ",
            "cadence ",
            "pause ",
            "resume ",
            "hours ",
        ]
    ),
    GRAMMAR,
)
def test_parse_visit_of_any_sub_command_never_raises(action: str, rest: str) -> None:
    check_visit(visit(action + rest))


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["", "done ", "move ", "Acme Dental ", '"New Client" ']), GRAMMAR)
def test_parse_promise_of_any_sub_command_never_raises(action: str, rest: str) -> None:
    check_promise(promise(action + rest))
