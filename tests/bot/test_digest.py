"""The digest's content from seeded data at a fixed instant: figures, praise, gaps, limits and the chart."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import chart, digest
from bot.replies import Block, Header, Note, Reply, Section
from bot.services import Services
from handlers.slack.render import MAX_BLOCKS, MAX_SECTION, build_message, escape
from storage.models import (
    Appointment,
    AppointmentStatus,
    Client,
    Nudge,
    NudgeStatus,
    Promise,
    Technician,
    Touch,
    TouchKind,
    Visit,
    Workspace,
)

UTC_ZONE = ZoneInfo("UTC")
# The digest of Monday 23 November 2026, 09:00 (UTC): it covers Monday 16 November 09:00 onwards.
END = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LONG_AGO = datetime(2026, 6, 1, tzinfo=UTC)


def at(day: int, hour: int = 10, month: int = 11) -> datetime:
    """An instant in November 2026 (UTC)."""
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


class Seed:
    """Writes a workspace's history straight into the database, as the commands would have left it."""

    def __init__(self, services: Services, *, created: datetime = LONG_AGO, team: str = "T111") -> None:
        self.services = services
        with services.sessions.begin() as session:
            workspace = Workspace(external_id=team, created_at=created)
            session.add(workspace)
            session.flush()
            self.workspace_id = workspace.id

    def _add(self, row: object) -> int:
        with self.services.sessions.begin() as session:
            session.add(row)
            session.flush()
            number: int = row.id  # type: ignore[attr-defined]
            return number

    def technician(self, user: str, name: str | None) -> int:
        return self._add(
            Technician(workspace_id=self.workspace_id, user_id=user, display_name=name, created_at=LONG_AGO)
        )

    def client(
        self,
        name: str,
        owner: int | None,
        *,
        created: datetime = LONG_AGO,
        cadence: int = 30,
        phone: str | None = None,
        touched: datetime | None = None,
    ) -> int:
        client_id = self._add(
            Client(
                workspace_id=self.workspace_id,
                name=name,
                match_key=name.casefold(),
                owner_id=owner,
                contact_phone=phone,
                checkin_cadence_days=cadence,
                created_at=created,
            )
        )
        if touched is not None:
            self.touch(client_id, owner or self.technician(f"UX{client_id}", None), touched)
        return client_id

    def touch(self, client: int, technician: int, when: datetime, kind: TouchKind = TouchKind.CALL) -> None:
        with self.services.sessions.begin() as session:
            session.add(
                Touch(
                    workspace_id=self.workspace_id,
                    client_id=client,
                    technician_id=technician,
                    kind=kind,
                    touched_at=when,
                )
            )
            row = session.get(Client, client)
            assert row is not None
            if row.last_touch_at is None or row.last_touch_at < when:
                row.last_touch_at = when

    def visit(
        self, technician: int, client: int, when: datetime, *, minutes: int = 60, sent: datetime | None = None
    ) -> int:
        visit_id = self._add(
            Visit(
                workspace_id=self.workspace_id,
                client_id=client,
                technician_id=technician,
                visited_at=when,
                minutes=minutes,
                work_done="replaced fuser",
                followup_sent_at=sent,
                created_at=when,
            )
        )
        self.touch(client, technician, when, TouchKind.VISIT)
        return visit_id

    def promise(
        self,
        technician: int,
        client: int,
        text: str,
        due: datetime,
        *,
        done: datetime | None = None,
        created: datetime | None = None,
    ) -> int:
        return self._add(
            Promise(
                workspace_id=self.workspace_id,
                client_id=client,
                technician_id=technician,
                text=text,
                due_at=due,
                done_at=done,
                created_at=created or due - timedelta(days=3),
            )
        )

    def cancelled(
        self,
        technician: int,
        client: int,
        start: datetime,
        cancelled: datetime,
        called: datetime | None = None,
    ) -> int:
        return self._add(
            Appointment(
                workspace_id=self.workspace_id,
                client_id=client,
                technician_id=technician,
                window_start=start,
                window_end=start + timedelta(hours=1),
                status=AppointmentStatus.CANCELLED,
                cancelled_at=cancelled,
                call_logged_at=called,
                created_at=cancelled - timedelta(days=2),
            )
        )

    def nudge(
        self,
        technician: int | None,
        *,
        status: NudgeStatus,
        created: datetime,
        reason: str | None = None,
        kind: str = "followup",
        period: str | None = None,
    ) -> int:
        return self._add(
            Nudge(
                workspace_id=self.workspace_id,
                technician_id=technician,
                subject=f"workspace:{self.workspace_id}"
                if kind == digest.KIND
                else f"visit:{created:%d%H%M%S}",
                kind=kind,
                period=period or f"p{created.isoformat()}",
                status=status,
                due_at=created,
                next_attempt_at=created,
                attempts=1,
                last_error=reason,
                created_at=created,
            )
        )

    def digest(self, end: datetime = END, tz: ZoneInfo = UTC_ZONE) -> digest.Digest:
        with self.services.sessions.begin() as session:
            snapshot = digest.gather(session, workspace_id=self.workspace_id, end=end, tz=tz)
        return digest.compose(snapshot)


def lines(reply: Reply) -> list[str]:
    """Every line of a reply's blocks, in order."""
    return [line for block in reply.blocks for line in _text(block).split("\n")]


def _text(block: Block) -> str:
    assert isinstance(block, Section | Note | Header), block
    return block.text


def thread_lines(composed: digest.Digest) -> list[str]:
    return [line for reply in composed.details for line in lines(reply)]


@pytest.fixture
def seed(services: Services) -> Seed:
    return Seed(services)


def test_an_empty_week_gets_a_calm_line_and_a_suggestion_not_zeros(seed: Seed) -> None:
    seed.technician("U111", "Ana")

    composed = seed.digest()

    assert composed.summary.blocks == (
        Header("Team digest · Mon 16 Nov – Mon 23 Nov"),
        Section(
            "A quiet week: nothing was logged from Mon 16 Nov – Mon 23 Nov. If the team was out at clients, "
            "a quick /visit for each visit (or /visit call for each call) keeps this digest and every "
            "client's check-in clock right."
        ),
        Note("In the thread: the chart of the last 8 weeks."),
    )
    assert composed.details == ()
    assert "0%" not in " ".join(lines(composed.summary))
    assert [week.followups.percent for week in composed.weeks] == [None] * 8


def test_a_perfect_week_and_a_streak_are_named(seed: Seed) -> None:
    ana = seed.technician("U111", "Ana")
    acme = seed.client("Acme Dental", ana)
    # Five visits over three weeks, every summary e-mail sent within the day; the last two this week.
    for day in (3, 5, 10, 17, 19):
        seed.visit(ana, acme, at(day), minutes=90, sent=at(day, 16))
    seed.promise(ana, acme, "send the revised quote", at(20, 17), done=at(20, 12))

    composed = seed.digest()

    assert lines(composed.summary) == [
        "Team digest · Mon 16 Nov – Mon 23 Nov",
        "*This week*: 2 visits, 3h on site, by 1 technician.",
        "Follow-ups sent on time: *100%* (2 of 2)",
        "Promises kept on time: *100%* (1 of 1)",
        "Clients checked in on time: *100%* (1 of 1)",
        "*What went well*",
        "• A perfect week for Ana: every follow-up and promise on time, nothing overdue.",
        "• Ana has sent 5 follow-up e-mails in a row on time.",
        "• The team's best figure: 100% of follow-ups sent on time.",
        "*Nothing overdue*: every follow-up sent, every cancellation phoned, every promise kept and every "
        "client checked in. :sparkles:",
        # "replaced fuser" five times in three weeks: a printer that keeps failing.
        "*Needs spotted*: 1 recurring problem in visit notes, each a chance for a proactive conversation "
        "(in the thread).",
        "In the thread: each technician's figures, what to do about each gap, and the chart of the last 8 "
        "weeks.",
    ]
    assert thread_lines(composed) == [
        "*Each technician this week*",
        ":tada: *Ana*: 2 visits, 3h · follow-ups on time 2 of 2 (100%) · promises kept on time 1 of 1 (100%) "
        "· nothing overdue · 5 follow-ups in a row on time",
        "*Needs spotted: suggest a proactive conversation*",
        "*Acme Dental*: printer trouble in 5 of the last 5 visits — suggest replacing the printer? (from "
        "“fuser”.) Visits: Thu 19 Nov, Tue 17 Nov, Tue 10 Nov, Thu 5 Nov, Tue 3 Nov.",
    ]
    assert composed.summary.summary == "Team digest for Mon 16 Nov – Mon 23 Nov: follow-ups on time 100%"


def test_the_thread_lists_the_first_needs_spotted_and_counts_the_rest_for_their_owners_homes(
    seed: Seed,
) -> None:
    ana = seed.technician("U111", "Ana")
    # Twelve clients with a printer that keeps failing, each visited last on a later day than the one
    # before, so the needs come newest first: Client 11 to Client 00. Client 00 has no owner.
    for number in range(12):
        client = seed.client(f"Client {number:02d}", ana if number else None)
        for day in (3, 5, 10 + number):
            seed.visit(ana, client, at(day), sent=at(day, 12))

    composed = seed.digest()

    assert (
        "*Needs spotted*: 12 recurring problems in visit notes, each a chance for a proactive conversation "
        "(the first 10 in the thread)."
    ) in lines(composed.summary)
    shown = thread_lines(composed)
    needs = shown[shown.index(f"*{digest.NEEDS}*") + 1 :]
    assert len(needs) == digest.NEEDS_SHOWN + 1 == 11
    assert needs[0] == (
        "*Client 11*: printer trouble in 3 of the last 3 visits — suggest replacing the printer? (from "
        "“fuser”.) Visits: Sat 21 Nov, Thu 5 Nov, Tue 3 Nov."
    )
    assert [need.split("*")[1] for need in needs[:-1]] == [
        f"Client {number:02d}" for number in range(11, 1, -1)
    ]
    assert needs[-1] == (
        "…and 2 more: each owner sees theirs on their App Home, with *Raised it with them* and *Not useful*. "
        "1 is at a client with no owner, so nobody sees it there: give that client an owner."
    )


def test_a_week_with_each_kind_of_gap_says_what_to_do_about_each(seed: Seed) -> None:
    ana = seed.technician("U111", "Ana")
    bo = seed.technician("U222", None)
    acme = seed.client("Acme Dental", ana, touched=at(20))
    seed.client("Bo Bakery", bo, touched=at(1, month=10))
    cafe = seed.client("Café Müller", bo, phone="+1 555 0100", touched=at(20, month=10))
    elm = seed.client("Elm Clinic", bo)
    seed.client("Dormant & Co", None, created=at(1, month=9))
    # Ana: one follow-up on time, one sent a day late; Bo: one never sent.
    seed.visit(ana, acme, at(16, 12), sent=at(16, 15))
    seed.visit(ana, acme, at(18), sent=at(20))
    seed.visit(bo, elm, at(17), minutes=45)
    # Bo cancelled Wednesday's appointment on Tuesday and has not phoned; an older one was phoned.
    seed.cancelled(bo, cafe, at(18, 14), at(17))
    seed.cancelled(bo, cafe, at(12, 14), at(11), called=at(11, 12))
    # Promises: Ana kept one two days late, Bo's is still open, Ana kept another on time.
    seed.promise(ana, acme, "order toner", at(18, 17), done=at(20, 17))
    seed.promise(bo, cafe, "send the quote", at(19, 23))
    seed.promise(ana, acme, "call the printer vendor", at(21, 12), done=at(21, 9))

    composed = seed.digest()

    assert lines(composed.summary) == [
        "Team digest · Mon 16 Nov – Mon 23 Nov",
        "*This week*: 3 visits, 2h45 on site, by 2 technicians.",
        "Follow-ups sent on time: *33%* (1 of 3)",
        "Promises kept on time: *33%* (1 of 3)",
        "Clients checked in on time: *50%* (2 of 4)",
        "*What went well*",
        "• The team's best figure: 50% of clients checked in on time.",
        "*Needs attention*",
        "• 1 follow-up e-mail not sent",
        "• 1 cancelled appointment nobody has phoned about",
        "• 2 promises broken",
        "• 2 clients overdue for a check-in (past the 7-day grace)",
        "What to do about each is in the thread.",
        "In the thread: each technician's figures, what to do about each gap, and the chart of the last 8 "
        "weeks.",
    ]
    assert thread_lines(composed) == [
        "*Each technician this week*",
        "*a technician (U222)*: 1 visit, 45m · follow-ups on time 0 of 1 (0%) · promises kept on time 0 of 1 "
        "(0%) · 5 overdue (1 follow-up, 1 call, 1 promise, 2 check-ins)",
        "*Ana*: 2 visits, 2h · follow-ups on time 1 of 2 (50%) · promises kept on time 1 of 2 (50%) "
        "· nothing overdue",
        "*Follow-up e-mails not sent*",
        "Send the summary e-mail for the visit to *Elm Clinic* on Tue 17 Nov (a technician (U222)).",
        "*Cancelled, and nobody has phoned*",
        "Phone *Café Müller* today (+1 555 0100): the appointment was cancelled on Tue 17 Nov and nobody "
        "has called (a technician (U222)).",
        "*Promises broken*",
        "*Acme Dental*: “order toner” (Ana) was kept 2 days late: next time, move the date and tell the "
        "client before it passes.",
        "*Café Müller*: “send the quote” (a technician (U222)) was due Thu 19 Nov, 11pm and is still open: "
        "keep it today, or agree a new date with the client and move it.",
        "*Clients overdue for a check-in*",
        "Check in with *Dormant & Co*: 82 days since it was added, never touched (every 30 days; no owner: "
        "give it one).",
        "Check in with *Bo Bakery*: 52 days since the last touch (every 30 days; a technician (U222)).",
    ]


def test_undeliverable_reminders_are_grouped_by_technician_and_reason_with_what_to_do(seed: Seed) -> None:
    ana = seed.technician("U111", "Ana")
    bo = seed.technician("U222", "Bo")
    for hour in (10, 11):
        seed.nudge(ana, status=NudgeStatus.DEAD, created=at(17, hour), reason="user_not_found")
    seed.nudge(ana, status=NudgeStatus.DEAD, created=at(18), reason="too_many_attempts")
    seed.nudge(bo, status=NudgeStatus.DEAD, created=at(19), reason="token_revoked")
    seed.nudge(bo, status=NudgeStatus.DEAD, created=at(19, 11), reason="not_in_channel")
    seed.nudge(bo, status=NudgeStatus.DEAD, created=at(20), reason="weird_error")
    seed.nudge(bo, status=NudgeStatus.DEAD, created=at(20, 11), reason="http_503")
    seed.nudge(bo, status=NudgeStatus.SENT, created=at(20, 12))
    # Died the week before, while no digest went out: still unseen, so it is shown.
    seed.nudge(bo, status=NudgeStatus.DEAD, created=at(12), reason="account_inactive")
    # After this week's end: not part of it.
    seed.nudge(bo, status=NudgeStatus.DEAD, created=at(23, 10), reason="user_disabled")

    composed = seed.digest()

    assert "• 8 reminders could not be delivered" in lines(composed.summary)
    assert thread_lines(composed) == [
        "*Reminders that could not be delivered*",
        "*Ana*: 1 reminder not delivered (too_many_attempts: Slack was failing each time we tried: check "
        "status.slack.com).",
        "*Ana*: 2 reminders not delivered (user_not_found: the person left or was deactivated: reassign "
        "their clients).",
        "*Bo*: 1 reminder not delivered (account_inactive: the person left or was deactivated: reassign "
        "their clients).",
        "*Bo*: 1 reminder not delivered (http_503: Slack was failing each time we tried: check "
        "status.slack.com).",
        "*Bo*: 1 reminder not delivered (not_in_channel: invite Nudgebot to the channel "
        "(/invite @Nudgebot)).",
        "*Bo*: 1 reminder not delivered (token_revoked: Nudgebot's token no longer works: reinstall the "
        "app).",
        "*Bo*: 1 reminder not delivered (weird_error).",
    ]


def test_reminders_shown_by_the_last_digest_sent_are_not_shown_again(seed: Seed) -> None:
    bo = seed.technician("U222", "Bo")
    seed.nudge(bo, status=NudgeStatus.DEAD, created=at(12), reason="account_inactive")
    seed.nudge(None, status=NudgeStatus.SENT, created=at(16, 9), kind=digest.KIND, period="2026-11-16")
    seed.nudge(bo, status=NudgeStatus.DEAD, created=at(17), reason="user_not_found")

    assert thread_lines(seed.digest())[1:] == [
        "*Bo*: 1 reminder not delivered (user_not_found: the person left or was deactivated: reassign "
        "their clients).",
    ]


def test_figures_are_as_they_stood_at_the_window_end(seed: Seed) -> None:
    ana = seed.technician("U111", "Ana")
    acme = seed.client("Acme Dental", ana, touched=at(20))
    seed.visit(ana, acme, at(18))
    # Marked sent, and the client phoned, only after the digest's week ended.
    seed.visit(ana, acme, at(19), sent=at(23, 12))
    seed.cancelled(ana, acme, at(20, 14), at(19), called=at(23, 10))

    composed = seed.digest()

    assert thread_lines(composed)[:2] == [
        "*Each technician this week*",
        "*Ana*: 2 visits, 2h · follow-ups on time 0 of 2 (0%) · promises kept on time (none due) "
        "· 3 overdue (2 follow-ups, 1 call)",
    ]


def test_many_technicians_and_clients_stay_within_slacks_limits_before_any_clipping(seed: Seed) -> None:
    technicians = [seed.technician(f"U{n:03d}", f"Technician {n:02d} " + "&" * 40) for n in range(60)]
    with seed.services.sessions.begin() as session:
        for n in range(300):
            owner = technicians[n % 60]
            client = Client(
                workspace_id=seed.workspace_id,
                name=f"Client <{n:03d}> " + "x" * 150,
                match_key=f"client {n}",
                owner_id=owner,
                checkin_cadence_days=30,
                created_at=LONG_AGO,
            )
            session.add(client)
            session.flush()
            visit = Visit(
                workspace_id=seed.workspace_id,
                client_id=client.id,
                technician_id=owner,
                visited_at=at(17),
                minutes=30,
                work_done="checked backups",
                created_at=at(17),
            )
            touch = Touch(
                workspace_id=seed.workspace_id,
                client_id=client.id,
                technician_id=owner,
                kind=TouchKind.VISIT,
                visit=visit,
                touched_at=at(17),
            )
            session.add_all([visit, touch])
            session.add(
                Promise(
                    workspace_id=seed.workspace_id,
                    client_id=client.id,
                    technician_id=owner,
                    text="a very long promise " * 40,
                    due_at=at(18),
                    created_at=at(16),
                )
            )
    composed = seed.digest()

    messages = [composed.summary, *composed.details]
    assert len(composed.details) >= 3
    for reply in messages:
        rendered = build_message(reply)
        assert len(rendered["blocks"]) <= MAX_BLOCKS
        for block, built in zip(reply.blocks, rendered["blocks"], strict=True):
            text = built["text"] if block.__class__ is Section else built.get("elements", [built])[0]["text"]
            text = text if isinstance(text, str) else text["text"]
            assert len(text) <= MAX_SECTION
            # Nothing was clipped by the renderer: every line arrives whole.
            if isinstance(block, Section | Note):
                assert text == escape(block.text)
    shown = thread_lines(composed)
    assert sum(line.startswith("Check in with *Client <") for line in shown) == 0  # visited this week
    assert sum(line.startswith("Send the summary e-mail for the visit to *Client <") for line in shown) == 300
    assert sum(line.startswith("*Client <") for line in shown) == 300
    assert sum(line.startswith("*Technician ") for line in shown) == 60
    assert "• 300 promises broken" in lines(composed.summary)


def test_300_clients_overdue_for_a_check_in_are_split_across_thread_messages(seed: Seed) -> None:
    owner = seed.technician("U111", "Ana")
    with seed.services.sessions.begin() as session:
        session.add_all(
            Client(
                workspace_id=seed.workspace_id,
                name=f"Client {n:03d} " + "y" * 180,
                match_key=f"client {n}",
                owner_id=owner,
                checkin_cadence_days=30,
                created_at=LONG_AGO,
            )
            for n in range(300)
        )

    composed = seed.digest()

    for reply in (composed.summary, *composed.details):
        rendered = build_message(reply)
        assert len(rendered["blocks"]) <= MAX_BLOCKS
        assert all(
            len(block["text"]["text"]) <= MAX_SECTION for block in rendered["blocks"] if "text" in block
        )
    shown = thread_lines(composed)
    assert sum(line.startswith("Check in with *Client ") for line in shown) == 300
    assert len(composed.details) > 1
    assert "*Clients overdue for a check-in* (continued)" in shown


def test_the_chart_covers_8_weeks_with_gaps_for_weeks_with_nothing_measured(seed: Seed) -> None:
    ana = seed.technician("U111", "Ana")
    acme = seed.client("Acme Dental", ana, created=at(6, month=10), touched=at(7, month=10))
    seed.visit(ana, acme, at(3), sent=at(3, 12))
    seed.visit(ana, acme, at(17))

    composed = seed.digest()
    png = chart.eight_weeks(composed.weeks, end_day=composed.end_day, tz=composed.tz)

    assert [week.start.date().isoformat() for week in composed.weeks] == [
        "2026-09-28",
        "2026-10-05",
        "2026-10-12",
        "2026-10-19",
        "2026-10-26",
        "2026-11-02",
        "2026-11-09",
        "2026-11-16",
    ]
    assert [week.followups.percent for week in composed.weeks] == [None] * 5 + [100, None, 0]
    # Acme existed from 1 October; touched on the 2nd, visited on 3 and 17 November.
    assert [week.checkins.percent for week in composed.weeks] == [None, 100, 100, 100, 100, 100, 100, 100]
    assert png.filename == "nudgebot-8-weeks-2026-11-23.png"
    assert png.mimetype == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png.content) > 10_000


def test_the_slot_is_the_latest_schedule_instant_and_weeks_keep_their_wall_clock_across_dst() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    nine = time(9, 0)
    # Monday 26 October 2026, 09:30 in Berlin: the day after clocks went back.
    now = datetime(2026, 10, 26, 8, 30, tzinfo=UTC)
    slot = digest.latest_slot(now, weekday=0, at=nine, tz=berlin)
    assert slot == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
    assert digest.week_before(slot, berlin) == datetime(2026, 10, 19, 7, 0, tzinfo=UTC)
    # Just before 09:00 on that Monday, the slot is the Monday before.
    assert digest.latest_slot(slot - timedelta(seconds=1), weekday=0, at=nine, tz=berlin) == datetime(
        2026, 10, 19, 7, 0, tzinfo=UTC
    )
    # A time the spring change skips (02:30 on Sunday 29 March) reads as 03:30 summer time.
    assert digest.latest_slot(
        datetime(2026, 3, 29, 12, 0, tzinfo=UTC), weekday=6, at=time(2, 30), tz=berlin
    ) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
