"""Pacing within Teams' rate limits: each window with a hand-moved clock, then reminders against the fake."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services import Services
from bot.settings import Settings
from handlers.teams.notifier import TeamsNotifier
from handlers.teams.pacing import MARGIN_S, Pacing
from jobs.scheduler import run_once
from storage.models import Client, Conversation, Nudge, NudgeStatus, Technician, Visit, Workspace
from tests.fakes.microsoft import FakeMicrosoft
from tests.teams_client import ANA, ANA_CHAT, APP_ID, APP_PASSWORD, TENANT

START = 1000.0


class HandClock:
    """A monotonic clock that moves only when the test moves it."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def hand() -> HandClock:
    return HandClock()


@pytest.fixture
def pacing(hand: HandClock) -> Pacing:
    """Teams' windows exactly, without the margin kept for the trip to Teams (tested on its own)."""
    return Pacing(clock=hand, margin_s=0.0)


def waits(pacing: Pacing, count: int, conversation: str = "a:chat", tenant: str = "T111") -> list[float]:
    """How long each of `count` messages, all asked for at this instant, is told to wait."""
    return [pacing.reserve(conversation, tenant) for _ in range(count)]


def one_after_another(
    pacing: Pacing, hand: HandClock, count: int, conversation: str = "a:chat"
) -> list[float]:
    """When each of `count` messages goes (seconds from the start) when a sender waits as told before the
    next one."""
    times = []
    for _ in range(count):
        hand.now += pacing.reserve(conversation, "T111")
        times.append(hand.now - START)
    return times


def busiest(times: list[float], window: float) -> int:
    """The most messages that go within any `window` seconds (a message exactly `window` later is out)."""
    ordered = sorted(times)
    return max(bisect.bisect_left(ordered, at + window) - index for index, at in enumerate(ordered))


def test_seven_messages_go_at_once_and_the_eighth_waits_until_the_first_second_is_over(
    pacing: Pacing,
) -> None:
    assert waits(pacing, 8) == [0.0] * 7 + [1.0]


def test_the_ninth_waits_for_the_two_second_window(pacing: Pacing) -> None:
    assert waits(pacing, 10) == [0.0] * 7 + [1.0, 2.0, 2.0]


def test_a_sender_waiting_its_turn_goes_eight_every_two_seconds_and_sixty_every_thirty(
    pacing: Pacing, hand: HandClock
) -> None:
    times = one_after_another(pacing, hand, 70)

    assert times[:17] == [0.0] * 7 + [1.0] + [2.0] * 7 + [3.0, 4.0]
    # The 60th went at 14 s; the 61st waits for the first seven to leave the 30-second window.
    assert times[59:70] == [14.0] + [30.0] * 7 + [31.0, 32.0, 32.0]
    assert (busiest(times, 1), busiest(times, 2), busiest(times, 30)) == (7, 8, 60)


def test_the_1801st_message_in_an_hour_waits_for_the_hour_to_pass(pacing: Pacing, hand: HandClock) -> None:
    times = one_after_another(pacing, hand, 1801)

    assert times[1799] < 3600.0
    assert times[1800] == 3600.0
    assert busiest(times, 3600) == 1800


def test_different_conversations_do_not_wait_for_each_other(pacing: Pacing) -> None:
    assert waits(pacing, 7, "a:ana-chat") == [0.0] * 7
    assert waits(pacing, 1, "a:bo-chat") == [0.0]
    assert waits(pacing, 1, "a:ana-chat") == [1.0]
    assert waits(pacing, 1, "a:mo-chat") == [0.0]


def test_messages_to_one_conversation_keep_their_order(pacing: Pacing, hand: HandClock) -> None:
    slots = [START + wait for wait in waits(pacing, 9)]
    # Half a second later a tenth is asked for (by another sender): it goes with the ninth, never before.
    hand.now += 0.5
    slots.append(hand.now + pacing.reserve("a:chat", "T111"))

    assert [slot - START for slot in slots] == [0.0] * 7 + [1.0, 2.0, 2.0]
    assert slots == sorted(slots)


def test_the_tenant_bucket_spaces_a_sender_going_through_many_conversations_at_forty_a_second(
    pacing: Pacing, hand: HandClock
) -> None:
    times = []
    for number in range(100):
        hand.now += pacing.reserve(f"a:chat-{number}", "T111")
        times.append(hand.now - START)

    # Ten go at once (the burst), then one every 1/40 s: never more than Teams' 50 a second.
    assert times == pytest.approx([0.0] * 10 + [n / 40 for n in range(1, 91)])
    assert busiest(times, 1.0) <= 50


def test_the_tenant_bucket_spaces_a_burst_asked_for_at_once_at_forty_a_second(pacing: Pacing) -> None:
    # 200 technicians reminded at the same moment, each in their own chat, by concurrent senders
    # sharing one Pacing (its reservations are made under a lock for that).
    told = [pacing.reserve(f"a:chat-{number}", "T111") for number in range(200)]

    assert told == pytest.approx([0.0] * 10 + [n / 40 for n in range(1, 191)])
    assert busiest(told, 1.0) <= 50


def test_tenants_have_buckets_of_their_own(pacing: Pacing) -> None:
    for number in range(10):
        pacing.reserve(f"a:chat-{number}", "T111")

    assert pacing.reserve("a:other-tenant-chat", "T222") == 0.0
    assert pacing.reserve("a:chat-10", "T111") == pytest.approx(1 / 40)


def test_conversations_idle_for_an_hour_are_forgotten(pacing: Pacing, hand: HandClock) -> None:
    for number in range(1001):
        pacing.reserve(f"a:chat-{number}", "T111")
    # The tenant's pace spreads those 1,001 messages over 25 s; an hour after the last of them:
    hand.now += 3600 + 26

    assert pacing.reserve("a:new-chat", "T111") == 0.0
    # What the pacing keeps per conversation, checked directly: forgetting is all it is for.
    assert list(pacing._sent) == ["a:new-chat"]


# -- End to end: reminders through the Teams notifier, against a fake that answers 429 as Teams does ----


@pytest.fixture
def microsoft() -> Iterator[FakeMicrosoft]:
    """The fake Microsoft, refusing with 429 whatever breaks Teams' limits for one conversation."""
    with FakeMicrosoft(
        app_id=APP_ID, tenant_id=TENANT, client_secret=APP_PASSWORD, enforce_limits=True
    ) as fake:
        yield fake


REMINDERS = 20
# Ana's visits are on Monday 23 November 2026 at 09:00 in Chicago; their follow-ups are due at 13:00.
MONDAY_9AM = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
MONDAY_1PM = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)


def add_ana(services: Services, service_url: str, count: int, now: datetime) -> None:
    """Ana in her 1:1 chat with the bot, with visits to `count` clients whose follow-up e-mails are not
    marked sent.

    Written straight to the database: an answer from the bot in the same chat moments before would count
    against the same limits, and this test is about the notifier's own pacing.
    """
    with services.sessions.begin() as writer:
        workspace = Workspace(platform="teams", external_id=TENANT, created_at=now)
        writer.add(workspace)
        writer.flush()
        ana = Technician(
            workspace_id=workspace.id,
            user_id=ANA,
            member_id="29:1ana-member-id",
            display_name="Ana Tech",
            timezone="America/Chicago",
            created_at=now,
        )
        writer.add(ana)
        writer.flush()
        writer.add(
            Conversation(
                workspace_id=workspace.id,
                conversation_id=ANA_CHAT,
                kind="personal",
                service_url=service_url,
                technician_id=ana.id,
                updated_at=now,
            )
        )
        for number in range(count):
            client = Client(
                workspace_id=workspace.id,
                name=f"Client {number:02d}",
                match_key=f"client {number:02d}",
                owner_id=ana.id,
                created_at=now,
                last_touch_at=now,
            )
            writer.add(
                Visit(
                    workspace_id=workspace.id,
                    client=client,
                    technician_id=ana.id,
                    visited_at=now,
                    minutes=30,
                    work_done="checked backups",
                    created_at=now,
                )
            )


def test_twenty_reminders_to_one_chat_go_out_without_a_single_429(
    microsoft: FakeMicrosoft, teams_services: Services, teams_settings: Settings, session: Session
) -> None:
    add_ana(teams_services, microsoft.service_url, REMINDERS, MONDAY_9AM)
    notifier = TeamsNotifier(teams_settings)
    try:
        report = run_once(teams_services, notifier, at=MONDAY_1PM)
    finally:
        notifier.close()
        # TeamsNotifier.close() leaves its event loop open (tests/jobs/test_teams_delivery.py shows it).
        if not notifier.loop.is_closed():
            notifier.loop.close()

    tried = microsoft.of_kind("send")
    arrivals = [(round(call.received_at - tried[0].received_at, 3), call.status) for call in tried]
    assert microsoft.throttled == 0, f"Teams would have refused some (arrival in s, status): {arrivals}"
    assert (report.sent, report.rate_limited) == (REMINDERS, False)
    sent = microsoft.sent(ANA_CHAT)
    assert len(sent) == REMINDERS
    assert busiest([call.received_at for call in sent], 1.0) <= 7
    assert busiest([call.received_at for call in sent], 2.0) <= 8
    assert [nudge.status for nudge in session.scalars(select(Nudge))] == [NudgeStatus.SENT] * REMINDERS


def test_each_window_is_kept_with_a_margin_for_the_trip_to_teams(hand: HandClock) -> None:
    pacing = Pacing(clock=hand)

    assert waits(pacing, 8)[-1] == pytest.approx(1.0 + MARGIN_S)
