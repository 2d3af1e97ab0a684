"""The managers' weekly digest: what the team did, what went well, and what to do about the gaps.

A digest covers a window of time [start, end) read in the digest's zone. `gather` reads, in one
place, the database as it stood at the window's end (from the history the tables keep: when a
follow-up was sent, a promise kept, a call logged, every touch), so a digest composed again after a
crash says the same thing. `compose` turns that snapshot into the summary for the channel and the
messages for its thread: pure functions, within Slack's limits before any renderer clips anything.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from bot import feedback, proactive, texts
from bot.context import Context, Refused, require_manager
from bot.grammar.commands import DIGEST_EXAMPLE
from bot.grammar.durations import format_duration
from bot.needs import WINDOW, VisitNote, spot
from bot.people import SLACK
from bot.replies import Block, Header, Note, Reply, Section, error
from storage import repositories as repo
from storage.models import Client, NeedDismissal, Notice, Nudge, NudgeStatus, Promise, Risk, Touch, Visit
from storage.types import UTCDateTime

logger = logging.getLogger(__name__)

KIND = "digest"
# The action id of App Home's "Send me the digest" button.
REQUEST = "digest.request"
ASKED = "asked:"

# A visit's summary e-mail counts as on time when marked sent within a day (`_FollowUpDue` in SQL).
FOLLOWUP_DEADLINE = timedelta(hours=24)
# A client shows in the digest once its check-in is this long overdue (the owner is nudged before).
CHECKIN_GRACE = timedelta(days=7)
STREAK = 5
WEEKS = 8
WEEK = timedelta(days=7)

# Slack's limits: 50 blocks a message, 3,000 characters a section (counted after escaping).
MAX_BLOCKS = 50
MAX_SECTION = 3000
# A thread message stays well below the limits for a whole message, so it reads (and posts) easily.
MESSAGE_BLOCKS = 40
MESSAGE_CHARS = 12_000
# Names and texts are cut in lists, so that one long name never crowds out the rest.
NAME_CHARS = 60
TEXT_CHARS = 120
SHOWN_IN_SUMMARY = 5
DEAD = "Reminders that could not be delivered"
AT_RISK = "Clients at risk"
UNNOTICED = "Changed without an acknowledged notice"
NEEDS = "Needs spotted: suggest a proactive conversation"
# The needs spotted the digest lists, in the order `needs.spot` gives (most visits first); the rest are
# counted, and each owner sees theirs on their home with the buttons to act on them.
NEEDS_SHOWN = 10
# Where a technician sees the needs spotted at their clients, by platform (Teams has no App Home).
THEIR_HOME = {"slack": "on their App Home", "teams": "on their home (they type home to Nudgebot)"}

# What a manager can do about each reason a reminder could not be delivered.
ADVICE = {
    "user_not_found": "the person left or was deactivated: reassign their clients",
    "account_inactive": "the person left or was deactivated: reassign their clients",
    "user_disabled": "the person left or was deactivated: reassign their clients",
    "token_revoked": "Nudgebot's token no longer works: reinstall the app",
    "token_expired": "Nudgebot's token no longer works: reinstall the app",
    "invalid_auth": "Nudgebot's token no longer works: reinstall the app",
    "channel_not_found": "invite Nudgebot to the channel (/invite @Nudgebot)",
    "not_in_channel": "invite Nudgebot to the channel (/invite @Nudgebot)",
    "too_many_attempts": "Slack was failing each time we tried: check status.slack.com",
    # Teams' reasons (handlers/teams/notifier.py).
    "blocked": "they blocked or removed Nudgebot in Teams: ask them to add it again (Apps → Nudgebot)",
    "conversation_not_found": "Teams no longer knows that chat: ask them to add Nudgebot again",
    "no_conversation": "Nudgebot has no chat with them yet: ask them to add Nudgebot in Teams",
    "service_url_not_allowed": "Teams gave an address that is not Microsoft's: check TEAMS_CONNECTOR_HOSTS",
    "bot_not_in_team": "add Nudgebot to the managers' team, then type @Nudgebot digest here in the channel",
}
# The advice for a platform that kept failing, by platform.
FAILING_ADVICE = {
    "slack": ADVICE["too_many_attempts"],
    "teams": "Teams was failing each time we tried: check the Microsoft 365 service health",
}
# Temporary failures that ran out of attempts: Slack was failing, as with too_many_attempts.
_FAILING = ("http_", "network:", "upload:")


# -- When: the schedule and the window -----------------------------------------------------------------


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time on a day in a zone.

    A time that a DST change skips reads with the offset before the change (02:30 becomes 03:30), and
    one that happens twice is its first occurrence, so every week has exactly one slot.
    """
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def latest_slot(now: datetime, *, weekday: int, at: time, tz: ZoneInfo) -> datetime:
    """The latest instant at or before `now` that falls on `weekday` at `at` in `tz`."""
    local = now.astimezone(tz)
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    slot = local_instant(day, at, tz)
    return slot if slot <= now else local_instant(day - WEEK, at, tz)


def week_before(end: datetime, tz: ZoneInfo) -> datetime:
    """The same wall-clock time a week before `end`: 7 local days, 167 to 169 hours across DST."""
    local = end.astimezone(tz)
    return local_instant(local.date() - WEEK, local.time(), tz)


def week_bounds(end: datetime, tz: ZoneInfo) -> list[datetime]:
    """The 9 instants that bound the 8 weeks ending at `end`, oldest first."""
    bounds = [end]
    for _ in range(WEEKS):
        bounds.append(week_before(bounds[-1], tz))
    return bounds[::-1]


def digest_row(
    *, workspace_id: int, period: str, due_at: datetime, channel: str, now: datetime
) -> dict[str, Any]:
    """An outbox row for a digest of the week ending `due_at`, to be posted to `channel`."""
    return {
        "workspace_id": workspace_id,
        "technician_id": None,
        "subject": f"workspace:{workspace_id}",
        "kind": KIND,
        "period": period,
        "status": NudgeStatus.PENDING,
        "due_at": due_at,
        "next_attempt_at": now,
        "attempts": 0,
        "parts_sent": 0,
        "channel": channel,
        "created_at": now,
    }


# -- What: the snapshot --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """`hit` of `of` measured; no percentage when nothing was measured."""

    hit: int = 0
    of: int = 0

    @property
    def percent(self) -> int | None:
        """Rounded half up, or None when nothing was measured."""
        return None if not self.of else (200 * self.hit + self.of) // (2 * self.of)

    def __add__(self, other: Rate) -> Rate:
        return Rate(self.hit + other.hit, self.of + other.of)

    def phrase(self, none: str) -> str:
        """`4 of 5 (80%)`, or `none` when nothing was measured."""
        return none if not self.of else f"{self.hit} of {self.of} ({self.percent}%)"


NO_WEEKS = (Rate(),) * WEEKS


@dataclass(frozen=True)
class FollowUpFact:
    """A visit whose summary e-mail was overdue and not sent at the digest's end."""

    technician_id: int
    client: str
    visited_at: datetime


@dataclass(frozen=True)
class PromiseFact:
    """A promise due in the digest's week and not kept by its due date (kept late, or still open)."""

    technician_id: int
    client: str
    text: str
    due_at: datetime
    done_at: datetime | None


@dataclass(frozen=True)
class CallFact:
    """A cancelled appointment whose time passed with nobody phoning the client."""

    technician_id: int
    client: str
    phone: str | None
    window_start: datetime
    cancelled_at: datetime | None


@dataclass(frozen=True)
class ClientFact:
    """A client, with its latest touch before the end of each of the 8 weeks (oldest week first)."""

    name: str
    owner_id: int | None
    cadence_days: int
    created_at: datetime
    last_touches: tuple[datetime | None, ...]

    def since(self, week: int) -> datetime:
        """The instant the check-in clock ran from at the end of a week: the last touch, or the creation."""
        return self.last_touches[week] or self.created_at

    def overdue(self, week: int, moment: datetime, grace: timedelta = timedelta(0)) -> bool:
        """Past its cadence (plus `grace`) at `moment`, the end of week `week`."""
        due = self.since(week) + timedelta(days=self.cadence_days) + grace
        return self.created_at < moment and due < moment


@dataclass(frozen=True)
class DeadFact:
    """Reminders to one technician that could not be delivered, for one reason."""

    technician_id: int
    reason: str
    count: int


@dataclass(frozen=True)
class NoticeFact:
    """A change whose window began in the week with no acknowledgement from the client by then."""

    technician_id: int
    client: str
    what: str
    window_start: datetime


@dataclass(frozen=True)
class RiskFact:
    """An unhappy client: at risk at the week's end, or happy again within it."""

    client: str
    owner_id: int | None
    opened_at: datetime
    score: int | None
    comment: str | None
    repaired_at: datetime | None
    repair_note: str | None
    repaired_by_id: int | None
    closed_at: datetime | None
    closed_how: str | None


@dataclass(frozen=True)
class Snapshot:
    """Everything a digest says, read at once: the 8 weeks ending at `end`, the last of which it covers.

    The database counts the figures, by technician; only what the digest lists comes as rows.
    """

    tz: ZoneInfo
    bounds: tuple[datetime, ...]
    technicians: dict[int, str]
    # By technician: visits and minutes on site in the week; follow-ups and promises due in each of the
    # 8 weeks (hit: done on time); promises overdue and open at the end; follow-ups on time in a row,
    # counting back from the latest due in the 8 weeks.
    visits: dict[int, tuple[int, int]]
    followups: dict[int, tuple[Rate, ...]]
    promises: dict[int, tuple[Rate, ...]]
    open_promises: dict[int, int]
    streaks: dict[int, int]
    open_followups: tuple[FollowUpFact, ...]
    broken: tuple[PromiseFact, ...]
    calls: tuple[CallFact, ...]
    clients: tuple[ClientFact, ...]
    dead: tuple[DeadFact, ...]
    touches: int
    promises_made: int
    platform: str = "slack"
    unnoticed: tuple[NoticeFact, ...] = ()
    risks: tuple[RiskFact, ...] = ()
    # The first NEEDS_SHOWN suggestions spotted in visit notes, as the digest words them; how many were
    # spotted in all; and how many of those not listed are at clients with no owner (on nobody's home).
    needs: tuple[str, ...] = ()
    needs_spotted: int = 0
    needs_unowned: int = 0

    @property
    def start(self) -> datetime:
        """The start of the week the digest covers."""
        return self.bounds[-2]

    @property
    def end(self) -> datetime:
        """The end of the week the digest covers (not included)."""
        return self.bounds[-1]


def technician_name(user_id: str, display_name: str | None) -> str:
    """How the digest names a technician: their display name, or "a technician (U123)" without one."""
    name = (display_name or "").strip()
    return _cut(name, NAME_CHARS) if name else f"a technician ({user_id})"


def _latest(touched: datetime | None, recorded: datetime | None) -> datetime | None:
    """A client's last touch by then: its latest logged touch, or the last contact recorded on the client
    (an imported client list's), whichever is later."""
    if touched is None or recorded is None:
        return touched or recorded
    return max(touched, recorded)


def gather(session: Session, *, workspace_id: int, end: datetime, tz: ZoneInfo) -> Snapshot:
    """Read what the digest of the week ending at `end` needs, as it stood at `end`."""
    bounds = week_bounds(end, tz)
    start = bounds[-2]
    names = repo.technician_names(session, workspace_id=workspace_id)
    calls = tuple(
        CallFact(*row) for row in repo.uncalled_cancellations(session, workspace_id=workspace_id, end=end)
    )
    # Undeliverable reminders since the last digest that went out, so none goes unseen for a missed week.
    previous = repo.last_sent(session, workspace_id=workspace_id, kind=KIND, before=end)
    since = None if previous is None else min(previous, start)
    dead = tuple(
        DeadFact(technician_id, reason or "unknown", count)
        for technician_id, reason, count in repo.dead_nudges(
            session, workspace_id=workspace_id, since=since, end=end, skip_kind=KIND
        )
    )
    needs, needs_spotted, needs_unowned = _needs(session, workspace_id, end, tz)
    return Snapshot(
        unnoticed=_unnoticed(session, workspace_id, start, end),
        risks=_risks(session, workspace_id, start, end),
        needs=needs,
        needs_spotted=needs_spotted,
        needs_unowned=needs_unowned,
        tz=tz,
        bounds=tuple(bounds),
        technicians={number: technician_name(user, name) for number, (user, name) in names.items()},
        visits=_week_visits(session, workspace_id, start, end),
        followups=_followups_due(session, workspace_id, bounds),
        promises=_promises_due(session, workspace_id, bounds),
        open_promises=_open_promises(session, workspace_id, end),
        streaks=_streaks(session, workspace_id, bounds),
        open_followups=_open_followups(session, workspace_id, end),
        broken=_broken_promises(session, workspace_id, start, end),
        calls=calls,
        clients=_clients(session, workspace_id, bounds),
        dead=dead,
        touches=repo.count_touches(session, workspace_id=workspace_id, start=start, end=end),
        promises_made=repo.count_promises_made(session, workspace_id=workspace_id, start=start, end=end),
        platform=repo.workspace_platform(session, workspace_id=workspace_id),
    )


# -- Reading: the figures counted by the database, and the rows the digest lists ---------------------------


class _FollowUpDue(FunctionElement[datetime]):
    """When a visit's follow-up e-mail falls due (FOLLOWUP_DEADLINE, a day, after it), reckoned in SQL."""

    type = UTCDateTime()
    inherit_cache = True


@compiles(_FollowUpDue, "sqlite")
def _followup_due_on_sqlite(element: _FollowUpDue, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps UTC instants as text, "2026-11-23 15:00:00.000000": the next date, then the time as
    # written (its date functions would round the microseconds to milliseconds).
    instant = compiler.process(element.clauses, **kw)
    return f"(date(substr({instant}, 1, 10), '+1 day') || substr({instant}, 11))"


@compiles(_FollowUpDue, "postgresql")
def _followup_due_on_postgresql(element: _FollowUpDue, compiler: SQLCompiler, **kw: Any) -> str:
    # 24 hours, not "1 day", which in the session's time zone can be 23 or 25 hours.
    return f"({compiler.process(element.clauses, **kw)} + interval '24 hours')"


_SENT_ON_TIME = Visit.followup_sent_at <= _FollowUpDue(Visit.visited_at)
_KEPT_ON_TIME = Promise.done_at <= Promise.due_at


def _week_of(instant: InstrumentedAttribute[datetime], bounds: Sequence[datetime]) -> ColumnElement[int]:
    """Which of the 8 weeks that `bounds` delimit an instant within them falls in, 0 the oldest."""
    return case(*((instant < bound, week) for week, bound in enumerate(bounds[1:-1])), else_=WEEKS - 1)


def _by_week(rows: Iterable[tuple[int, int, int, int]]) -> dict[int, tuple[Rate, ...]]:
    """Rows of (technician, week, due, done on time) as each technician's 8 weeks."""
    weeks: dict[int, list[Rate]] = {}
    for technician_id, week, due, on_time in rows:
        weeks.setdefault(technician_id, list(NO_WEEKS))[week] = Rate(on_time, due)
    return {technician_id: tuple(rates) for technician_id, rates in weeks.items()}


def _a_day_before(bounds: Sequence[datetime]) -> list[datetime]:
    """The bounds a day earlier: a follow-up falls due in a week when its visit was a day before it."""
    return [bound.astimezone(UTC) - FOLLOWUP_DEADLINE for bound in bounds]


def _week_visits(
    session: Session, workspace_id: int, start: datetime, end: datetime
) -> dict[int, tuple[int, int]]:
    """Each technician's visits in the week, and their minutes on site."""
    rows = session.execute(
        select(Visit.technician_id, func.count(), func.sum(Visit.minutes))
        .where(Visit.workspace_id == workspace_id, Visit.visited_at >= start, Visit.visited_at < end)
        .group_by(Visit.technician_id)
    )
    return {technician_id: (count, minutes) for technician_id, count, minutes in rows.tuples()}


def _followups_due(
    session: Session, workspace_id: int, bounds: Sequence[datetime]
) -> dict[int, tuple[Rate, ...]]:
    """Each technician's follow-up e-mails due in each of the 8 weeks, and how many were sent on time."""
    due = _a_day_before(bounds)
    week = _week_of(Visit.visited_at, due).label("week")
    rows = session.execute(
        select(Visit.technician_id, week, func.count(), func.sum(case((_SENT_ON_TIME, 1), else_=0)))
        .where(Visit.workspace_id == workspace_id, Visit.visited_at >= due[0], Visit.visited_at < due[-1])
        .group_by(Visit.technician_id, week)
    )
    return _by_week(rows.tuples())


def _promises_due(
    session: Session, workspace_id: int, bounds: Sequence[datetime]
) -> dict[int, tuple[Rate, ...]]:
    """Each technician's promises due in each of the 8 weeks, and how many were kept on time."""
    week = _week_of(Promise.due_at, bounds).label("week")
    rows = session.execute(
        select(Promise.technician_id, week, func.count(), func.sum(case((_KEPT_ON_TIME, 1), else_=0)))
        .where(Promise.workspace_id == workspace_id, Promise.due_at >= bounds[0], Promise.due_at < bounds[-1])
        .group_by(Promise.technician_id, week)
    )
    return _by_week(rows.tuples())


def _open_promises(session: Session, workspace_id: int, end: datetime) -> dict[int, int]:
    """How many of each technician's promises were past due and not kept at `end`."""
    rows = session.execute(
        select(Promise.technician_id, func.count())
        .where(
            Promise.workspace_id == workspace_id,
            Promise.due_at < end,
            or_(Promise.done_at.is_(None), Promise.done_at >= end),
        )
        .group_by(Promise.technician_id)
    )
    return dict(rows.tuples().all())


def _streaks(session: Session, workspace_id: int, bounds: Sequence[datetime]) -> dict[int, int]:
    """Each technician's run of follow-ups sent on time in the 8 weeks: those due after the latest one
    sent late or not at all (of two due at the same instant, the one logged first counts as the later)."""
    due = _a_day_before(bounds)
    in_weeks = (Visit.workspace_id == workspace_id, Visit.visited_at >= due[0], Visit.visited_at < due[-1])
    late = (
        select(
            Visit.technician_id,
            Visit.visited_at,
            Visit.id,
            func.row_number()
            .over(partition_by=Visit.technician_id, order_by=(Visit.visited_at.desc(), Visit.id))
            .label("latest"),
        )
        .where(*in_weeks, or_(Visit.followup_sent_at.is_(None), ~_SENT_ON_TIME))
        .subquery()
    )
    rows = session.execute(
        select(Visit.technician_id, func.count())
        .outerjoin(late, and_(late.c.technician_id == Visit.technician_id, late.c.latest == 1))
        .where(
            *in_weeks,
            _SENT_ON_TIME,
            or_(
                late.c.id.is_(None),
                Visit.visited_at > late.c.visited_at,
                and_(Visit.visited_at == late.c.visited_at, Visit.id < late.c.id),
            ),
        )
        .group_by(Visit.technician_id)
    )
    return dict(rows.tuples().all())


def _open_followups(session: Session, workspace_id: int, end: datetime) -> tuple[FollowUpFact, ...]:
    """The visits whose follow-up e-mail was overdue and not sent at `end`, oldest first."""
    rows = session.execute(
        select(Visit.technician_id, Client.name, Visit.visited_at)
        .join(Client, Client.id == Visit.client_id)
        .where(
            Visit.workspace_id == workspace_id,
            Visit.visited_at < end.astimezone(UTC) - FOLLOWUP_DEADLINE,
            or_(Visit.followup_sent_at.is_(None), Visit.followup_sent_at >= end),
        )
        .order_by(Visit.visited_at, Visit.id)
    )
    return tuple(FollowUpFact(*row) for row in rows.tuples())


def _broken_promises(
    session: Session, workspace_id: int, start: datetime, end: datetime
) -> tuple[PromiseFact, ...]:
    """The promises due in the week and not kept by their due date, soonest due first."""
    rows = session.execute(
        select(Promise.technician_id, Client.name, Promise.text, Promise.due_at, Promise.done_at)
        .join(Client, Client.id == Promise.client_id)
        .where(
            Promise.workspace_id == workspace_id,
            Promise.due_at >= start,
            Promise.due_at < end,
            or_(Promise.done_at.is_(None), ~_KEPT_ON_TIME),
        )
        .order_by(Promise.due_at, Promise.id)
    )
    return tuple(PromiseFact(*row) for row in rows.tuples())


def _clients(session: Session, workspace_id: int, bounds: Sequence[datetime]) -> tuple[ClientFact, ...]:
    """The clients added before the end and not archived by then, by name, each with its last touch by
    the end of each of the 8 weeks (the touches read once, not once a week)."""
    end = bounds[-1]
    touched = (
        select(
            Touch.client_id,
            *(func.max(case((Touch.touched_at < bound, Touch.touched_at))) for bound in bounds[1:]),
        )
        .where(Touch.workspace_id == workspace_id, Touch.touched_at < end)
        .group_by(Touch.client_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Client.name,
            Client.owner_id,
            Client.checkin_cadence_days,
            Client.created_at,
            Client.last_touch_at,
            *list(touched.c)[1:],
        )
        .outerjoin(touched, touched.c.client_id == Client.id)
        .where(
            Client.workspace_id == workspace_id,
            Client.created_at < end,
            or_(Client.archived_at.is_(None), Client.archived_at >= end),
        )
        .order_by(Client.name, Client.id)
    )
    return tuple(
        ClientFact(
            name,
            owner,
            cadence,
            created,
            tuple(
                _latest(touch, recorded if recorded is not None and recorded < bound else None)
                for touch, bound in zip(touches, bounds[1:], strict=True)
            ),
        )
        for name, owner, cadence, created, recorded, *touches in rows.tuples()
    )


def _needs(
    session: Session, workspace_id: int, end: datetime, tz: ZoneInfo
) -> tuple[tuple[str, ...], int, int]:
    """The first NEEDS_SHOWN needs spotted in the recent visit notes of the workspace's clients, as the
    digest words them; how many were spotted; and how many of the others are at clients with no owner.

    What `proactive.spotted` and `visit_days` read for one owner, read here for all the clients at once.
    Only the needs listed are worded, so the wording costs the same however many are spotted.
    """
    current = (Client.workspace_id == workspace_id, Client.archived_at.is_(None))
    rows = (
        session.execute(
            select(
                Visit.id,
                Visit.client_id,
                Client.name,
                Client.owner_id,
                Visit.visited_at,
                Visit.work_done,
                Visit.remaining,
            )
            .join(Client, Client.id == Visit.client_id)
            .where(*current, Visit.visited_at >= end - WINDOW, Visit.visited_at <= end)
        )
        .tuples()
        .all()
    )
    dismissed = {
        (client_id, topic): raised
        for client_id, topic, raised in session.execute(
            select(NeedDismissal.client_id, NeedDismissal.topic, NeedDismissal.raised_at)
            .join(Client, Client.id == NeedDismissal.client_id)
            .where(*current)
        ).tuples()
    }
    clients = {client_id: (name, owner_id) for _, client_id, name, owner_id, *_ in rows}
    visited = {visit_id: at for visit_id, _, _, _, at, *_ in rows}
    notes = [
        VisitNote(visit_id, client_id, at, "\n".join(part for part in (done, left) if part))
        for visit_id, client_id, _, _, at, done, left in rows
    ]
    spotted = spot(notes, now=end, dismissed=dismissed)
    shown = tuple(
        proactive.worded(
            need,
            clients[need.client_id][0],
            [texts.day(visited[visit_id], tz) for visit_id in need.visit_ids[: proactive.NAMED_VISITS]],
        )
        for need in spotted[:NEEDS_SHOWN]
    )
    unowned = sum(clients[need.client_id][1] is None for need in spotted[NEEDS_SHOWN:])
    return shown, len(spotted), unowned


def _unnoticed(session: Session, workspace_id: int, start: datetime, end: datetime) -> tuple[NoticeFact, ...]:
    notices = session.scalars(
        select(Notice)
        .options(joinedload(Notice.client))
        .join(Client, Client.id == Notice.client_id)
        .where(
            Notice.workspace_id == workspace_id,
            Client.archived_at.is_(None),
            Notice.window_start >= start,
            Notice.window_start < end,
            or_(Notice.acknowledged_at.is_(None), Notice.acknowledged_at > Notice.window_start),
        )
        .order_by(Notice.window_start)
    ).all()
    return tuple(NoticeFact(n.technician_id, n.client.name, n.what, n.window_start) for n in notices)


def _risks(session: Session, workspace_id: int, start: datetime, end: datetime) -> tuple[RiskFact, ...]:
    """Risks open at the week's end, and those closed in it (as things stood at the end)."""
    risks = session.scalars(
        select(Risk)
        .options(joinedload(Risk.client), joinedload(Risk.feedback))
        .join(Client, Client.id == Risk.client_id)
        .where(
            Risk.workspace_id == workspace_id,
            Client.archived_at.is_(None),
            Risk.opened_at < end,
            or_(Risk.closed_at.is_(None), Risk.closed_at >= start),
        )
        .order_by(Risk.opened_at)
    ).all()
    facts = []
    for risk in risks:
        closed = risk.closed_at if risk.closed_at is not None and risk.closed_at < end else None
        repaired = risk.repaired_at if risk.repaired_at is not None and risk.repaired_at < end else None
        given = risk.feedback
        facts.append(
            RiskFact(
                client=risk.client.name,
                owner_id=risk.client.owner_id,
                opened_at=risk.opened_at,
                score=given.score if given is not None else None,
                comment=given.comment if given is not None else None,
                repaired_at=repaired,
                repair_note=risk.repair_note if repaired is not None else None,
                repaired_by_id=risk.repaired_by_id if repaired is not None else None,
                closed_at=closed,
                closed_how=risk.closed_how if closed is not None else None,
            )
        )
    return tuple(facts)


# -- Figures -------------------------------------------------------------------------------------------


def _rate(flags: Iterable[bool]) -> Rate:
    values = list(flags)
    return Rate(sum(values), len(values))


@dataclass(frozen=True)
class WeekRates:
    """The team's three figures for one week, for the chart."""

    start: datetime
    end: datetime
    checkins: Rate
    followups: Rate
    promises: Rate


def _team(by_technician: dict[int, tuple[Rate, ...]]) -> list[Rate]:
    """Each of the 8 weeks' rates, added up over the technicians."""
    return [sum((weeks[week] for weeks in by_technician.values()), Rate()) for week in range(WEEKS)]


def weekly_rates(snapshot: Snapshot) -> list[WeekRates]:
    """Check-ins, follow-ups and promises on time, for each of the 8 weeks, oldest first.

    Check-ins on time: of the clients with an owner that existed at the week's end, those not past
    their cadence at that moment. Follow-ups and promises: those due in the week, done by their due time.
    """
    followups, promises = _team(snapshot.followups), _team(snapshot.promises)
    weeks = []
    for week, (start, end) in enumerate(zip(snapshot.bounds, snapshot.bounds[1:], strict=False)):
        owned = [
            client for client in snapshot.clients if client.owner_id is not None and client.created_at < end
        ]
        weeks.append(
            WeekRates(
                start=start,
                end=end,
                checkins=_rate(not client.overdue(week, end) for client in owned),
                followups=followups[week],
                promises=promises[week],
            )
        )
    return weeks


@dataclass(frozen=True)
class TechnicianWeek:
    """One technician's week: what they did, how it went, and what was overdue at its end."""

    name: str
    visits: int
    minutes: int
    followups: Rate
    promises: Rate
    late_followups: int
    late_calls: int
    late_promises: int
    late_checkins: int
    streak: int

    @property
    def overdue(self) -> int:
        """Open overdue items at the week's end."""
        return self.late_followups + self.late_calls + self.late_promises + self.late_checkins

    @property
    def perfect(self) -> bool:
        """Something was measured, all of it on time, and nothing overdue."""
        measured = self.followups.of + self.promises.of
        on_time = self.followups.hit + self.promises.hit
        return measured > 0 and on_time == measured and self.overdue == 0

    @property
    def anything(self) -> bool:
        """Worth a line: something done, measured or overdue."""
        return bool(self.visits or self.followups.of or self.promises.of or self.overdue)


def technician_weeks(snapshot: Snapshot) -> list[TechnicianWeek]:
    """Every technician with something to show for the week, by name."""
    end, this = snapshot.end, WEEKS - 1
    followups_of = Counter(followup.technician_id for followup in snapshot.open_followups)
    calls_of = Counter(call.technician_id for call in snapshot.calls)
    checkins_of = Counter(
        client.owner_id for client in snapshot.clients if client.overdue(this, end) and client.owner_id
    )
    weeks = []
    for number, name in snapshot.technicians.items():
        visits, minutes = snapshot.visits.get(number, (0, 0))
        followups = snapshot.followups.get(number, NO_WEEKS)[this]
        week = TechnicianWeek(
            name=name,
            visits=visits,
            minutes=minutes,
            followups=followups,
            promises=snapshot.promises.get(number, NO_WEEKS)[this],
            late_followups=followups_of[number],
            late_calls=calls_of[number],
            late_promises=snapshot.open_promises.get(number, 0),
            late_checkins=checkins_of[number],
            # A run that ended before the week is no streak this week.
            streak=snapshot.streaks.get(number, 0) if followups.of else 0,
        )
        if week.anything:
            weeks.append(week)
    return sorted(weeks, key=lambda week: (week.name.casefold(), week.name))


# -- Words ---------------------------------------------------------------------------------------------


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _escaped(text: str) -> int:
    """The length Slack sees once &, < and > are escaped."""
    return len(text) + 4 * text.count("&") + 3 * (text.count("<") + text.count(">"))


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _names(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _late_by(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return _plural(hours, "hour") if hours < 48 else _plural(hours // 24, "day")


def _span(snapshot: Snapshot) -> str:
    tz, end = snapshot.tz, snapshot.end
    return f"{texts.day(snapshot.start, tz, now=end)} – {texts.day(end - timedelta(seconds=1), tz, now=end)}"


def _sections(title: str, lines: Sequence[str]) -> list[Section]:
    """Lines under a bold title, split into as many sections as it takes to keep each within the limit."""
    head = f"*{title}*"
    sections: list[Section] = []
    current = [head]
    for line in lines:
        line = _fit(line, MAX_SECTION - _escaped(head) - 20)
        if len(current) > 1 and _escaped("\n".join([*current, line])) > MAX_SECTION:
            sections.append(Section("\n".join(current)))
            current = [f"*{title}* (continued)", line]
        else:
            current.append(line)
    sections.append(Section("\n".join(current)))
    return sections


def _fit(line: str, limit: int) -> str:
    while _escaped(line) > limit:
        line = line[: max(1, len(line) - (_escaped(line) - limit) - 1)] + "…"
    return line


def _messages(blocks: Sequence[Block], title: str) -> list[Reply]:
    """Blocks shared out over thread messages, each within its block and character budgets."""
    chunks: list[list[Block]] = []
    size = 0
    for block in blocks:
        length = _escaped(block.text) if isinstance(block, Section | Note | Header) else 0
        if not chunks or len(chunks[-1]) >= MESSAGE_BLOCKS or size + length > MESSAGE_CHARS:
            chunks.append([])
            size = 0
        chunks[-1].append(block)
        size += length
    count = len(chunks)
    return [
        Reply(
            summary=f"{title} ({number} of {count})" if count > 1 else title, blocks=tuple(chunk), tone="info"
        )
        for number, chunk in enumerate(chunks, start=1)
    ]


# -- The digest ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Digest:
    """The summary for the channel, the messages for its thread, and the 8 weeks for the chart."""

    summary: Reply
    details: tuple[Reply, ...]
    weeks: tuple[WeekRates, ...]
    end_day: date
    tz: ZoneInfo


def _technician_line(week: TechnicianWeek) -> str:
    parts = [
        f"{':tada: ' if week.perfect else ''}*{week.name}*: {_plural(week.visits, 'visit')}"
        + (f", {format_duration(week.minutes)}" if week.minutes else ""),
        "follow-ups on time " + week.followups.phrase("(none due)"),
        "promises kept on time " + week.promises.phrase("(none due)"),
    ]
    if week.overdue:
        late = [
            _plural(week.late_followups, "follow-up") if week.late_followups else "",
            _plural(week.late_calls, "call") if week.late_calls else "",
            _plural(week.late_promises, "promise") if week.late_promises else "",
            _plural(week.late_checkins, "check-in") if week.late_checkins else "",
        ]
        parts.append(f"{week.overdue} overdue ({', '.join(part for part in late if part)})")
    else:
        parts.append("nothing overdue")
    if week.streak >= STREAK:
        parts.append(f"{week.streak} follow-ups in a row on time")
    return " · ".join(parts)


def _dead_line(snapshot: Snapshot, dead: DeadFact) -> str:
    name = snapshot.technicians.get(dead.technician_id, "a technician")
    reason = _cut(dead.reason, 80)
    failing = FAILING_ADVICE.get(snapshot.platform, ADVICE["too_many_attempts"])
    advice = failing if dead.reason == "too_many_attempts" else ADVICE.get(dead.reason)
    if advice is None and dead.reason.startswith(_FAILING):
        advice = failing
    what = f"{reason}: {advice}" if advice else reason
    return f"*{name}*: {_plural(dead.count, 'reminder')} not delivered ({what})."


def _gaps(snapshot: Snapshot) -> dict[str, list[str]]:
    """Each kind of gap, as lines that say what to do, by title."""
    tz, end = snapshot.tz, snapshot.end
    names = snapshot.technicians
    last = WEEKS - 1

    # Thousands of unsent follow-ups fall on a few hundred days: each day's text is worked out once.
    said_days: dict[date, str] = {}

    def day(moment: datetime) -> str:
        local = moment.astimezone(tz).date()
        if local not in said_days:
            said_days[local] = texts.day(moment, tz, now=end)
        return said_days[local]

    def who(technician_id: int | None) -> str:
        return names.get(technician_id, "no owner") if technician_id is not None else "no owner"

    followups = [
        f"Send the summary e-mail for the visit to *{_cut(v.client, NAME_CHARS)}* on {day(v.visited_at)} "
        f"({who(v.technician_id)})."
        for v in snapshot.open_followups
    ]
    calls = [
        f"Phone *{_cut(c.client, NAME_CHARS)}* today"
        + (f" ({_cut(c.phone, 40)})" if c.phone else "")
        + f": the appointment was cancelled on {day(c.cancelled_at or c.window_start)} and nobody has "
        f"called ({who(c.technician_id)})."
        for c in snapshot.calls
    ]
    promises = []
    for p in snapshot.broken:
        said = f"*{_cut(p.client, NAME_CHARS)}*: “{_cut(p.text, TEXT_CHARS)}” ({who(p.technician_id)})"
        if p.done_at is None or p.done_at >= end:
            promises.append(
                f"{said} was due {texts.due(p.due_at, tz, now=end)} and is still open: keep it today, "
                "or agree a new date with the client and move it."
            )
        else:
            promises.append(
                f"{said} was kept {_late_by(p.done_at - p.due_at)} late: next time, move the date and tell "
                "the client before it passes."
            )
    overdue = sorted(
        (c for c in snapshot.clients if c.overdue(last, end, CHECKIN_GRACE)),
        key=lambda c: (c.since(last), c.name),
    )
    checkins = []
    for c in overdue:
        days = (end - c.since(last)).days
        touched = "since the last touch" if c.last_touches[last] else "since it was added, never touched"
        owner = who(c.owner_id) if c.owner_id is not None else "no owner: give it one"
        checkins.append(
            f"Check in with *{_cut(c.name, NAME_CHARS)}*: {days} days {touched} "
            f"(every {c.cadence_days} days; {owner})."
        )
    dead = [
        _dead_line(snapshot, d)
        for d in sorted(snapshot.dead, key=lambda d: (names.get(d.technician_id, "").casefold(), d.reason))
    ]
    at_risk = []
    for r in snapshot.risks:
        if r.closed_at is not None:
            continue
        said = ""
        if r.score is not None:
            words = f": “{_cut(r.comment, TEXT_CHARS)}”" if r.comment else ""
            said = f" ({feedback.face(r.score)} {r.score}/5{words})"
        if r.repaired_at is not None:
            note = f": “{_cut(r.repair_note, TEXT_CHARS)}”" if r.repair_note else ""
            done = (
                f"Repair logged {day(r.repaired_at)} by {who(r.repaired_by_id)}{note}; waiting for their "
                "next word."
            )
        else:
            done = "No repair logged yet: call them, own it, fix it."
        at_risk.append(
            f"*{_cut(r.client, NAME_CHARS)}*: at risk for {_plural((end - r.opened_at).days, 'day')}{said} "
            f"({who(r.owner_id)}). {done}"
        )
    unnoticed = [
        f"*{_cut(n.client, NAME_CHARS)}*: “{_cut(n.what, TEXT_CHARS)}” began {day(n.window_start)} "
        f"without an acknowledged notice ({who(n.technician_id)}). When the e-mail isn't acknowledged, "
        "phone them before the window."
        for n in snapshot.unnoticed
    ]
    return {
        AT_RISK: at_risk,
        UNNOTICED: unnoticed,
        "Follow-up e-mails not sent": followups,
        "Cancelled, and nobody has phoned": calls,
        "Promises broken": promises,
        "Clients overdue for a check-in": checkins,
        DEAD: dead,
        NEEDS: [*snapshot.needs, *_more_needs(snapshot)],
    }


def _more_needs(snapshot: Snapshot) -> list[str]:
    """The line after the needs listed that counts the others and says where their owners see them."""
    more = snapshot.needs_spotted - len(snapshot.needs)
    if more <= 0:
        return []
    home = THEIR_HOME.get(snapshot.platform, THEIR_HOME["slack"])
    line = f"…and {more} more: each owner sees theirs {home}, with *Raised it with them* and *Not useful*."
    if snapshot.needs_unowned == 1:
        line += " 1 is at a client with no owner, so nobody sees it there: give that client an owner."
    elif snapshot.needs_unowned:
        line += (
            f" {snapshot.needs_unowned} are at clients with no owner, so nobody sees them there: give those "
            "clients an owner."
        )
    return [line]


_ATTENTION = {
    AT_RISK: ("client at risk (unhappy, not yet repaired)", "clients at risk (unhappy, not yet repaired)"),
    UNNOTICED: (
        "change made without an acknowledged notice",
        "changes made without an acknowledged notice",
    ),
    "Follow-up e-mails not sent": ("follow-up e-mail not sent", "follow-up e-mails not sent"),
    "Cancelled, and nobody has phoned": (
        "cancelled appointment nobody has phoned about",
        "cancelled appointments nobody has phoned about",
    ),
    "Promises broken": ("promise broken", "promises broken"),
    "Clients overdue for a check-in": (
        "client overdue for a check-in (past the 7-day grace)",
        "clients overdue for a check-in (past the 7-day grace)",
    ),
    DEAD: (
        "reminder could not be delivered",
        "reminders could not be delivered",
    ),
}


def _best(weeks: Sequence[WeekRates]) -> str | None:
    """The team's best figure this week, and whether it is its best in the 8 weeks."""
    this = weeks[-1]
    figures = [
        ("follow-ups sent on time", "followups"),
        ("promises kept on time", "promises"),
        ("clients checked in on time", "checkins"),
    ]
    measured = [(label, attr, getattr(this, attr).percent) for label, attr in figures]
    measured = [entry for entry in measured if entry[2] is not None]
    if not measured:
        return None
    label, attr, percent = max(measured, key=lambda entry: entry[2])
    earlier = [p for week in weeks[:-1] if (p := getattr(week, attr).percent) is not None]
    record = " (its best in 8 weeks)" if earlier and percent > max(earlier) else ""
    return f"The team's best figure: {percent}% of {label}{record}."


def compose(snapshot: Snapshot) -> Digest:
    """The digest's summary and thread, from a snapshot."""
    weeks = weekly_rates(snapshot)
    people = technician_weeks(snapshot)
    gaps = _gaps(snapshot)
    this = weeks[-1]
    span = _span(snapshot)
    visits = sum(count for count, _ in snapshot.visits.values())
    quiet = not (
        snapshot.touches or visits or this.followups.of or this.promises.of or snapshot.promises_made
    )

    blocks: list[Block] = [Header(f"Team digest · {span}")]
    if quiet:
        blocks.append(
            Section(
                f"A quiet week: nothing was logged from {span}. If the team was out at clients, a quick "
                "/visit for each visit (or /visit call for each call) keeps this digest and every "
                "client's check-in clock right."
            )
        )
    else:
        minutes = sum(minutes for _, minutes in snapshot.visits.values())
        did = (
            f"{_plural(visits, 'visit')}, {format_duration(minutes)} on site, by "
            f"{_plural(len(snapshot.visits), 'technician')}."
            if visits
            else "No visits logged this week."
        )
        blocks.append(
            Section(
                f"*This week*: {did}\n"
                f"Follow-ups sent on time: {_bold_rate(this.followups, 'none were due')}\n"
                f"Promises kept on time: {_bold_rate(this.promises, 'none were due')}\n"
                f"Clients checked in on time: {_bold_rate(this.checkins, 'no clients with an owner yet')}"
            )
        )
    wins = _wins(people, weeks, quiet, snapshot.risks)
    if wins:
        blocks += _sections("What went well", wins)
    counts = {title: len(lines) for title, lines in gaps.items() if title != NEEDS}
    counts[DEAD] = sum(dead.count for dead in snapshot.dead)
    attention = [f"• {_plural(count, *_ATTENTION[title])}" for title, count in counts.items() if count]
    if attention:
        blocks += _sections("Needs attention", [*attention, "What to do about each is in the thread."])
    elif not quiet:
        blocks.append(
            Section(
                "*Nothing overdue*: every follow-up sent, every cancellation phoned, every promise kept "
                "and every client checked in. :sparkles:"
            )
        )
    if snapshot.needs_spotted:
        # Not a gap: a chance to raise something with a client before they have to.
        listed = (
            "in the thread"
            if snapshot.needs_spotted <= len(snapshot.needs)
            else f"the first {len(snapshot.needs)} in the thread"
        )
        blocks.append(
            Section(
                f"*Needs spotted*: {_plural(snapshot.needs_spotted, 'recurring problem')} in visit notes, "
                f"each a chance for a proactive conversation ({listed})."
            )
        )
    detail_blocks: list[Block] = []
    if people:
        detail_blocks += _sections("Each technician this week", [_technician_line(week) for week in people])
    for title, lines in gaps.items():
        if lines:
            detail_blocks += _sections(title, lines)
    if detail_blocks:
        blocks.append(
            Note(
                "In the thread: each technician's figures, what to do about each gap, and the chart "
                "of the last 8 weeks."
            )
        )
    else:
        blocks.append(Note("In the thread: the chart of the last 8 weeks."))
    summary_text = f"Team digest for {span}" + (
        f": follow-ups on time {this.followups.percent}%" if this.followups.percent is not None else ""
    )
    summary = Reply(summary=summary_text, blocks=tuple(blocks), tone="info")
    details = _messages(detail_blocks, "Team digest details") if detail_blocks else []
    return Digest(
        summary=summary,
        details=tuple(details),
        weeks=tuple(weeks),
        end_day=snapshot.end.astimezone(snapshot.tz).date(),
        tz=snapshot.tz,
    )


def _bold_rate(rate: Rate, none: str) -> str:
    return none if not rate.of else f"*{rate.percent}%* ({rate.hit} of {rate.of})"


def _wins(
    people: Sequence[TechnicianWeek],
    weeks: Sequence[WeekRates],
    quiet: bool,
    snapshot_risks: Sequence[RiskFact] = (),
) -> list[str]:
    """What went well: perfect weeks, streaks of on-time follow-ups, the team's best figure."""
    lines = []
    perfect = [week.name for week in people if week.perfect]
    if perfect and len(perfect) <= SHOWN_IN_SUMMARY:
        lines.append(
            f"• A perfect week for {_names(perfect)}: every follow-up and promise on time, nothing overdue."
        )
    elif perfect:
        lines.append(
            f"• A perfect week for {len(perfect)} technicians: every follow-up and promise on time, "
            "nothing overdue (marked :tada: in the thread)."
        )
    streaks = sorted((week for week in people if week.streak >= STREAK), key=lambda week: -week.streak)
    for week in streaks[:SHOWN_IN_SUMMARY]:
        lines.append(f"• {week.name} has sent {week.streak} follow-up e-mails in a row on time.")
    if len(streaks) > SHOWN_IN_SUMMARY:
        more = len(streaks) - SHOWN_IN_SUMMARY
        lines.append(f"• …and {_plural(more, 'more streak')} of {STREAK} or more, in the thread.")
    for risk in snapshot_risks:
        if risk.closed_how == feedback.HAPPY_AGAIN and risk.closed_at is not None:
            days = (risk.closed_at - risk.opened_at).days
            lines.append(
                f"• *{_cut(risk.client, NAME_CHARS)}* is happy again after {_plural(days, 'day')} at risk."
            )
    best = None if quiet else _best(weeks)
    if best:
        lines.append(f"• {best}")
    return lines


# -- On demand -----------------------------------------------------------------------------------------


def on_demand(ctx: Context) -> Reply:
    """A manager asks for the digest now: it is queued for delivery to their DM."""
    user = ctx.technician.user_id
    require_manager(ctx, "ask for the team digest")
    asked = ctx.now.astimezone(UTC)
    repo.insert_ignore(
        ctx.session,
        Nudge,
        digest_row(
            workspace_id=ctx.workspace_id,
            period=f"{ASKED}{user}:{asked:%Y-%m-%dT%H:%M}",
            due_at=ctx.now,
            channel=user,
            now=ctx.now,
        ),
        ["workspace_id", "subject", "kind", "period"],
    )
    logger.info("digest asked for by %s", user)
    return Reply(
        summary=f"The team digest is on its way to {ctx.direct_chat}",
        blocks=(
            Section(
                f":mailbox_with_mail: The team digest for the last 7 days is on its way to {ctx.direct_chat} "
                + (
                    "(summary, details in its thread, and the 8-week chart)."
                    if ctx.platform == SLACK
                    else "(the summary, its details and the 8-week chart)."
                )
            ),
            Note(f"Managers can ask for it any time with {DIGEST_EXAMPLE}."),
        ),
        tone="ok",
    )


def choose_channel(ctx: Context) -> Reply:
    """`digest here` in a channel: a manager makes it the channel the weekly digest is posted in."""
    if not ctx.is_manager:
        raise Refused(
            error(
                "Only managers can choose where the team digest goes: whoever runs Nudgebot lists them in "
                "the MANAGER_IDS setting, and can add you like this.",
                f"MANAGER_IDS={ctx.technician.user_id}",
            )
        )
    conversation = ctx.conversation
    if conversation is None:
        raise Refused(
            error(
                f"On {ctx.platform_name}, the weekly digest goes to the channel in the DIGEST_CHANNEL "
                "setting.",
                "DIGEST_CHANNEL=C0123456789",
            )
        )
    if conversation.kind != "channel":
        raise Refused(
            error(
                "Type this in the managers' channel, after @mentioning me, to have the weekly digest "
                "posted there.",
                "@Nudgebot digest here",
            )
        )
    repo.set_digest_channel(ctx.session, workspace_id=ctx.workspace_id, channel=conversation.id)
    logger.info("the weekly digest of workspace %s now goes to %s", ctx.workspace_id, conversation.id)
    return Reply(
        summary="The weekly digest will be posted here",
        blocks=(
            Section(
                ":white_check_mark: The team digest will be posted in this channel every week, with the "
                "details in its thread and the chart of the last 8 weeks."
            ),
            Note(f"Managers can also ask for it any time in a chat with me: {DIGEST_EXAMPLE}."),
        ),
    )
