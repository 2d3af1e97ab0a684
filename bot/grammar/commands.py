"""Parsing `/visit` and `/promise` text into typed commands, or a specific error with an example."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.grammar.durations import parse_duration
from bot.grammar.when import (
    When,
    WhenError,
    parse_day_or_moment,
    parse_hours,
    parse_month,
    parse_window,
)
from bot.grammar.words import (
    UnclosedQuote,
    Word,
    client_prefixes,
    is_email,
    join,
    looks_like_phone,
    match_key,
    tokenize,
)

MAX_TEXT = 3000
MAX_NAME = 200

LOG_EXAMPLE = "/visit Acme Dental 1h30 replaced fuser; todo: order toner"
PLAN_EXAMPLE = "/visit plan Acme Dental Friday 8-9am"
CANCEL_EXAMPLE = "/visit cancel Acme Dental technician ill"
CALL_EXAMPLE = "/visit call Acme Dental spoke moved to Tuesday 8-9am"
CONTACT_EXAMPLE = "/visit contact Acme Dental Jane Roe jane@acme.example +1 555 0100"
LIST_EXAMPLE = "/visit list Acme Dental"
PROMISE_EXAMPLE = "/promise Acme Dental send the revised quote by Friday"
DONE_EXAMPLE = "/promise done 12"
MOVE_EXAMPLE = "/promise move 12 to next Tuesday"
CADENCE_EXAMPLE = "/visit cadence Acme Dental 14"
PAUSE_EXAMPLE = "/visit pause until Monday"
RESUME_EXAMPLE = "/visit resume"
HOURS_EXAMPLE = "/visit hours 7:30-16 mon-fri"
REPORT_EXAMPLE = "/visit report Acme Dental November"
DIGEST_EXAMPLE = "/visit digest"
CLIENTS_EXAMPLE = "/visit clients overdue"
OWNER_EXAMPLE = "/visit owner Acme Dental @ana"
RENAME_EXAMPLE = "/visit rename Acme Dentl to Acme Dental"
MERGE_EXAMPLE = "/visit merge Acme Dentl into Acme Dental"
ARCHIVE_EXAMPLE = "/visit archive Acme Dental"
UNARCHIVE_EXAMPLE = "/visit unarchive Acme Dental"
EXPORT_EXAMPLE = "/visit export"
NOTIFY_EXAMPLE = '/visit notify Acme Dental "reboot the mail server" Saturday 22:00-23:00'
FEEDBACK_EXAMPLE = "/visit feedback Acme Dental 2 waited a week for the printer"
FEEDBACK_EVERY_EXAMPLE = "/visit feedback every 120 days"
MOOD_EXAMPLE = "/visit Acme Dental 1h30 replaced fuser; mood: unhappy"
REPAIR_EXAMPLE = "/visit call Acme Dental spoke apologised; repair: replaced the dock today"

VISIT_ACTIONS = (
    "log",
    "plan",
    "cancel",
    "call",
    "contact",
    "list",
    "help",
    "cadence",
    "pause",
    "resume",
    "hours",
    "report",
    "digest",
    "clients",
    "owner",
    "rename",
    "merge",
    "archive",
    "unarchive",
    "export",
    "notify",
    "feedback",
)
# Words added after clients were named freely: an existing client named like one still logs.
SETTINGS_ACTIONS = frozenset({"cadence", "pause", "resume", "hours", "report", "digest"})
ROSTER_ACTIONS = frozenset({"clients", "owner", "rename", "merge", "archive", "unarchive", "export"})
HEARING_ACTIONS = frozenset({"notify", "feedback"})
# `/visit clients …`: which clients to list (anything else names an owner).
CLIENT_VIEWS = frozenset({"overdue", "all"})
# Who owns nobody's clients, in `/visit owner Acme Dental nobody`.
_NOBODY = {"nobody", "none", "noone", "no-one", "-"}
MAX_CADENCE_DAYS = 365
MIN_FEEDBACK_EVERY_DAYS, MAX_FEEDBACK_EVERY_DAYS = 14, 365
MAX_COMMENT = 1000
MAX_PAUSE_DAYS = 365
PROMISE_ACTIONS = ("done", "move", "list", "help")

Outcome = Literal["spoke", "voicemail"]
_OUTCOMES: dict[str, Outcome] = {
    "spoke": "spoke",
    "reached": "spoke",
    "voicemail": "voicemail",
    "vm": "voicemail",
    "left-voicemail": "voicemail",
}
_TODO = re.compile(r"(?:^|[;.\n]|\s)\s*(?:todo|to do|to-do|left|remaining|next)\s*:", re.IGNORECASE)
_DUE_WORDS = {"by", "due", "before", "on", "until", "till"}
_DATE_START = re.compile(
    r"^(?:today|tonight|tomorrow|tmrw|next|in|mon|tue|wed|thu|fri|sat|sun|jan|feb|mar|apr|may|jun|jul|aug"
    r"|sep|oct|nov|dec|\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.]\d{1,2})",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"^#?(\d{1,9})$")
# A score of 2 or less is unhappy: the client is at risk until the relationship is repaired.
NEGATIVE_AT_MOST = 2
_MOOD_WORDS = {
    "happy": 5,
    "great": 5,
    "delighted": 5,
    "pleased": 5,
    "good": 4,
    "😀": 5,
    "😃": 5,
    "🙂": 4,
    ":)": 4,
    "ok": 3,
    "okay": 3,
    "fine": 3,
    "neutral": 3,
    "meh": 3,
    "😐": 3,
    "annoyed": 2,
    "frustrated": 2,
    "disappointed": 2,
    "unhappy": 1,
    "upset": 1,
    "angry": 1,
    "bad": 1,
    "🙁": 1,
    "☹️": 1,
    "☹": 1,
    "😠": 1,
    ":(": 1,
}
_SCORE = re.compile(r"^([1-5])(?:/5)?$")
# `mood: unhappy` and `repair: …` in a visit's or a call's text; each runs to a `;`, a line's end or the
# next such word.
_CLAUSE = re.compile(r"(?:^|(?<=[;.,\s]))(?P<name>mood|repair)\s*:", re.IGNORECASE)
_CLAUSE_END = re.compile(
    r"[;\n]|(?<=\s)(?:todo|to do|to-do|left|remaining|next|mood|repair)\s*:", re.IGNORECASE
)
# What the client will notice during a change: `; impact: no e-mail for 15 minutes`.
_IMPACT = re.compile(
    r"(?:^|[;\n]|\s)\s*(?:impact|effect|they(?:'|’)ll notice|they will notice)\s*:", re.IGNORECASE
)
# Words that may sit between what will change and its window: "reboot the server on Saturday 22-23".
_WINDOW_LEAD = {"on", "at", "from", "between", "during"}
MAX_WHAT = 500
# A cadence ends the text: "14", "14d", "14 days", "2 weeks", "2w" (optionally after "every").
_CADENCE = re.compile(r"^(?P<number>[+-]?\d+(?:[.,]\d+)?)(?P<unit>d|days?|w|wks?|weeks?)?$", re.IGNORECASE)
_UNITS = {"d": 1, "day": 1, "days": 1, "w": 7, "wk": 7, "wks": 7, "week": 7, "weeks": 7}
_UNTIL = {"until", "till", "til", "to"}
# What a mistyped month starts with ("Novembr", "2026/11", "next month"), as opposed to more of a name.
_NOT_A_MONTH = "I can't tell which month “{}” is: write it like November, Nov 2026, 2026-11 or last month."
_MONTHISH = re.compile(
    r"^(?:\d|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|last|this|next)", re.IGNORECASE
)


@dataclass(frozen=True)
class ClientRef:
    """The client a command names: as typed, whether it already exists, and where it sits in the text."""

    name: str
    known: bool
    start: int
    end: int


@dataclass(frozen=True)
class NeedClient:
    """The client name can't be told from the rest of the text without knowing the client."""

    action: str
    start: int
    candidates: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class ParseError:
    """What was wrong with the text, and a command that would work."""

    message: str
    example: str


@dataclass(frozen=True)
class LogVisit:
    """`/visit Acme Dental 1h30 replaced fuser; todo: order toner`."""

    client: ClientRef
    minutes: int
    work_done: str
    remaining: str | None
    # `mood: unhappy` (a score 1-5 and any words after it), `repair: …` (None: not a repair).
    mood: Mood | None = None
    repair: str | None = None


@dataclass(frozen=True)
class PlanAppointment:
    """`/visit plan Acme Dental Friday 8-9am`."""

    client: ClientRef
    start: datetime
    end: datetime
    given_end: bool


@dataclass(frozen=True)
class CancelAppointment:
    """`/visit cancel Acme Dental [reason]`."""

    client: ClientRef
    reason: str | None


@dataclass(frozen=True)
class LogCall:
    """`/visit call Acme Dental [spoke|voicemail] [note]`."""

    client: ClientRef
    outcome: Outcome
    note: str | None
    mood: Mood | None = None
    repair: str | None = None


@dataclass(frozen=True)
class SetContact:
    """`/visit contact Acme Dental Jane Roe jane@acme.example +1 555 0100`."""

    client: ClientRef
    name: str | None
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class ListOpen:
    """`/visit list [client]`."""

    client: ClientRef | None


@dataclass(frozen=True)
class SetCadence:
    """`/visit cadence Acme Dental 14`: check in with the client every 14 days."""

    client: ClientRef
    days: int


@dataclass(frozen=True)
class PauseNudges:
    """`/visit pause until 2026-12-07`: no reminders before that local date."""

    until: date


@dataclass(frozen=True)
class ResumeNudges:
    """`/visit resume`: end a pause now."""


@dataclass(frozen=True)
class SetHours:
    """`/visit hours 7:30-16 mon-fri`: working hours, working days, or both (None: keep as is)."""

    start: time | None
    end: time | None
    days: frozenset[int] | None


@dataclass(frozen=True)
class ShowHours:
    """`/visit hours`: show the working hours and any pause."""


@dataclass(frozen=True)
class ClientReport:
    """`/visit report Acme Dental November`: the client's month, to e-mail them; `month` is its first day,
    None for the current month."""

    client: ClientRef
    month: date | None


@dataclass(frozen=True)
class ShowDigest:
    """`/visit digest`: a manager asks for the team digest now."""


@dataclass(frozen=True)
class DigestHere:
    """`digest here`, typed in a channel: a manager chooses where the weekly digest is posted."""


@dataclass(frozen=True)
class ListClients:
    """`/visit clients [overdue|all|@person|me]`: the clients, most overdue for a check-in first."""

    view: Literal["active", "overdue", "all", "owner"]
    owner: str | None = None  # as typed: a mention, a display name, an e-mail, or "me"


@dataclass(frozen=True)
class SetOwner:
    """`/visit owner Acme Dental @ana` (or `nobody`): who checks in with the client."""

    client: ClientRef
    owner: str | None


@dataclass(frozen=True)
class RenameClient:
    """`/visit rename Acme Dentl to Acme Dental`."""

    client: ClientRef
    new_name: str


@dataclass(frozen=True)
class MergeClients:
    """`/visit merge Acme Dentl into Acme Dental`: the duplicate's history moves, then it is gone."""

    client: ClientRef  # the duplicate
    into: ClientRef


@dataclass(frozen=True)
class ArchiveClient:
    """`/visit archive Acme Dental` (a client who left) or `/visit unarchive Acme Dental`."""

    client: ClientRef
    archived: bool


@dataclass(frozen=True)
class ExportData:
    """`/visit export`: a manager gets everything of the workspace as a zip file."""


@dataclass(frozen=True)
class NotifyChange:
    """`/visit notify Acme Dental "reboot the mail server" Saturday 22:00-23:00; impact: no e-mail`."""

    client: ClientRef
    what: str
    start: datetime
    end: datetime
    impact: str | None


@dataclass(frozen=True)
class ListNotices:
    """`/visit notify list`: the change notices still open."""


@dataclass(frozen=True)
class Mood:
    """How the client feels, 1 (unhappy) to 5 (happy), and what they said."""

    score: int
    comment: str | None = None

    @property
    def negative(self) -> bool:
        """Unhappy: the client is at risk."""
        return self.score <= NEGATIVE_AT_MOST


@dataclass(frozen=True)
class RecordFeedback:
    """`/visit feedback Acme Dental 2 waited a week for the printer`."""

    client: ClientRef
    mood: Mood


@dataclass(frozen=True)
class SetFeedbackEvery:
    """`/visit feedback every 120 days`: ask a client how we are doing when they've said nothing that long."""

    days: int


@dataclass(frozen=True)
class Help:
    """`/visit help` or `/promise help`."""

    command: Literal["visit", "promise"]


@dataclass(frozen=True)
class AddPromise:
    """`/promise Acme Dental send the revised quote by Friday`."""

    client: ClientRef
    text: str
    due: datetime
    due_has_time: bool


@dataclass(frozen=True)
class PromiseDone:
    """`/promise done 12`."""

    ids: tuple[int, ...]


@dataclass(frozen=True)
class MovePromise:
    """`/promise move 12 to Friday`."""

    id: int
    due: datetime
    due_has_time: bool


@dataclass(frozen=True)
class ListPromises:
    """`/promise list`."""


VisitCommand = (
    LogVisit
    | PlanAppointment
    | CancelAppointment
    | LogCall
    | SetContact
    | ListOpen
    | Help
    | SetCadence
    | PauseNudges
    | ResumeNudges
    | SetHours
    | ShowHours
    | ClientReport
    | ShowDigest
    | DigestHere
    | ListClients
    | SetOwner
    | RenameClient
    | MergeClients
    | ArchiveClient
    | ExportData
    | NotifyChange
    | ListNotices
    | RecordFeedback
    | SetFeedbackEvery
)
PromiseCommand = AddPromise | PromiseDone | MovePromise | ListPromises | Help
Parsed = VisitCommand | PromiseCommand | NeedClient | ParseError


class _Refusal(Exception):
    def __init__(self, message: str, example: str) -> None:
        super().__init__(message)
        self.message = message
        self.example = example


def candidate_keys(text: str) -> set[str]:
    """Match keys of every name the text could start with (after an optional action word)."""
    try:
        words = tokenize(text)
    except UnclosedQuote:
        return set()
    keys: set[str] = set()
    for skip in (0, 1):
        keys.update(match_key(name) for name, _ in client_prefixes(words[skip:]))
    # `/visit merge Acme Dentl into Acme Dental`: the client kept is named after "into".
    for index, word in enumerate(words):
        if not word.quoted and word.text.lower() == "into":
            keys.update(match_key(name) for name, _ in client_prefixes(words[index + 1 :]))
    return keys


def _rest(text: str, words: list[Word], index: int) -> str:
    return text[words[index].start :].strip() if index < len(words) else ""


def _known_client(words: list[Word], known: Collection[str]) -> tuple[ClientRef, int] | None:
    """The longest leading name that is a known client, or a quoted name (known or new)."""
    if words and words[0].quoted:
        name = words[0].text
        return ClientRef(name, match_key(name) in known, words[0].start, words[0].end), 1
    for name, count in client_prefixes(words):
        if match_key(name) in known:
            return ClientRef(name, True, words[0].start, words[count - 1].end), count
    return None


def _need_client(action: str, words: list[Word]) -> NeedClient:
    candidates = tuple((name, words[count - 1].end) for name, count in client_prefixes(words))
    return NeedClient(action=action, start=words[0].start, candidates=candidates)


def _check_name(client: ClientRef, example: str) -> None:
    if not client.name.strip():
        raise _Refusal("The client's name is empty.", example)
    if len(client.name) > MAX_NAME:
        raise _Refusal(f"A client name can be at most {MAX_NAME} characters.", example)


def _unnamed(words: list[Word], count: int) -> ClientRef:
    return ClientRef(join(words[:count]), False, words[0].start, words[count - 1].end)


def _split_work(text: str) -> tuple[str, str | None]:
    match = _TODO.search(text)
    if not match:
        return text.strip(" ;"), None
    done = text[: match.start()].strip(" ;.")
    left = text[match.end() :].strip(" ;")
    return done, (left or None)


def _find_duration(words: list[Word]) -> tuple[int, int, int] | None:
    """(index, words used, minutes) of the first duration, reading "2 hours" as one."""
    for index, word in enumerate(words):
        if word.quoted:
            continue
        if (minutes := parse_duration(word.text)) is not None:
            return index, 1, minutes
        if index + 1 < len(words) and word.text.replace(".", "").replace(",", "").isdigit():
            # Joined with a space, not glued: in "Suite 3 45m" the time is 45m, never "345m".
            minutes = parse_duration(f"{word.text} {words[index + 1].text}")
            if minutes is not None:
                return index, 2, minutes
    return None


def _log(text: str, words: list[Word], known: Collection[str]) -> LogVisit:
    if not words:
        raise _Refusal("Which client, how long, and what did you do?", LOG_EXAMPLE)
    found = _known_client(words, known)
    if found is not None:
        client, count = found
        duration = _find_duration(words[count:])
        if duration is None or duration[0] != 0:
            raise _Refusal(
                f"How long were you at {client.name}? Put the time right after the name "
                "(1h30, 90m, 1.5h or 1:30): the follow-up e-mail has to say it.",
                LOG_EXAMPLE,
            )
        at, used, minutes = count, duration[1], duration[2]
    else:
        duration = _find_duration(words)
        if duration is None:
            raise _Refusal(
                "How long did the visit take? Add the time (1h30, 90m, 1.5h or 1:30) after the client's "
                "name: the follow-up e-mail has to say it.",
                LOG_EXAMPLE,
            )
        index, used, minutes = duration
        if index == 0:
            raise _Refusal("Start with the client's name, then the time spent.", LOG_EXAMPLE)
        client, at = _unnamed(words, index), index
    _check_name(client, LOG_EXAMPLE)
    work_done, remaining = _split_work(_rest(text, words, at + used))
    if not work_done:
        raise _Refusal(
            f"What did you do at {client.name}? Add a few words after the time; "
            "they go into the follow-up e-mail.",
            LOG_EXAMPLE,
        )
    return LogVisit(client=client, minutes=minutes, work_done=work_done, remaining=remaining)


def _plan(
    text: str, words: list[Word], known: Collection[str], now: datetime, tz: ZoneInfo
) -> PlanAppointment:
    if not words:
        raise _Refusal("Which client, which day and what arrival window?", PLAN_EXAMPLE)
    found = _known_client(words, known)
    splits = [found] if found is not None else [(_unnamed(words, i), i) for i in range(1, len(words))]
    last_error = "I need a day and an arrival window after the client's name"
    for client, count in splits:
        try:
            window = parse_window(_rest(text, words, count), now=now, tz=tz)
        except WhenError as error:
            last_error = str(error)
            continue
        _check_name(client, PLAN_EXAMPLE)
        if window.end <= now:
            raise _Refusal("That window is already over. Which day did you mean?", PLAN_EXAMPLE)
        return PlanAppointment(client=client, start=window.start, end=window.end, given_end=window.given_end)
    raise _Refusal(last_error[0].upper() + last_error[1:] + ".", PLAN_EXAMPLE)


def _cancel(text: str, words: list[Word], known: Collection[str]) -> CancelAppointment | NeedClient:
    if not words:
        raise _Refusal("Which client's appointment should I cancel?", CANCEL_EXAMPLE)
    found = _known_client(words, known)
    if found is None:
        return _need_client("cancel", words)
    client, count = found
    _check_name(client, CANCEL_EXAMPLE)
    return CancelAppointment(client=client, reason=_rest(text, words, count) or None)


def _call(text: str, words: list[Word], known: Collection[str]) -> LogCall | NeedClient:
    if not words:
        raise _Refusal("Which client did you call?", CALL_EXAMPLE)
    found = _known_client(words, known)
    if found is None:
        marker = next((i for i, w in enumerate(words) if i and w.text.lower() in _OUTCOMES), None)
        if marker is None:
            return _need_client("call", words)
        found = (_unnamed(words, marker), marker)
    client, count = found
    _check_name(client, CALL_EXAMPLE)
    outcome: Outcome = "spoke"
    if count < len(words) and words[count].text.lower() in _OUTCOMES:
        outcome = _OUTCOMES[words[count].text.lower()]
        count += 1
    return LogCall(client=client, outcome=outcome, note=_rest(text, words, count) or None)


def _contact(words: list[Word], known: Collection[str]) -> SetContact | NeedClient:
    if not words:
        raise _Refusal("Which client, and who is their contact?", CONTACT_EXAMPLE)
    found = _known_client(words, known)
    if found is None:
        return _need_client("contact", words)
    client, count = found
    _check_name(client, CONTACT_EXAMPLE)
    email: str | None = None
    phone_words: list[str] = []
    name_words: list[str] = []
    for word in words[count:]:
        if email is None and is_email(word.text):
            email = word.text
        elif not word.quoted and re.fullmatch(r"[+\d().\-/]+|x\d+|ext\.?", word.text, re.IGNORECASE):
            phone_words.append(word.text)
        else:
            name_words.append(word.text)
    phone = " ".join(phone_words) or None
    if phone is not None and not looks_like_phone(phone):
        raise _Refusal(f"“{phone}” doesn't look like a phone number.", CONTACT_EXAMPLE)
    name = " ".join(name_words) or None
    if not (name or email or phone):
        raise _Refusal(f"Who is the contact at {client.name}? Give a name, e-mail or phone.", CONTACT_EXAMPLE)
    if name and len(name) > MAX_NAME:
        raise _Refusal(f"A contact name can be at most {MAX_NAME} characters.", CONTACT_EXAMPLE)
    return SetContact(client=client, name=name, email=email, phone=phone)


def _list(words: list[Word], known: Collection[str]) -> ListOpen | NeedClient:
    if not words:
        return ListOpen(client=None)
    found = _known_client(words, known)
    if found is None or found[1] != len(words):
        return _need_client("list", words)
    return ListOpen(client=found[0])


def _cadence(words: list[Word], known: Collection[str]) -> SetCadence | NeedClient:
    if not words:
        raise _Refusal("Which client, and every how many days?", CADENCE_EXAMPLE)
    last = len(words) - 1
    unit = 1
    if last >= 1 and not words[last].quoted and words[last].text.lower() in _UNITS:
        unit = _UNITS[words[last].text.lower()]
        last -= 1
    match = _CADENCE.match(words[last].text) if not words[last].quoted else None
    if match is None:
        raise _Refusal(
            "How often? Put the number of days (1 to 365) after the client's name.", CADENCE_EXAMPLE
        )
    if match["unit"]:
        unit = _UNITS[match["unit"].lower()]
    named = words[:last]
    if named and not named[-1].quoted and named[-1].text.lower() == "every":
        named = named[:-1]
    if not named:
        raise _Refusal("Which client? Put its name before the number of days.", CADENCE_EXAMPLE)
    number = match["number"]
    if not number.isdigit() or not 1 <= int(number) * unit <= MAX_CADENCE_DAYS:
        raise _Refusal(
            f"A check-in cadence is a whole number of days from 1 to {MAX_CADENCE_DAYS}.", CADENCE_EXAMPLE
        )
    found = _known_client(named, known)
    if found is None or found[1] != len(named):
        return _need_client("cadence", named)
    _check_name(found[0], CADENCE_EXAMPLE)
    return SetCadence(client=found[0], days=int(number) * unit)


def _pause(text: str, words: list[Word], now: datetime, tz: ZoneInfo) -> PauseNudges:
    at = 1 if words and not words[0].quoted and words[0].text.lower() in _UNTIL else 0
    phrase = _rest(text, words, at)
    if not phrase:
        raise _Refusal("Until when? Give the day your reminders should start again.", PAUSE_EXAMPLE)
    if phrase.lower().startswith("for "):
        phrase = "in " + phrase[4:]  # "for 2 weeks" is "until in 2 weeks"
    when = parse_day_or_moment(phrase, now=now, tz=tz)
    if when is None:
        raise _Refusal(f"I can't tell which day “{phrase}” is.", PAUSE_EXAMPLE)
    today = now.astimezone(tz).date()
    until = when.at.date()
    if until <= today:
        raise _Refusal("Pick a day after today: your reminders start again that morning.", PAUSE_EXAMPLE)
    if until > today + timedelta(days=MAX_PAUSE_DAYS):
        raise _Refusal("A pause can last up to a year.", PAUSE_EXAMPLE)
    return PauseNudges(until)


def _hours(text: str, words: list[Word]) -> SetHours | ShowHours:
    phrase = _rest(text, words, 0)
    if not phrase:
        return ShowHours()
    try:
        hours = parse_hours(phrase)
    except WhenError as error:
        message = str(error)
        raise _Refusal(message[0].upper() + message[1:] + ".", HOURS_EXAMPLE) from None
    return SetHours(start=hours.start, end=hours.end, days=hours.days)


def _report(
    text: str, words: list[Word], known: Collection[str], now: datetime, tz: ZoneInfo
) -> ClientReport | NeedClient:
    if not words:
        raise _Refusal("Which client's report?", REPORT_EXAMPLE)
    whole = _known_client(words, known)
    if whole is not None and whole[1] == len(words):
        return ClientReport(client=whole[0], month=None)
    today = now.astimezone(tz).date()
    month = None
    named = words
    # The month comes last, in one or two words ("2026-11", "November", "Nov 2026", "last month").
    for size in (2, 1):
        if len(words) > size and not any(word.quoted for word in words[-size:]):
            month = parse_month(_rest(text, words, len(words) - size), today=today)
            if month is not None:
                named = words[:-size]
                break
    if month is None and len(words) > 1:
        # A known client followed by words that are no month ("Acme Dental Novembr"): say so, rather
        # than asking "did you mean Acme Dental?" about a name that was right.
        for size in (2, 1):
            found = _known_client(words[:-size], known) if len(words) > size else None
            tail = _rest(text, words, len(words) - size)
            named_exactly = found is not None and found[0].known and found[1] == len(words) - size
            if named_exactly and _MONTHISH.match(tail):
                raise _Refusal(_NOT_A_MONTH.format(tail), REPORT_EXAMPLE)
        tail = _rest(text, words, len(words) - 1)
        if re.match(r"^\d{4}-\d{1,2}$", tail) or tail.lower() in {"month"}:
            raise _Refusal(_NOT_A_MONTH.format(tail), REPORT_EXAMPLE)
    if month is not None and month > today:
        raise _Refusal("That month hasn't begun yet; pick this month or an earlier one.", REPORT_EXAMPLE)
    found = _known_client(named, known)
    if found is None or found[1] != len(named):
        return _need_client("report", named)
    return ClientReport(client=found[0], month=month)


def _settings(
    action: str, text: str, words: list[Word], known: Collection[str], now: datetime, tz: ZoneInfo
) -> VisitCommand | NeedClient:
    if action == "report":
        return _report(text, words, known, now, tz)
    if action == "digest":
        if len(words) == 1 and not words[0].quoted and words[0].text.lower() == "here":
            return DigestHere()
        if words:
            raise _Refusal("“digest” needs nothing after it: it covers the last 7 days.", DIGEST_EXAMPLE)
        return ShowDigest()
    if action == "cadence":
        return _cadence(words, known)
    if action == "pause":
        return _pause(text, words, now, tz)
    if action == "hours":
        return _hours(text, words)
    if words:
        raise _Refusal("“resume” needs nothing after it: it ends your pause now.", RESUME_EXAMPLE)
    return ResumeNudges()


def _whole_client(words: list[Word], known: Collection[str], action: str) -> ClientRef | NeedClient:
    """The client all of `words` names, or a NeedClient asking which one."""
    found = _known_client(words, known)
    if found is None or found[1] != len(words) or not found[0].known:
        return _need_client(action, words)
    return found[0]


def _split_at(words: list[Word], marker: str) -> int | None:
    """The index of the last unquoted `marker` word with words on both sides of it."""
    for index in range(len(words) - 2, 0, -1):
        if not words[index].quoted and words[index].text.lower() == marker:
            return index
    return None


def _roster(action: str, text: str, words: list[Word], known: Collection[str]) -> VisitCommand | NeedClient:
    if action == "export":
        if words:
            raise _Refusal(
                "“export” needs nothing after it: it sends everything of the team.", EXPORT_EXAMPLE
            )
        return ExportData()
    if action == "clients":
        said = _rest(text, words, 0)
        if not said:
            return ListClients("active")
        if said.lower() in CLIENT_VIEWS:
            return ListClients("overdue" if said.lower() == "overdue" else "all")
        return ListClients("owner", said)
    examples = {
        "owner": OWNER_EXAMPLE,
        "rename": RENAME_EXAMPLE,
        "merge": MERGE_EXAMPLE,
        "archive": ARCHIVE_EXAMPLE,
        "unarchive": UNARCHIVE_EXAMPLE,
    }
    example = examples[action]
    if not words:
        raise _Refusal("Which client?", example)
    if action in ("archive", "unarchive"):
        client = _whole_client(words, known, action)
        if isinstance(client, NeedClient):
            return client
        return ArchiveClient(client, archived=action == "archive")
    if action == "owner":
        if len(words) < 2:
            raise _Refusal("Which client, and who owns it? Mention them after the client's name.", example)
        who = words[-1].text
        client = _whole_client(words[:-1], known, action)
        if isinstance(client, NeedClient):
            return client
        return SetOwner(client, None if who.lower() in _NOBODY else who)
    marker = "to" if action == "rename" else "into"
    at = _split_at(words, marker)
    if at is None:
        raise _Refusal(f"Put “{marker}” between the two names.", example)
    client = _whole_client(words[:at], known, action)
    if isinstance(client, NeedClient):
        return client
    if action == "rename":
        new_name = _rest(text, words, at + 1)
        if words[at + 1].quoted and at + 2 == len(words):
            new_name = words[at + 1].text
        _check_name(ClientRef(new_name, False, 0, 0), example)
        return RenameClient(client, new_name)
    into = _whole_client(words[at + 1 :], known, action)
    if isinstance(into, NeedClient):
        return into
    if match_key(into.name) == match_key(client.name):
        raise _Refusal("Those are the same client: name the duplicate, then the one to keep.", example)
    return MergeClients(client, into)


def parse_mood(text: str) -> Mood | None:
    """`unhappy`, `2`, `4/5`, `🙁 waited a week`: the first word is the mood, the rest what they said."""
    words = text.split(None, 1)
    if not words:
        return None
    first = words[0].lower().strip(".,!")
    score = _MOOD_WORDS.get(first)
    if score is None and (match := _SCORE.match(first)):
        score = int(match[1])
    if score is None:
        return None
    comment = words[1].strip() if len(words) > 1 else ""
    return Mood(score, comment or None)


def _mood(said: str, example: str) -> Mood:
    mood = parse_mood(said)
    if mood is None:
        raise _Refusal(
            f"I can't tell how the client feels from “{said}”: write happy, ok or unhappy, or a score from "
            "1 (unhappy) to 5 (happy).",
            example,
        )
    if mood.comment is not None and len(mood.comment) > MAX_COMMENT:
        raise _Refusal(f"What the client said can be at most {MAX_COMMENT} characters.", example)
    return mood


def _clauses(text: str) -> tuple[str, str | None, str | None]:
    """Take `mood: …` and `repair: …` out of the text: (the rest, the mood as written, the repair)."""
    mood = repair = None
    while (match := _CLAUSE.search(text)) is not None:
        end_match = _CLAUSE_END.search(text, match.end())
        end = end_match.start() if end_match is not None else len(text)
        value = text[match.end() : end].strip()
        if match["name"].lower() == "mood":
            if mood is not None:
                raise _Refusal("Give the client's mood once.", MOOD_EXAMPLE)
            mood = value
        else:
            if repair is not None:
                raise _Refusal("Describe the repair once.", REPAIR_EXAMPLE)
            repair = value
        after = end + 1 if end < len(text) and text[end] in ";\n" else end
        text = (text[: match.start()].rstrip(" ;") + " " + text[after:].lstrip()).strip()
    return text, mood, repair


def _notify(
    text: str, words: list[Word], known: Collection[str], now: datetime, tz: ZoneInfo
) -> VisitCommand | NeedClient:
    if len(words) == 1 and not words[0].quoted and words[0].text.lower() == "list":
        return ListNotices()
    if not words:
        raise _Refusal("Which client, what will change, and when?", NOTIFY_EXAMPLE)
    impact = None
    said = _IMPACT.search(text, words[0].start)
    if said is not None:
        impact = text[said.end() :].strip(" ;") or None
        text = text[: said.start()]
        words = [word for word in words if word.end <= said.start()]
        if impact is not None and len(impact) > MAX_WHAT:
            raise _Refusal(f"What they will notice can be at most {MAX_WHAT} characters.", NOTIFY_EXAMPLE)
    found = _known_client(words, known)
    if found is None:
        return _need_client("notify", words)
    client, count = found
    _check_name(client, NOTIFY_EXAMPLE)
    body = words[count:]
    if not body:
        raise _Refusal(f"What will change at {client.name}, and when?", NOTIFY_EXAMPLE)
    # The window ends the text: the longest tail that reads as a day and a window.
    for index in range(1, len(body)):
        try:
            window = parse_window(_rest(text, body, index), now=now, tz=tz)
        except WhenError:
            continue
        lead = body[:index]
        while len(lead) > 1 and not lead[-1].quoted and lead[-1].text.lower() in _WINDOW_LEAD:
            lead = lead[:-1]
        what = (
            lead[0].text if len(lead) == 1 and lead[0].quoted else text[lead[0].start : lead[-1].end].strip()
        )
        break
    else:
        raise _Refusal(
            "When will you make the change? Put the day and a window after what will change, "
            "like Saturday 22:00-23:00.",
            NOTIFY_EXAMPLE,
        )
    if not what:
        raise _Refusal(f"What will change at {client.name}?", NOTIFY_EXAMPLE)
    if len(what) > MAX_WHAT:
        raise _Refusal(f"What will change can be at most {MAX_WHAT} characters.", NOTIFY_EXAMPLE)
    if window.start <= now:
        raise _Refusal(
            "That window has already begun: a notice goes out before the change. Which day did you mean?",
            NOTIFY_EXAMPLE,
        )
    return NotifyChange(client, what, window.start, window.end, impact)


def _feedback_every(words: list[Word]) -> SetFeedbackEvery:
    said = " ".join(word.text for word in words)
    match = _CADENCE.match(words[0].text) if words else None
    unit = 1
    if match is not None and len(words) == 2 and words[1].text.lower() in _UNITS and not match["unit"]:
        unit = _UNITS[words[1].text.lower()]
    elif match is None or len(words) > 1:
        raise _Refusal(f"“{said}” isn't a number of days.", FEEDBACK_EVERY_EXAMPLE)
    if match["unit"]:
        unit = _UNITS[match["unit"].lower()]
    number = match["number"]
    low, high = MIN_FEEDBACK_EVERY_DAYS, MAX_FEEDBACK_EVERY_DAYS
    if not number.isdigit() or not low <= int(number) * unit <= high:
        raise _Refusal(f"Ask every {low} to {high} days.", FEEDBACK_EVERY_EXAMPLE)
    return SetFeedbackEvery(int(number) * unit)


def _feedback(text: str, words: list[Word], known: Collection[str]) -> VisitCommand | NeedClient:
    if not words:
        raise _Refusal(
            "Which client, and how do they feel (1 to 5, or happy, ok, unhappy)?", FEEDBACK_EXAMPLE
        )
    if not words[0].quoted and words[0].text.lower() == "every" and len(words) > 1:
        return _feedback_every(words[1:])
    found = _known_client(words, known)
    if found is None:
        at = next((i for i in range(1, len(words)) if parse_mood(_rest(text, words, i))), None)
        return _need_client("feedback", words[:at] if at is not None else words)
    client, count = found
    _check_name(client, FEEDBACK_EXAMPLE)
    said = _rest(text, words, count)
    if not said:
        raise _Refusal(
            f"How does {client.name} feel? Give a score from 1 (unhappy) to 5 (happy), or happy, ok or "
            "unhappy, then any words of theirs.",
            FEEDBACK_EXAMPLE,
        )
    return RecordFeedback(client, _mood(said, FEEDBACK_EXAMPLE))


def _logs_a_known_client(text: str, words: list[Word], known: Collection[str]) -> LogVisit | None:
    """A visit to an existing client whose name starts with a settings word ("Hours Plus 1h …")."""
    found = _known_client(words, known)
    if found is None or not found[0].known:
        return None
    try:
        return _log(text, words, known)
    except _Refusal:
        return None


def parse_visit(
    text: str, *, known: Collection[str], now: datetime, tz: ZoneInfo
) -> VisitCommand | NeedClient | ParseError:
    """Parse `/visit` text; `known` holds the match keys of existing clients among `candidate_keys(text)`."""
    try:
        if len(text) > MAX_TEXT:
            raise _Refusal(f"That's longer than I can take ({MAX_TEXT} characters).", LOG_EXAMPLE)
        words = tokenize(text)
        action = words[0].text.lower() if words and not words[0].quoted else ""
        if action not in VISIT_ACTIONS or action in {"log", "call"}:
            text, mood, repair = _clauses(text)
            words = tokenize(text)
            if mood is not None or repair is not None:
                return _with_clauses(_visit_or_call(text, words, known, now, tz), mood, repair)
        rest = words[1:]
        if action == "help" and len(words) == 1:
            return Help("visit")
        if action in HEARING_ACTIONS and (logged := _logs_a_known_client(text, words, known)):
            return logged
        if action == "notify":
            return _notify(text, rest, known, now, tz)
        if action == "feedback":
            return _feedback(text, rest, known)
        if action == "plan":
            return _plan(text, rest, known, now, tz)
        if action == "cancel":
            return _cancel(text, rest, known)
        if action == "call":
            return _call(text, rest, known)
        if action == "contact":
            return _contact(rest, known)
        if action == "list":
            return _list(rest, known)
        if action == "log":
            return _log(text, rest, known)
        if action in SETTINGS_ACTIONS:
            return _logs_a_known_client(text, words, known) or _settings(action, text, rest, known, now, tz)
        if action in ROSTER_ACTIONS:
            return _logs_a_known_client(text, words, known) or _roster(action, text, rest, known)
        return _log(text, words, known)
    except UnclosedQuote:
        return ParseError("A quote is opened but never closed.", '/visit "Café Müller GmbH" 45m reset VPN')
    except _Refusal as refusal:
        return ParseError(refusal.message, refusal.example)


def _visit_or_call(
    text: str, words: list[Word], known: Collection[str], now: datetime, tz: ZoneInfo
) -> VisitCommand | NeedClient:
    action = words[0].text.lower() if words and not words[0].quoted else ""
    if action == "call":
        return _call(text, words[1:], known)
    return _log(text, words[1:] if action == "log" else words, known)


def _with_clauses(
    parsed: VisitCommand | NeedClient, mood_said: str | None, repair: str | None
) -> VisitCommand | NeedClient:
    """A visit or a call with the client's mood and whether it repairs an unhappy client's trust."""
    if not isinstance(parsed, LogVisit | LogCall):
        return parsed
    example = REPAIR_EXAMPLE if isinstance(parsed, LogCall) else MOOD_EXAMPLE
    mood = _mood(mood_said, example) if mood_said is not None else None
    if repair is not None and len(repair) > MAX_COMMENT:
        raise _Refusal(f"The repair can be described in at most {MAX_COMMENT} characters.", REPAIR_EXAMPLE)
    return replace(parsed, mood=mood, repair=repair)


def _due(text: str, words: list[Word], now: datetime, tz: ZoneInfo) -> tuple[int, datetime, bool] | None:
    """Where the due date starts in `words`, and the date: "by Friday", "due tomorrow 5pm", "2026-12-03"."""
    for index in range(len(words) - 2, -1, -1):
        if words[index].text.lower() in _DUE_WORDS and not words[index].quoted:
            when = parse_day_or_moment(_rest(text, words, index + 1), now=now, tz=tz)
            if when is not None:
                return index, when.at, when.has_time
    for size in (3, 2, 1):
        if len(words) > size and _DATE_START.match(words[-size].text):
            when = parse_day_or_moment(_rest(text, words, len(words) - size), now=now, tz=tz)
            if when is not None:
                return len(words) - size, when.at, when.has_time
    return None


def _check_due(at: datetime, has_time: bool, now: datetime, tz: ZoneInfo, example: str) -> datetime:
    due = When(at, has_time).due()
    if due < now:
        raise _Refusal("That date is already past. When will you do it?", example)
    return due


def _add_promise(
    text: str, words: list[Word], known: Collection[str], now: datetime, tz: ZoneInfo
) -> AddPromise | NeedClient:
    if not words:
        raise _Refusal("Which client, what did you promise, and by when?", PROMISE_EXAMPLE)
    found = _known_client(words, known)
    if found is None:
        return _need_client("promise", words)
    client, count = found
    _check_name(client, PROMISE_EXAMPLE)
    body = words[count:]
    due = _due(text, body, now, tz)
    if due is None:
        raise _Refusal(
            f"By when? A promise to {client.name} needs a due date, like “by Friday” or “by 2026-12-03”.",
            PROMISE_EXAMPLE,
        )
    index, at, has_time = due
    promised = text[body[0].start : body[index].start].strip() if index else ""
    if not promised:
        raise _Refusal(f"What did you promise {client.name}?", PROMISE_EXAMPLE)
    return AddPromise(client, promised, _check_due(at, has_time, now, tz, PROMISE_EXAMPLE), has_time)


def _ids(words: list[Word]) -> tuple[int, ...]:
    ids = []
    for word in words:
        match = _NUMBER.match(word.text.strip(","))
        if not match:
            raise _Refusal(f"“{word.text}” isn't a promise number; `/promise list` shows them.", DONE_EXAMPLE)
        ids.append(int(match[1]))
    if not ids:
        raise _Refusal("Which promise? Give its number from `/promise list`.", DONE_EXAMPLE)
    return tuple(dict.fromkeys(ids))


def _move(text: str, words: list[Word], now: datetime, tz: ZoneInfo) -> MovePromise:
    match = _NUMBER.match(words[0].text) if words else None
    if match is None:
        raise _Refusal(
            "Which promise? Give its number from `/promise list`, then the new date.", MOVE_EXAMPLE
        )
    at = 2 if len(words) > 1 and words[1].text.lower() in {"to", "until", "till", "by"} else 1
    when = parse_day_or_moment(_rest(text, words, at), now=now, tz=tz)
    if when is None:
        raise _Refusal("To which date? Give the new due date after the number.", MOVE_EXAMPLE)
    return MovePromise(
        int(match[1]), _check_due(when.at, when.has_time, now, tz, MOVE_EXAMPLE), when.has_time
    )


def parse_promise(
    text: str, *, known: Collection[str], now: datetime, tz: ZoneInfo
) -> PromiseCommand | NeedClient | ParseError:
    """Parse `/promise` text; `known` as for `parse_visit`."""
    try:
        if len(text) > MAX_TEXT:
            raise _Refusal(f"That's longer than I can take ({MAX_TEXT} characters).", PROMISE_EXAMPLE)
        words = tokenize(text)
        action = words[0].text.lower() if words and not words[0].quoted else ""
        if action == "help" and len(words) == 1:
            return Help("promise")
        if action == "list" and len(words) == 1:
            return ListPromises()
        # "done" and "move" are always the actions; a client called "Done …" needs quotes.
        if action == "done":
            return PromiseDone(_ids(words[1:]))
        if action == "move":
            return _move(text, words[1:], now, tz)
        return _add_promise(text, words, known, now, tz)
    except UnclosedQuote:
        return ParseError(
            "A quote is opened but never closed.", '/promise "Café Müller GmbH" call back by Friday'
        )
    except _Refusal as refusal:
        return ParseError(refusal.message, refusal.example)
