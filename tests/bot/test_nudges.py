"""When each kind of reminder is due, for technicians in Chicago and Berlin, at explicit instants.

The rules are pure: storage model objects built in memory, a technician's working hours, an instant.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import nudges
from bot.hours import WorkingHours
from bot.nudges import Due
from storage.models import Appointment, AppointmentStatus, Client, Promise, Technician, Visit

CHICAGO = ZoneInfo("America/Chicago")
BERLIN = ZoneInfo("Europe/Berlin")
ZONES = pytest.mark.parametrize("tz", [CHICAGO, BERLIN], ids=["chicago", "berlin"])


def at(tz: ZoneInfo, day: date, hour: int = 0, minute: int = 0) -> datetime:
    """A local wall-clock time as a UTC instant."""
    return datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC)


# The week of Monday 23 November 2026.
MON, TUE, WED, THU, FRI, SAT, SUN = (date(2026, 11, 23) + timedelta(days=n) for n in range(7))
NEXT_MON, NEXT_TUE, NEXT_WED = date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2)


def hours(
    tz: ZoneInfo,
    *,
    start: int = 8 * 60,
    end: int = 18 * 60,
    days: str = "01234",
    paused_until: date | None = None,
) -> WorkingHours:
    """A technician's working hours, through the same function the planners use."""
    technician = Technician(
        id=1,
        user_id="U111",
        timezone=tz.key,
        work_start_minute=start,
        work_end_minute=end,
        work_days=days,
        paused_until=paused_until,
    )
    return nudges.working_hours(technician, ZoneInfo("UTC"))


def period(due: Due | None) -> str | None:
    """The occurrence a rule names, or None when nothing is due."""
    return None if due is None else due.period


def slot(due: Due | None) -> datetime | None:
    """When the occurrence fell due, or None when nothing is due."""
    return None if due is None else due.slot


def visit(visited_at: datetime, **fields: object) -> Visit:
    return Visit(
        **{
            "id": 1,
            "visited_at": visited_at,
            "followup_sent_at": None,
            "followup_snoozed_until": None,
            **fields,
        }
    )


def cancelled(cancelled_at: datetime, window_start: datetime, **fields: object) -> Appointment:
    return Appointment(
        id=3,
        status=AppointmentStatus.CANCELLED,
        cancelled_at=cancelled_at,
        call_logged_at=None,
        window_start=window_start,
        window_end=window_start + timedelta(hours=1),
        **fields,
    )


def planned(window_start: datetime) -> Appointment:
    return Appointment(
        id=3,
        status=AppointmentStatus.PLANNED,
        window_start=window_start,
        window_end=window_start + timedelta(hours=1),
    )


def promise(tz: ZoneInfo, due_day: date, **fields: object) -> Promise:
    """A promise "by <day>": due at the end of that local day."""
    return Promise(**{"id": 7, "due_at": at(tz, due_day, 23, 59), "done_at": None, **fields})


def client(last_touch_at: datetime, cadence: int = 30, **fields: object) -> Client:
    return Client(
        id=5,
        created_at=last_touch_at - timedelta(days=100),
        last_touch_at=last_touch_at,
        checkin_cadence_days=cadence,
        checkin_snoozed_until=None,
        **fields,
    )


# -- follow-up e-mail --------------------------------------------------------------------------------


@ZONES
def test_the_first_followup_reminder_comes_four_working_hours_after_the_visit(tz: ZoneInfo) -> None:
    working, sent = hours(tz), visit(at(tz, MON, 10))

    assert nudges.followup_due(sent, working, at(tz, MON, 13, 59)) is None
    assert nudges.followup_due(sent, working, at(tz, MON, 14)) == Due(
        "visit:1", "followup", "first", at(tz, MON, 14)
    )


@ZONES
def test_the_first_followup_reminder_carries_over_the_evening(tz: ZoneInfo) -> None:
    # Two working hours on Monday (16:00-18:00), two more on Tuesday morning.
    working, sent = hours(tz), visit(at(tz, MON, 16))

    assert nudges.followup_due(sent, working, at(tz, MON, 23)) is None
    assert nudges.followup_due(sent, working, at(tz, TUE, 9, 59)) is None
    assert nudges.followup_due(sent, working, at(tz, TUE, 10)) == Due(
        "visit:1", "followup", "first", at(tz, TUE, 10)
    )


@ZONES
def test_the_first_followup_reminder_carries_over_the_weekend(tz: ZoneInfo) -> None:
    # Three working hours on Friday (15:00-18:00), the fourth on Monday morning.
    working, sent = hours(tz), visit(at(tz, FRI, 15))

    assert nudges.followup_due(sent, working, at(tz, SAT, 12)) is None
    assert nudges.followup_due(sent, working, at(tz, NEXT_MON, 8, 59)) is None
    assert nudges.followup_due(sent, working, at(tz, NEXT_MON, 9)) == Due(
        "visit:1", "followup", "first", at(tz, NEXT_MON, 9)
    )


@ZONES
def test_after_the_first_the_followup_is_due_daily_at_opening(tz: ZoneInfo) -> None:
    working, sent = hours(tz), visit(at(tz, MON, 10))

    assert nudges.followup_due(sent, working, at(tz, TUE, 8)) == Due(
        "visit:1", "followup", "2026-11-24", at(tz, TUE, 8)
    )
    assert nudges.followup_due(sent, working, at(tz, TUE, 17)) == Due(
        "visit:1", "followup", "2026-11-24", at(tz, TUE, 8)
    )
    assert nudges.followup_due(sent, working, at(tz, WED, 8)) == Due(
        "visit:1", "followup", "2026-11-25", at(tz, WED, 8)
    )
    # Before opening and at the weekend the latest occurrence is still the last working day's.
    assert period(nudges.followup_due(sent, working, at(tz, WED, 7, 59))) == "2026-11-24"
    assert period(nudges.followup_due(sent, working, at(tz, SUN, 12))) == "2026-11-27"
    assert nudges.followup_due(sent, working, at(tz, NEXT_MON, 8)) == Due(
        "visit:1", "followup", "2026-11-30", at(tz, NEXT_MON, 8)
    )


@ZONES
def test_a_followup_marked_sent_or_snoozed_is_not_due(tz: ZoneInfo) -> None:
    working = hours(tz)

    assert (
        nudges.followup_due(visit(at(tz, MON, 10), followup_sent_at=at(tz, MON, 15)), working, at(tz, TUE, 9))
        is None
    )
    snoozed = visit(at(tz, MON, 10))
    snoozed.followup_snoozed_until = at(tz, WED, 8)
    assert nudges.followup_due(snoozed, working, at(tz, TUE, 9)) is None
    assert nudges.followup_due(snoozed, working, at(tz, WED, 8)) == Due(
        "visit:1", "followup", "2026-11-25", at(tz, WED, 8)
    )


def test_the_first_followup_counts_in_the_technicians_own_hours() -> None:
    # 7:00-15:00: three hours left on Monday at noon, the fourth on Tuesday from 7:00.
    early = hours(BERLIN, start=7 * 60, end=15 * 60)

    assert nudges.followup_due(visit(at(BERLIN, MON, 12)), early, at(BERLIN, TUE, 8)) == Due(
        "visit:1", "followup", "first", at(BERLIN, TUE, 8)
    )


# -- calling the client about a cancellation ---------------------------------------------------------


@ZONES
def test_a_call_is_due_every_two_working_hours_after_a_cancellation(tz: ZoneInfo) -> None:
    working, appointment = hours(tz), cancelled(at(tz, MON, 9), at(tz, WED, 10))

    assert nudges.call_due(appointment, working, at(tz, MON, 10, 59)) is None
    assert nudges.call_due(appointment, working, at(tz, MON, 11)) == Due(
        "appointment:3", "call", "call-1", at(tz, MON, 11)
    )
    assert period(nudges.call_due(appointment, working, at(tz, MON, 12, 59))) == "call-1"
    assert nudges.call_due(appointment, working, at(tz, MON, 13)) == Due(
        "appointment:3", "call", "call-2", at(tz, MON, 13)
    )
    # 9 working hours on Monday: the fourth round at 17:00, the fifth at 9:00 on Tuesday.
    assert period(nudges.call_due(appointment, working, at(tz, TUE, 8, 30))) == "call-4"
    assert nudges.call_due(appointment, working, at(tz, TUE, 9)) == Due(
        "appointment:3", "call", "call-5", at(tz, TUE, 9)
    )


@ZONES
def test_a_cancellation_late_on_friday_is_called_about_on_monday(tz: ZoneInfo) -> None:
    appointment = cancelled(at(tz, FRI, 17), at(tz, NEXT_TUE, 10))

    assert nudges.call_due(appointment, hours(tz), at(tz, NEXT_MON, 8, 59)) is None
    assert nudges.call_due(appointment, hours(tz), at(tz, NEXT_MON, 9)) == Due(
        "appointment:3", "call", "call-1", at(tz, NEXT_MON, 9)
    )


@ZONES
def test_no_call_is_due_once_logged_or_for_a_planned_appointment(tz: ZoneInfo) -> None:
    logged = cancelled(
        at(tz, MON, 9),
        at(tz, WED, 10),
    )
    logged.call_logged_at = at(tz, MON, 10)

    assert nudges.call_due(logged, hours(tz), at(tz, MON, 15)) is None
    assert nudges.call_due(planned(at(tz, WED, 10)), hours(tz), at(tz, MON, 15)) is None


# -- promises ----------------------------------------------------------------------------------------


@ZONES
def test_a_promise_is_due_the_working_day_before_on_the_day_and_daily_when_overdue(tz: ZoneInfo) -> None:
    working, kept = hours(tz), promise(tz, NEXT_MON)  # by Monday: the day before is Friday

    assert nudges.promise_due(kept, working, at(tz, THU, 12)) is None
    assert nudges.promise_due(kept, working, at(tz, FRI, 7, 59)) is None
    assert nudges.promise_due(kept, working, at(tz, FRI, 8)) == Due(
        "promise:7", "promise", "2026-11-30:2026-11-27", at(tz, FRI, 8)
    )
    assert period(nudges.promise_due(kept, working, at(tz, FRI, 17))) == "2026-11-30:2026-11-27"
    assert nudges.promise_due(kept, working, at(tz, SAT, 12)) is None
    assert nudges.promise_due(kept, working, at(tz, NEXT_MON, 8)) == Due(
        "promise:7", "promise", "2026-11-30:2026-11-30", at(tz, NEXT_MON, 8)
    )
    assert nudges.promise_due(kept, working, at(tz, NEXT_TUE, 8)) == Due(
        "promise:7", "promise", "2026-11-30:2026-12-01", at(tz, NEXT_TUE, 8)
    )
    assert nudges.promise_due(kept, working, at(tz, NEXT_WED, 10)) == Due(
        "promise:7", "promise", "2026-11-30:2026-12-02", at(tz, NEXT_WED, 8)
    )


@ZONES
def test_a_kept_promise_is_never_due(tz: ZoneInfo) -> None:
    kept = promise(tz, NEXT_MON, done_at=at(tz, THU, 10))

    for day in (FRI, NEXT_MON, NEXT_TUE):
        assert nudges.promise_due(kept, hours(tz), at(tz, day, 9)) is None


@ZONES
def test_a_moved_promise_gets_new_periods(tz: ZoneInfo) -> None:
    working, moved = hours(tz), promise(tz, FRI)
    before = nudges.promise_due(moved, working, at(tz, THU, 8))

    moved.due_at = at(tz, NEXT_TUE, 23, 59)

    assert before == Due("promise:7", "promise", "2026-11-27:2026-11-26", at(tz, THU, 8))
    assert nudges.promise_due(moved, working, at(tz, FRI, 8)) is None
    assert nudges.promise_due(moved, working, at(tz, NEXT_MON, 8)) == Due(
        "promise:7", "promise", "2026-12-01:2026-11-30", at(tz, NEXT_MON, 8)
    )


@ZONES
def test_the_working_day_before_follows_the_technicians_own_days(tz: ZoneInfo) -> None:
    # Working Monday and Tuesday only: the day before a Monday is the Tuesday six days earlier.
    two_days = hours(tz, days="01")

    assert nudges.promise_due(promise(tz, NEXT_MON), two_days, at(tz, TUE, 8)) == Due(
        "promise:7", "promise", "2026-11-30:2026-11-24", at(tz, TUE, 8)
    )


# -- check-ins ---------------------------------------------------------------------------------------


@ZONES
def test_a_checkin_is_due_after_the_cadence_then_every_three_working_days(tz: ZoneInfo) -> None:
    working, quiet = hours(tz), client(at(tz, date(2026, 11, 9), 10), cadence=14)  # due Monday 10:00

    assert nudges.checkin_due(quiet, working, at(tz, MON, 9, 59)) is None
    assert nudges.checkin_due(quiet, working, at(tz, MON, 10)) == Due(
        "client:5", "checkin", "2026-11-23:0", at(tz, MON, 10)
    )
    periods = {
        day: period(nudges.checkin_due(quiet, working, at(tz, day, 9))) for day in (TUE, WED, THU, FRI)
    }
    assert periods == {TUE: "2026-11-23:0", WED: "2026-11-23:0", THU: "2026-11-23:1", FRI: "2026-11-23:1"}
    # The weekend is not counted: Tue 1 Dec is the sixth working day after the due date.
    assert period(nudges.checkin_due(quiet, working, at(tz, NEXT_MON, 9))) == "2026-11-23:1"
    assert period(nudges.checkin_due(quiet, working, at(tz, NEXT_TUE, 9))) == "2026-11-23:2"


@ZONES
def test_a_checkin_follows_the_clients_cadence(tz: ZoneInfo) -> None:
    monthly, weekly = (
        client(at(tz, date(2026, 10, 24), 12)),
        client(at(tz, date(2026, 11, 16), 12), cadence=7),
    )

    # The default cadence, 30 days: due on Monday 23 November, not the day before.
    assert nudges.checkin_due(monthly, hours(tz), at(tz, date(2026, 11, 22), 12)) is None
    assert period(nudges.checkin_due(monthly, hours(tz), at(tz, MON, 12))) == "2026-11-23:0"
    assert nudges.checkin_due(weekly, hours(tz), at(tz, MON, 11, 59)) is None
    assert nudges.checkin_due(weekly, hours(tz), at(tz, MON, 12)) == Due(
        "client:5", "checkin", "2026-11-23:0", at(tz, MON, 12)
    )


@ZONES
def test_a_checkin_falling_due_at_the_weekend_counts_its_rounds_from_monday(tz: ZoneInfo) -> None:
    saturday = client(at(tz, date(2026, 11, 14), 12), cadence=14)

    assert period(nudges.checkin_due(saturday, hours(tz), at(tz, NEXT_MON, 8))) == "2026-11-30:0"
    assert period(nudges.checkin_due(saturday, hours(tz), at(tz, NEXT_WED, 8))) == "2026-11-30:0"
    assert period(nudges.checkin_due(saturday, hours(tz), at(tz, date(2026, 12, 3), 8))) == "2026-11-30:1"


@ZONES
def test_a_touch_restarts_the_checkin_clock(tz: ZoneInfo) -> None:
    touched = client(at(tz, date(2026, 11, 2), 10))
    touched.last_touch_at = at(tz, MON, 11)

    assert nudges.checkin_due(touched, hours(tz), at(tz, MON, 12)) is None
    assert nudges.checkin_due(touched, hours(tz), at(tz, date(2026, 12, 23), 11)) == Due(
        "client:5", "checkin", "2026-12-23:0", at(tz, date(2026, 12, 23), 11)
    )


@ZONES
def test_a_snooze_holds_checkins_and_they_start_again_when_it_ends(tz: ZoneInfo) -> None:
    working, quiet = hours(tz), client(at(tz, date(2026, 11, 9), 10), cadence=14)
    sent_thursday = nudges.checkin_due(quiet, working, at(tz, THU, 8))

    quiet.checkin_snoozed_until = at(tz, THU, 9) + timedelta(days=3)  # Sunday 9:00

    assert sent_thursday is not None
    assert sent_thursday.period == "2026-11-23:1"
    assert nudges.checkin_due(quiet, working, at(tz, FRI, 9)) is None
    # The first working hour after the snooze brings a new round, not Thursday's again.
    assert nudges.checkin_due(quiet, working, at(tz, NEXT_MON, 8)) == Due(
        "client:5", "checkin", "2026-11-30:0", at(tz, NEXT_MON, 8)
    )
    assert period(nudges.checkin_due(quiet, working, at(tz, NEXT_WED, 8))) == "2026-11-30:0"
    assert period(nudges.checkin_due(quiet, working, at(tz, date(2026, 12, 3), 8))) == "2026-11-30:1"


# -- appointment today -------------------------------------------------------------------------------


@ZONES
def test_an_appointment_is_due_on_its_local_day_before_the_window(tz: ZoneInfo) -> None:
    working, visit_wednesday = hours(tz), planned(at(tz, WED, 10))
    today = Due("appointment:3", "appointment", "2026-11-25", at(tz, WED, 8))

    assert nudges.appointment_due(visit_wednesday, working, at(tz, TUE, 17)) is None
    assert nudges.appointment_due(visit_wednesday, working, at(tz, WED, 8)) == today
    assert nudges.appointment_due(visit_wednesday, working, at(tz, WED, 9, 59)) == today
    assert nudges.appointment_due(visit_wednesday, working, at(tz, WED, 10)) is None
    assert nudges.appointment_due(cancelled(at(tz, MON, 9), at(tz, WED, 10)), working, at(tz, WED, 8)) is None


def test_the_appointment_day_is_the_technicians_own() -> None:
    # 00:30 on Thursday in Berlin is still Wednesday evening in Chicago.
    just_after_midnight = planned(at(BERLIN, THU, 0, 30))

    assert nudges.appointment_due(just_after_midnight, hours(BERLIN), at(BERLIN, WED, 17)) is None
    assert nudges.appointment_due(just_after_midnight, hours(CHICAGO), at(CHICAGO, WED, 16)) == Due(
        "appointment:3", "appointment", "2026-11-25", at(CHICAGO, WED, 8)
    )


# -- pauses ------------------------------------------------------------------------------------------


@ZONES
def test_a_pause_holds_delivery_and_what_fell_due_comes_the_morning_it_ends(tz: ZoneInfo) -> None:
    away = hours(tz, paused_until=NEXT_MON)

    assert not away.is_working(at(tz, TUE, 10))
    assert away.next_open(at(tz, TUE, 10)) == at(tz, NEXT_MON, 8)
    # Reminders are judged as if there were no pause, so the morning it ends gets the latest one.
    assert nudges.followup_due(visit(at(tz, MON, 10)), away, at(tz, NEXT_MON, 8)) == Due(
        "visit:1", "followup", "2026-11-30", at(tz, NEXT_MON, 8)
    )
    assert nudges.promise_due(promise(tz, WED), away, at(tz, NEXT_MON, 8)) == Due(
        "promise:7", "promise", "2026-11-25:2026-11-30", at(tz, NEXT_MON, 8)
    )


@ZONES
def test_a_call_task_open_over_a_pause_is_due_the_morning_it_ends(tz: ZoneInfo) -> None:
    # Cancelled Monday 9:00, reminded at 11:00 and 13:00, then away until next Monday. Counting the
    # pause out of the working time would make Monday's rounds repeat (call-1, call-2) and stay silent
    # until mid-afternoon; the pause holds delivery only.
    appointment = cancelled(at(tz, MON, 9), at(tz, WED, 10))
    away = hours(tz, paused_until=NEXT_MON)

    due = nudges.call_due(appointment, away, at(tz, NEXT_MON, 8))

    # 49 working hours from Monday 9:00 to Friday 18:00: the 24th round fell due on Friday at 17:00.
    assert due == Due("appointment:3", "call", "call-24", at(tz, FRI, 17))
    assert away.is_working(at(tz, NEXT_MON, 8))


def test_a_pause_longer_than_the_search_still_finds_the_morning_it_ends() -> None:
    away = hours(CHICAGO, paused_until=date(2027, 11, 22))

    assert away.next_open(at(CHICAGO, date(2026, 9, 1), 12)) == at(CHICAGO, date(2027, 11, 22), 8)


# -- daylight saving ---------------------------------------------------------------------------------

# (zone, the Sunday the clocks change, the UTC offset the week before and after, in hours)
DST_CHANGES = [
    pytest.param(CHICAGO, date(2026, 3, 8), -6, -5, id="chicago-spring"),
    pytest.param(CHICAGO, date(2026, 11, 1), -5, -6, id="chicago-fall"),
    pytest.param(BERLIN, date(2026, 3, 29), 1, 2, id="berlin-spring"),
    pytest.param(BERLIN, date(2026, 10, 25), 2, 1, id="berlin-fall"),
]


def utc_of_8am(day: date, offset: int) -> datetime:
    return datetime.combine(day, time(8), tzinfo=UTC) - timedelta(hours=offset)


@pytest.mark.parametrize(("tz", "sunday", "before", "after"), DST_CHANGES)
def test_the_8am_reminders_arrive_at_8am_local_across_a_dst_change(
    tz: ZoneInfo, sunday: date, before: int, after: int
) -> None:
    friday, monday, tuesday = (
        sunday - timedelta(days=2),
        sunday + timedelta(days=1),
        sunday + timedelta(days=2),
    )
    working = hours(tz)
    due_monday = promise(tz, monday)

    on_friday = nudges.promise_due(due_monday, working, utc_of_8am(friday, before))
    on_monday = nudges.promise_due(due_monday, working, utc_of_8am(monday, after))
    followup = nudges.followup_due(visit(at(tz, friday, 10)), working, utc_of_8am(tuesday, after))
    appointment = nudges.appointment_due(planned(at(tz, monday, 10)), working, utc_of_8am(monday, after))

    # Each slot is the exact UTC instant of 8:00 local under that day's offset.
    assert slot(on_friday) == utc_of_8am(friday, before)
    assert slot(on_monday) == utc_of_8am(monday, after)
    assert slot(followup) == utc_of_8am(tuesday, after)
    assert slot(appointment) == utc_of_8am(monday, after)
    # An hour earlier (in UTC terms of the new offset) is still before opening.
    assert nudges.promise_due(due_monday, working, utc_of_8am(monday, after) - timedelta(minutes=1)) is None
    assert not working.is_working(utc_of_8am(monday, after) - timedelta(minutes=1))
    assert working.is_working(utc_of_8am(monday, after))


@pytest.mark.parametrize(("tz", "sunday", "before", "after"), DST_CHANGES)
def test_on_the_day_the_clocks_change_a_sunday_worker_starts_at_8am_local(
    tz: ZoneInfo, sunday: date, before: int, after: int
) -> None:
    every_day = hours(tz, days="0123456")

    assert every_day.next_open(at(tz, sunday - timedelta(days=1), 20)) == utc_of_8am(sunday, after)


@pytest.mark.parametrize(("tz", "sunday", "before", "after"), DST_CHANGES)
def test_call_rounds_count_real_working_hours_across_a_dst_weekend(
    tz: ZoneInfo, sunday: date, before: int, after: int
) -> None:
    friday, monday = sunday - timedelta(days=2), sunday + timedelta(days=1)
    appointment = cancelled(at(tz, friday, 17), at(tz, monday, 14))

    # One working hour on Friday, one on Monday: the first round is at 9:00 local, not 8:00 or 10:00.
    due = nudges.call_due(appointment, hours(tz), utc_of_8am(monday, after) + timedelta(hours=1))

    assert due == Due("appointment:3", "call", "call-1", utc_of_8am(monday, after) + timedelta(hours=1))


def test_working_until_midnight_is_read_as_the_end_of_the_day() -> None:
    technician = Technician(
        workspace_id=1,
        user_id="U1",
        timezone="Europe/Berlin",
        work_start_minute=0,
        work_end_minute=24 * 60,
        work_days="0123456",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )

    hours = nudges.working_hours(technician, ZoneInfo("UTC"))

    assert hours.is_working(datetime(2026, 11, 28, 22, 59, tzinfo=UTC))  # 23:59 on a Saturday in Berlin
