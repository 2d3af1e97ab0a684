"""The reminders themselves: when each kind is due, and what it says (re-checked just before sending).

Planning and sending live in `jobs/`; this module is the habit rules they share, written against the
storage models and the clock, with no chat platform in sight.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from bot import feedback, notices, promises, texts, visits
from bot.due import Due
from bot.grammar.durations import format_duration
from bot.hours import WorkingHours
from bot.links import Links
from bot.replies import Actions, Block, Button, Note, Reply, Section
from storage.models import (
    Appointment,
    AppointmentStatus,
    Client,
    Notice,
    Nudge,
    Promise,
    Risk,
    Visit,
)

FOLLOWUP = "followup"
CALL = "call"
PROMISE = "promise"
CHECKIN = "checkin"
APPOINTMENT = "appointment"
NOTICE = notices.KIND
RISK = feedback.RISK
RISK_TECHNICIAN = feedback.RISK_TECHNICIAN
ASK = feedback.ASK

FIRST_FOLLOWUP_AFTER = timedelta(hours=4)
CALL_EVERY = timedelta(hours=2)
CHECKIN_EVERY_WORKING_DAYS = 3

SNOOZE_FOLLOWUP = "followup.snooze"
CHECKIN_TOUCH = "checkin.touch"
CHECKIN_SNOOZE = "checkin.snooze"
RUNNING_LATE = "appointment.late"
MOVE_HINT = "promise.movehint"

# Every kind a technician can turn off on App Home, with how the settings name it. A notice not
# acknowledged, an unhappy client and a client to ask can't be: each comes from something the technician
# did or a client said, and rarely.
KINDS: tuple[tuple[str, str], ...] = (
    (FOLLOWUP, "Follow-up e-mails"),
    (CALL, "Calls after cancellations"),
    (PROMISE, "Promises"),
    (CHECKIN, "Check-ins"),
    (APPOINTMENT, "Appointment mornings"),
)


class TechnicianSettings(Protocol):
    """What a technician's zone, hours and muted kinds are read from: a `Technician`, or a row of its
    columns of these names (the planner reads plain rows)."""

    @property
    def timezone(self) -> str | None: ...
    @property
    def timezone_override(self) -> str | None: ...
    @property
    def work_start_minute(self) -> int: ...
    @property
    def work_end_minute(self) -> int: ...
    @property
    def work_days(self) -> str: ...
    @property
    def paused_until(self) -> date | None: ...
    @property
    def muted_kinds(self) -> str: ...


def technician_zone(technician: TechnicianSettings) -> ZoneInfo | None:
    """The technician's time zone: the one they chose on App Home, else their chat profile's; None until
    we know either."""
    for name in (technician.timezone_override, technician.timezone):
        if not name:
            continue
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return None


def muted_kinds(technician: TechnicianSettings) -> frozenset[str]:
    """The kinds of nudge the technician turned off."""
    return frozenset(kind for kind in technician.muted_kinds.split(",") if kind)


def working_hours(technician: TechnicianSettings, default_tz: ZoneInfo) -> WorkingHours:
    """A technician's working hours in their zone (the default zone until we know theirs)."""
    zone = technician_zone(technician) or default_tz
    return WorkingHours(
        tz=zone,
        start=time(technician.work_start_minute // 60, technician.work_start_minute % 60),
        # "Until 24:00" is stored as 1440 minutes; a time of day stops at 23:59:59.999999.
        end=time.max
        if technician.work_end_minute >= 24 * 60
        else time(technician.work_end_minute // 60, technician.work_end_minute % 60),
        days=frozenset(int(day) for day in technician.work_days if day.isdigit()),
        paused_until=technician.paused_until,
    )


def followup_due(visit: Visit, hours: WorkingHours, now: datetime) -> Due | None:
    """4 working hours after the visit, then at the start of every working day, until marked sent."""
    if visit.followup_sent_at is not None:
        return None
    if visit.followup_snoozed_until is not None and now < visit.followup_snoozed_until:
        return None
    first = hours.add(visit.visited_at, FIRST_FOLLOWUP_AFTER)
    if now < first:
        return None
    subject = f"visit:{visit.id}"
    # The latest daily occurrence: today once work has begun, else the working day before.
    today = hours.local_day(now)
    day = today if hours.opening_on(today) <= now else hours.working_day_before(today)
    if day > hours.local_day(first):
        return Due(subject, FOLLOWUP, day.isoformat(), hours.opening_on(day))
    return Due(subject, FOLLOWUP, "first", first)


def call_due(appointment: Appointment, hours: WorkingHours, now: datetime) -> Due | None:
    """Every 2 working hours after a cancellation until the call is logged."""
    if appointment.status is not AppointmentStatus.CANCELLED or appointment.call_logged_at is not None:
        return None
    assert appointment.cancelled_at is not None
    rounds = hours.between(appointment.cancelled_at, now) // CALL_EVERY
    if rounds < 1:
        return None
    slot = hours.add(appointment.cancelled_at, CALL_EVERY * rounds)
    return Due(f"appointment:{appointment.id}", CALL, f"call-{rounds}", slot)


def promise_due(promise: Promise, hours: WorkingHours, now: datetime) -> Due | None:
    """The working day before the due date, on the day, and every working day once overdue."""
    if promise.done_at is not None:
        return None
    due_day = hours.local_day(promise.due_at)
    today = hours.local_day(now)
    day_before = hours.working_day_before(due_day)
    if today < day_before or hours.opening_on(today) > now:
        return None
    reminder_day = day_before if today < due_day else today
    # The due date is part of the period: moving the promise starts its reminders afresh.
    period = f"{due_day.isoformat()}:{reminder_day.isoformat()}"
    return Due(f"promise:{promise.id}", PROMISE, period, hours.opening_on(reminder_day))


def checkin_due_at(client: Client) -> datetime:
    """When the client is next due a check-in: the cadence after the last touch (or after it was added)."""
    return (client.last_touch_at or client.created_at) + timedelta(days=client.checkin_cadence_days)


def checkin_due(client: Client, hours: WorkingHours, now: datetime) -> Due | None:
    """When the cadence has run out since the last touch, then every few working days until a touch.

    A snooze holds the reminders, and when it ends they start again at once: the rounds are counted
    from the end of the snooze, not from the due date (which could leave them silent for days more),
    and from the first working day on or after either, so a weekend never shortens a round.
    """
    due_at = checkin_due_at(client)
    if now < due_at or client.archived_at is not None:
        return None
    snoozed = client.checkin_snoozed_until
    if snoozed is not None and now < snoozed:
        return None
    since = snoozed if snoozed is not None and snoozed > due_at else due_at
    day = hours.local_day(hours.first_working_moment(since))
    rounds = hours.working_days_between(day, hours.local_day(now)) // CHECKIN_EVERY_WORKING_DAYS
    return Due(f"client:{client.id}", CHECKIN, f"{day.isoformat()}:{rounds}", max(since, now))


def appointment_due(appointment: Appointment, hours: WorkingHours, now: datetime) -> Due | None:
    """On the morning of a planned visit, once, before the window starts."""
    if appointment.status is not AppointmentStatus.PLANNED or now >= appointment.window_start:
        return None
    day = hours.local_day(appointment.window_start)
    if hours.local_day(now) != day:
        return None
    return Due(f"appointment:{appointment.id}", APPOINTMENT, day.isoformat(), hours.opening_on(day))


def risk_technician_due(risk: Risk, hours: WorkingHours, now: datetime) -> Due | None:
    """The technician an unhappy word is about hears it as the owner does (their own kind of nudge)."""
    due = feedback.risk_due(risk, hours, now)
    return None if due is None else replace(due, kind=RISK_TECHNICIAN)


_RULES: dict[tuple[type, str], Callable[[Any, WorkingHours, datetime], Due | None]] = {
    (Visit, FOLLOWUP): followup_due,
    (Appointment, CALL): call_due,
    (Appointment, APPOINTMENT): appointment_due,
    (Promise, PROMISE): promise_due,
    (Client, CHECKIN): checkin_due,
    (Notice, NOTICE): notices.notice_due,
    (Risk, RISK): feedback.risk_due,
    (Risk, RISK_TECHNICIAN): risk_technician_due,
    (Client, ASK): feedback.ask_due,
}
_SUBJECTS: dict[str, type] = {
    "visit": Visit,
    "appointment": Appointment,
    "promise": Promise,
    "client": Client,
    "notice": Notice,
    "risk": Risk,
}


def _subject(session: Session, subject: str) -> object | None:
    kind, _, number = subject.partition(":")
    model = _SUBJECTS.get(kind)
    if model is None or not number.isdigit():
        return None
    return session.get(model, int(number))


def still_due(session: Session, nudge: Nudge, hours: WorkingHours, now: datetime) -> bool:
    """Re-check, just before sending, that the nudge's subject still needs it (nothing already done).

    The occurrence must still be the latest one: a nudge held back (out of hours, a pause, Slack asking
    us to wait) is superseded by the next day's, a moved due date's or a later round's, which the
    planner writes in its turn, so the technician never gets the old one and the new one together.
    """
    if nudge.technician is not None and nudge.kind in muted_kinds(nudge.technician):
        # Turned off on App Home since it was planned: skipped, not held for later.
        return False
    subject = _subject(session, nudge.subject)
    rule = _RULES.get((type(subject), nudge.kind))
    if rule is None:
        return False
    due = rule(subject, hours, now)
    return due is not None and due.period == nudge.period


def contact(client: Client) -> str:
    """The client's contact name and phone, or how to add them."""
    parts = [part for part in (client.contact_name, client.contact_phone) if part]
    return ", ".join(parts) if parts else "no contact on file (/visit contact)"


def compose(
    session: Session, nudge: Nudge, hours: WorkingHours, now: datetime, links: Links | None = None
) -> Reply:
    """The DM for a nudge, with the buttons that act on it at once (and, with `links`, one-click links in
    the e-mails it drafts)."""
    subject = _subject(session, nudge.subject)
    tz = hours.tz
    if isinstance(subject, Visit):
        return _followup(subject, tz, now, links)
    if isinstance(subject, Notice):
        return notices.compose(subject, tz, now)
    if isinstance(subject, Risk):
        return feedback.compose_risk(subject, tz, now)
    if isinstance(subject, Client) and nudge.kind == ASK:
        return feedback.compose_ask(subject, tz, now, links)
    if isinstance(subject, Appointment) and nudge.kind == CALL:
        return _call(subject, tz, now)
    if isinstance(subject, Appointment):
        return _appointment(subject, tz, now)
    if isinstance(subject, Promise):
        return _promise(subject, hours, now)
    if isinstance(subject, Client):
        return _checkin(subject, tz, now)
    raise ValueError(f"no subject for nudge {nudge.id} ({nudge.subject})")


def followup_buttons(visit_id: int) -> Actions:
    """ "Mark sent" / "Snooze until tomorrow" for a follow-up not yet sent."""
    return Actions(
        (
            Button("Mark sent", visits.FOLLOWUP_SENT, str(visit_id), "primary"),
            Button("Snooze until tomorrow", SNOOZE_FOLLOWUP, str(visit_id)),
        )
    )


def running_late_button(appointment_id: int) -> Button:
    """ "Running late" on the day of an appointment."""
    return Button("Running late", RUNNING_LATE, str(appointment_id))


def promise_buttons(promise_id: int) -> Actions:
    """ "Kept" / "Move" for an open promise."""
    return Actions((promises.kept_button(promise_id), Button("Move", MOVE_HINT, str(promise_id))))


def checkin_buttons(client_id: int) -> Actions:
    """Log the call, e-mail or meeting that was the check-in, or snooze it for three days."""
    return Actions(
        (
            Button("Log a call", CHECKIN_TOUCH, f"{client_id}:call", "primary"),
            Button("Log an e-mail", CHECKIN_TOUCH, f"{client_id}:email"),
            Button("Log a meeting", CHECKIN_TOUCH, f"{client_id}:meeting"),
            Button("Snooze 3 days", CHECKIN_SNOOZE, str(client_id)),
        )
    )


def promise_when(promise: Promise, hours: WorkingHours, now: datetime) -> str:
    """`due Fri 27 Nov`, `due today` or `overdue since Fri 20 Nov`, in the technician's days."""
    due_day = hours.local_day(promise.due_at)
    today = hours.local_day(now)
    if today < due_day:
        return f"due {texts.due(promise.due_at, hours.tz, now=now)}"
    if today == due_day:
        return "due today"
    return f"overdue since {texts.due(promise.due_at, hours.tz, now=now)}"


def since_last_touch(client: Client, now: datetime) -> str:
    """`45 days since the last touch`, or `no touch logged yet`."""
    last = client.last_touch_at
    return f"{(now - last).days} days since the last touch" if last else "no touch logged yet"


def _followup(visit: Visit, tz: ZoneInfo, now: datetime, links: Links | None) -> Reply:
    client = visit.client
    when = texts.day(visit.visited_at, tz, now=now)
    blocks: list[Block] = [
        Section(
            f":email: The follow-up e-mail for your visit to *{client.name}* on {when} "
            f"({format_duration(visit.minutes)}) hasn't gone out yet. Here it is again:"
        ),
        *visits.draft_blocks(visit, tz, links, now),
        followup_buttons(visit.id),
    ]
    return Reply(summary=f"Follow-up to {client.name} not sent yet", blocks=tuple(blocks))


def _call(appointment: Appointment, tz: ZoneInfo, now: datetime) -> Reply:
    client = appointment.client
    when = texts.window(appointment.window_start, appointment.window_end, tz, now=now)
    return Reply(
        summary=f"Please call {client.name} about the cancellation",
        blocks=(
            Section(
                f":telephone_receiver: You cancelled *{client.name}* ({when}). Please phone them: "
                f"{contact(client)}. A cancellation by e-mail alone leaves them waiting."
            ),
            visits.call_buttons(appointment.id),
        ),
    )


def _appointment(appointment: Appointment, tz: ZoneInfo, now: datetime) -> Reply:
    client = appointment.client
    when = texts.window(appointment.window_start, appointment.window_end, tz, now=now)
    return Reply(
        summary=f"Today: {client.name} {when}",
        blocks=(
            Section(f":calendar: Today you're at *{client.name}*, {when}. Contact: {contact(client)}."),
            Section("If you'll be late, phone them before the window starts (not an e-mail)."),
            Actions((running_late_button(appointment.id),)),
        ),
    )


def _promise(promise: Promise, hours: WorkingHours, now: datetime) -> Reply:
    client = promise.client
    when = promise_when(promise, hours, now)
    return Reply(
        summary=f"Promise #{promise.id} to {client.name} is {when}",
        blocks=(
            Section(f":handshake: Promise #{promise.id} to *{client.name}*: {promise.text}. It's {when}."),
            promise_buttons(promise.id),
            Note(
                "Can't make it? Move it and tell the client the new date: /promise move "
                f"{promise.id} to <date>"
            ),
        ),
    )


def _checkin(client: Client, tz: ZoneInfo, now: datetime) -> Reply:
    since = since_last_touch(client, now)
    return Reply(
        summary=f"Time to check in with {client.name}",
        blocks=(
            Section(
                f":wave: Time to check in with *{client.name}*: {since}. A short call keeps clients for "
                f"years. Contact: {contact(client)}."
            ),
            checkin_buttons(client.id),
        ),
    )
