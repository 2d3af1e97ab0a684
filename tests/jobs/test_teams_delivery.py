"""Reminders to Teams technicians: planned and sent by the jobs through the real TeamsNotifier, against the
fake Microsoft (Entra's token endpoint and the Bot Connector on loopback)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.digest import ADVICE
from bot.nudges import SNOOZE_FOLLOWUP
from bot.services import Services
from bot.settings import Settings
from bot.visits import FOLLOWUP_SENT
from handlers.teams.notifier import TeamsNotifier
from jobs.scheduler import plan_nudges, run_once, send_nudges
from jobs.sender import Pacer, send_due
from storage.models import Conversation, Nudge, NudgeStatus, RateGate, Technician, Visit
from tests.fakes.microsoft import SERVICE_PREFIX, FakeMicrosoft
from tests.handlers.teams.cards_support import assert_valid_card
from tests.harness import FrozenClock
from tests.teams_client import (
    ANA,
    ANA_CHAT,
    APP_ID,
    APP_PASSWORD,
    BO,
    BOT,
    CHANNEL,
    MO,
    PEOPLE,
    TENANT,
    TeamsClient,
    action,
    actions,
    card_of,
    invoke_card,
    personal_chat,
    teams_settings_for,
    text_of,
)

ANA_MEMBER = PEOPLE[ANA][0]
# Ana logs her visit on Monday 23 November 2026 at 09:00 in Chicago (the clock fixture's instant); its
# follow-up is due four working hours later, at 13:00, and then each working morning until marked sent.
MONDAY_1PM = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
TUESDAY_9AM = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
# The weekly digest's slot after that week (Settings: "mon 09:00", UTC here).
NEXT_DIGEST = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
VISIT = "visit Acme Dental 1h30 replaced fuser; todo: order toner"


@contextmanager
def opened(settings: Settings) -> Iterator[TeamsNotifier]:
    """A Teams notifier for the length of a block."""
    notifier = TeamsNotifier(settings)
    try:
        yield notifier
    finally:
        notifier.close()
        # close() leaves the notifier's event loop open (test_closing_the_notifier_closes_its_event_loop);
        # closed here so an open loop never reaches the garbage collector in a later test.
        if not notifier.loop.is_closed():
            notifier.loop.close()


@pytest.fixture
def notifier(teams_settings: Settings) -> Iterator[TeamsNotifier]:
    """The real Teams notifier, on the fake Microsoft."""
    with opened(teams_settings) as notifier:
        yield notifier


def at_time(services: Services, now: datetime) -> Services:
    return replace(services, clock=lambda: now)


def tell(teams: TeamsClient, microsoft: FakeMicrosoft, text: str, *, user: str = ANA) -> dict[str, Any]:
    """Type `text` to the bot in the 1:1 chat and wait for its answer there; returns the answer's card."""
    chat = personal_chat(user)
    before = len(microsoft.sent(chat))
    response = teams.say(text, user=user)
    assert response.status_code == 200, response.text
    return teams.card_sent(chat, after=before)


def nudges(session: Session) -> list[Nudge]:
    return list(session.scalars(select(Nudge).order_by(Nudge.id)))


def gates(session: Session) -> dict[int, datetime]:
    """When each rate-limited workspace may be written to again."""
    return {gate.workspace_id: gate.blocked_until for gate in session.scalars(select(RateGate))}


def conversations(session: Session) -> list[tuple[str, str, int | None]]:
    """Every stored conversation as (id, kind, technician id), in the order stored."""
    rows = session.scalars(select(Conversation).order_by(Conversation.id))
    return [(row.conversation_id, row.kind, row.technician_id) for row in rows]


def technician(session: Session, user: str = ANA) -> Technician:
    found = session.scalars(select(Technician).where(Technician.user_id == user)).one()
    return found


def forget_chat(services: Services, conversation_id: str) -> None:
    """Delete a stored conversation, as if it had never been seen."""
    with services.sessions.begin() as writer:
        writer.execute(delete(Conversation).where(Conversation.conversation_id == conversation_id))


# -- A reminder, end to end ------------------------------------------------------------------------------


def test_a_followup_reminder_reaches_anas_chat_as_a_card_and_mark_sent_ends_it(
    teams: TeamsClient,
    microsoft: FakeMicrosoft,
    teams_services: Services,
    notifier: TeamsNotifier,
    session: Session,
    clock: FrozenClock,
) -> None:
    tell(teams, microsoft, VISIT)
    ana = technician(session)
    assert (ana.member_id, ana.display_name, ana.timezone) == (ANA_MEMBER, "Ana Tech", "America/Chicago")
    assert conversations(session) == [(ANA_CHAT, "personal", ana.id)]
    microsoft.clear()

    early = run_once(teams_services, notifier, at=MONDAY_1PM - timedelta(minutes=1))
    report = run_once(teams_services, notifier, at=MONDAY_1PM)

    assert (early.claimed, report.claimed, report.sent) == (0, 1, 1)
    [call] = microsoft.sent()
    assert (call.method, call.kind, call.prefix, call.conversation_id) == (
        "POST",
        "send",
        SERVICE_PREFIX,
        ANA_CHAT,
    )
    assert call.token in microsoft.issued_tokens
    assert call.headers["authorization"] == f"Bearer {call.token}"
    assert call.json_body["type"] == "message"
    assert call.json_body["summary"] == "Follow-up to Acme Dental not sent yet"
    card = card_of(call.json_body)
    assert_valid_card(card)
    shown = text_of(card).split("\n")
    assert shown[0] == (
        "\N{E-MAIL SYMBOL} The follow-up e-mail for your visit to Acme Dental on Mon 23 Nov (1h30) "
        "hasn't gone out yet. Here it is again:"
    )
    assert "What is left: order toner" in shown
    assert [(a["title"], a["verb"]) for a in actions(card) if a["type"] == "Action.Execute"] == [
        ("Mark sent", FOLLOWUP_SENT),
        ("Snooze until tomorrow", SNOOZE_FOLLOWUP),
    ]
    [nudge] = nudges(session)
    assert (nudge.kind, nudge.period, nudge.status, nudge.attempts, nudge.sent_at) == (
        "followup",
        "first",
        NudgeStatus.SENT,
        1,
        MONDAY_1PM,
    )
    assert (nudge.channel, nudge.message_ts) == (ANA_CHAT, call.response["id"])

    clock.now = MONDAY_1PM + timedelta(minutes=10)
    answer = invoke_card(teams.press(action(card, "Mark sent")))

    assert text_of(answer) == (
        "\N{E-MAIL SYMBOL} Follow-up to Acme Dental marked sent. Thank you: that's what clients remember."
    )
    [visit] = session.scalars(select(Visit)).all()
    assert visit.followup_sent_at == clock.now
    # The next working morning would have brought the daily reminder: nothing is planned now.
    assert plan_nudges(at_time(teams_services, TUESDAY_9AM)) == 0
    assert run_once(teams_services, notifier, at=TUESDAY_9AM).claimed == 0
    assert len(microsoft.sent()) == 1


def test_two_sender_passes_and_two_run_onces_send_a_reminder_once(
    teams: TeamsClient,
    microsoft: FakeMicrosoft,
    teams_services: Services,
    notifier: TeamsNotifier,
    session: Session,
) -> None:
    tell(teams, microsoft, VISIT)
    microsoft.clear()
    services = at_time(teams_services, MONDAY_1PM)

    assert plan_nudges(services) == 1
    first = send_nudges(services, notifier, Pacer())
    second = send_nudges(services, notifier, Pacer())
    again = [run_once(teams_services, notifier, at=MONDAY_1PM + timedelta(minutes=m)) for m in (0, 5)]

    assert (first.sent, second.claimed, again[0].claimed, again[1].claimed) == (1, 0, 0, 0)
    assert [call.conversation_id for call in microsoft.sent()] == [ANA_CHAT]
    assert [(n.period, n.status) for n in nudges(session)] == [("first", NudgeStatus.SENT)]


def test_two_senders_at_once_send_each_reminder_once(
    teams: TeamsClient,
    microsoft: FakeMicrosoft,
    teams_services: Services,
    notifier: TeamsNotifier,
    session: Session,
) -> None:
    for client in ("Acme Dental", "Beta Clinic", "Cedar Law", "Delta Print"):
        tell(teams, microsoft, f"visit {client} 1h replaced fuser")
    microsoft.clear()
    services = at_time(teams_services, MONDAY_1PM)
    assert plan_nudges(services) == 4

    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(
            pool.map(lambda owner: send_due(services, notifier, owner=owner), ["sender-a", "sender-b"])
        )

    assert sum(report.sent for report in reports) == 4
    assert sum(report.claimed for report in reports) == 4
    summaries = sorted(call.json_body["summary"] for call in microsoft.sent(ANA_CHAT))
    assert summaries == [
        f"Follow-up to {client} not sent yet"
        for client in ("Acme Dental", "Beta Clinic", "Cedar Law", "Delta Print")
    ]
    assert [n.status for n in nudges(session)] == [NudgeStatus.SENT] * 4


# -- Where it goes ----------------------------------------------------------------------------------------


def test_with_only_her_member_id_known_a_chat_is_opened_and_kept_for_the_next_reminder(
    teams: TeamsClient,
    microsoft: FakeMicrosoft,
    teams_services: Services,
    notifier: TeamsNotifier,
    session: Session,
) -> None:
    tell(teams, microsoft, VISIT)
    # The tenant's service URL is known from elsewhere: Nudgebot was added to the field team.
    added = teams.post(teams.prepare("conversation_update_team_added", user=MO))
    assert added.status_code == 200, added.text
    forget_chat(teams_services, ANA_CHAT)
    microsoft.clear()

    run_once(teams_services, notifier, at=MONDAY_1PM)

    [created] = microsoft.created()
    assert created.prefix == SERVICE_PREFIX
    assert created.token in microsoft.issued_tokens
    body = created.json_body
    assert (body["members"], body["tenantId"], body["bot"], body["isGroup"]) == (
        [{"id": ANA_MEMBER}],
        TENANT,
        {"id": BOT},
        False,
    )
    chat = created.response["id"]
    [call] = microsoft.sent()
    assert call.conversation_id == chat
    ana = technician(session)
    assert (chat, "personal", ana.id) in conversations(session)
    stored = session.scalars(select(Conversation).where(Conversation.conversation_id == chat)).one()
    assert stored.service_url == microsoft.service_url
    [nudge] = nudges(session)
    assert (nudge.status, nudge.channel, nudge.message_ts) == (NudgeStatus.SENT, chat, call.response["id"])

    # The next morning's reminder goes straight to that chat.
    run_once(teams_services, notifier, at=TUESDAY_9AM)

    assert len(microsoft.created()) == 1
    assert [call.conversation_id for call in microsoft.sent()] == [chat, chat]
    assert [(n.period, n.status, n.channel) for n in nudges(session)] == [
        ("first", NudgeStatus.SENT, chat),
        ("2026-11-24", NudgeStatus.SENT, chat),
    ]


def test_removing_the_app_forgets_anas_chat_and_with_nothing_known_her_reminder_has_no_conversation(
    teams: TeamsClient,
    microsoft: FakeMicrosoft,
    teams_services: Services,
    notifier: TeamsNotifier,
    session: Session,
) -> None:
    tell(teams, microsoft, VISIT)

    removed = teams.post(teams.prepare("installation_update_remove"))

    assert removed.status_code == 200, removed.text
    assert conversations(session) == []
    microsoft.clear()

    report = run_once(teams_services, notifier, at=MONDAY_1PM)

    # Nothing can reach her until she adds the app again: no chat, and no service URL to open one at.
    assert report.dead == 1
    assert microsoft.calls == []
    [nudge] = nudges(session)
    assert (nudge.status, nudge.last_error) == (NudgeStatus.DEAD, "no_conversation")


# -- When Teams says no --------------------------------------------------------------------------------


def test_a_429_puts_the_reminder_back_and_gates_the_workspace_until_retry_after(
    teams: TeamsClient,
    microsoft: FakeMicrosoft,
    teams_services: Services,
    notifier: TeamsNotifier,
    session: Session,
    clock: FrozenClock,
) -> None:
    tell(teams, microsoft, VISIT)
    microsoft.clear()
    microsoft.fail_next("send", 429, retry_after=30)
    until = MONDAY_1PM + timedelta(seconds=30)
    # The gate is held in real time (the test's clock), the nudge's next try as of the run's instant.
    gate_until = teams_services.clock() + timedelta(seconds=30)

    refused = run_once(teams_services, notifier, at=MONDAY_1PM)

    assert (refused.claimed, refused.sent, refused.retried, refused.rate_limited) == (1, 0, 1, True)
    [nudge] = nudges(session)
    assert (nudge.status, nudge.attempts, nudge.last_error, nudge.next_attempt_at) == (
        NudgeStatus.PENDING,
        0,
        "ratelimited",
        until,
    )
    assert gates(session) == {nudge.workspace_id: gate_until}
    # Neither the Teams SDK nor the sender tried again on its own.
    assert [call.status for call in microsoft.of_kind("send")] == [429]

    waiting = run_once(teams_services, notifier, at=until - timedelta(seconds=1))
    clock.advance(seconds=30)
    after = run_once(teams_services, notifier, at=until)

    assert (waiting.claimed, after.sent) == (0, 1)
    assert [call.status for call in microsoft.of_kind("send")] == [429, 201]
    [nudge] = nudges(session)
    assert (nudge.status, nudge.attempts, nudge.sent_at) == (NudgeStatus.SENT, 1, until)
    assert gates(session) == {}


def test_a_5xx_is_tried_again_later_with_a_growing_back_off(
    teams: TeamsClient,
    microsoft: FakeMicrosoft,
    teams_services: Services,
    notifier: TeamsNotifier,
    session: Session,
) -> None:
    tell(teams, microsoft, VISIT)
    microsoft.clear()
    microsoft.fail_next("send", 503)
    microsoft.fail_next("send", 502)

    first = run_once(teams_services, notifier, at=MONDAY_1PM)
    [nudge] = nudges(session)
    after_first = (nudge.status, nudge.attempts, nudge.last_error, nudge.next_attempt_at)
    second = run_once(teams_services, notifier, at=MONDAY_1PM + timedelta(seconds=30))
    [nudge] = nudges(session)
    after_second = (nudge.status, nudge.attempts, nudge.last_error, nudge.next_attempt_at)
    early = run_once(teams_services, notifier, at=MONDAY_1PM + timedelta(seconds=89))
    third = run_once(teams_services, notifier, at=MONDAY_1PM + timedelta(seconds=90))

    assert (first.retried, second.retried, early.claimed, third.sent) == (1, 1, 0, 1)
    assert after_first == (NudgeStatus.PENDING, 1, "http_503", MONDAY_1PM + timedelta(seconds=30))
    assert after_second == (NudgeStatus.PENDING, 2, "http_502", MONDAY_1PM + timedelta(seconds=90))
    assert [call.status for call in microsoft.of_kind("send")] == [503, 502, 201]
    [nudge] = nudges(session)
    assert (nudge.status, nudge.attempts) == (NudgeStatus.SENT, 3)
    assert gates(session) == {}


@pytest.mark.parametrize(("status", "reason"), [(403, "blocked"), (404, "conversation_not_found")])
def test_a_refusal_no_retry_can_fix_marks_the_reminder_dead_with_why(
    teams: TeamsClient,
    microsoft: FakeMicrosoft,
    teams_services: Services,
    notifier: TeamsNotifier,
    session: Session,
    status: int,
    reason: str,
) -> None:
    tell(teams, microsoft, VISIT)
    microsoft.clear()
    microsoft.fail_next("send", status)

    report = run_once(teams_services, notifier, at=MONDAY_1PM)
    later = run_once(teams_services, notifier, at=MONDAY_1PM + timedelta(hours=1))

    assert (report.dead, later.claimed) == (1, 0)
    assert [call.status for call in microsoft.of_kind("send")] == [status]
    [nudge] = nudges(session)
    assert (nudge.status, nudge.attempts, nudge.last_error, nudge.sent_at) == (
        NudgeStatus.DEAD,
        1,
        reason,
        None,
    )


def test_a_chat_at_a_service_url_that_is_not_microsofts_is_never_called(
    teams: TeamsClient,
    microsoft: FakeMicrosoft,
    teams_services: Services,
    notifier: TeamsNotifier,
    session: Session,
) -> None:
    tell(teams, microsoft, VISIT)
    # A second fake Bot Connector on another loopback address, which TEAMS_CONNECTOR_HOSTS does not name.
    with FakeMicrosoft(
        app_id=APP_ID, tenant_id=TENANT, client_secret=APP_PASSWORD, host="127.0.0.2"
    ) as elsewhere:
        with teams_services.sessions.begin() as writer:
            writer.execute(
                update(Conversation)
                .where(Conversation.conversation_id == ANA_CHAT)
                .values(service_url=elsewhere.service_url)
            )
        microsoft.clear()

        report = run_once(teams_services, notifier, at=MONDAY_1PM)

        assert elsewhere.calls == []
    assert report.dead == 1
    # Not even a token was asked for.
    assert microsoft.calls == []
    [nudge] = nudges(session)
    assert (nudge.status, nudge.last_error) == (NudgeStatus.DEAD, "service_url_not_allowed")


def test_the_digest_lists_the_reminders_that_could_not_be_delivered_with_what_to_do(
    teams: TeamsClient,
    microsoft: FakeMicrosoft,
    teams_services: Services,
    notifier: TeamsNotifier,
    session: Session,
) -> None:
    tell(teams, microsoft, VISIT)
    tell(teams, microsoft, "visit Beta Clinic 45m reset router")
    tell(teams, microsoft, "visit Cedar Law 1h new printer", user=BO)
    digest_here = teams.prepare("channel_message_mention", user=MO, text="digest here")
    assert teams.post(digest_here).status_code == 200
    teams.card_sent(digest_here["conversation"]["id"])
    with teams_services.sessions.begin() as writer:
        writer.execute(
            update(Conversation)
            .where(Conversation.conversation_id == personal_chat(BO))
            .values(service_url="http://127.0.0.2:9/x/")
        )
    microsoft.clear()
    microsoft.fail_next("send", 403)
    microsoft.fail_next("send", 404)

    # Tuesday 09:00 in Chicago is 16:00 in Berlin: everyone's follow-up is due.
    report = run_once(teams_services, notifier, at=TUESDAY_9AM)

    assert (report.claimed, report.dead) == (3, 3)
    assert sorted(n.last_error or "" for n in nudges(session)) == [
        "blocked",
        "conversation_not_found",
        "service_url_not_allowed",
    ]

    run_once(teams_services, notifier, at=NEXT_DIGEST + timedelta(minutes=3))

    details = [
        text_of(card_of(call.json_body))
        for call in microsoft.sent()
        if call.conversation_id is not None and call.conversation_id.startswith(f"{CHANNEL};messageid=")
    ]
    lines = "\n".join(details).split("\n")
    assert "Reminders that could not be delivered" in lines
    shown = lines[lines.index("Reminders that could not be delivered") + 1 :][:3]
    assert shown == [
        f"Ana Tech: 1 reminder not delivered (blocked: {ADVICE['blocked']}).",
        f"Ana Tech: 1 reminder not delivered (conversation_not_found: {ADVICE['conversation_not_found']}).",
        f"Bo Berg: 1 reminder not delivered (service_url_not_allowed: {ADVICE['service_url_not_allowed']}).",
    ]


# -- The bot's token -------------------------------------------------------------------------------------


def test_the_token_is_fetched_once_and_used_for_every_send(
    teams: TeamsClient,
    microsoft: FakeMicrosoft,
    teams_services: Services,
    notifier: TeamsNotifier,
) -> None:
    for client in ("Acme Dental", "Beta Clinic", "Cedar Law"):
        tell(teams, microsoft, f"visit {client} 1h replaced fuser")
    microsoft.clear()

    run_once(teams_services, notifier, at=MONDAY_1PM)
    run_once(teams_services, notifier, at=TUESDAY_9AM)

    sent = microsoft.sent(ANA_CHAT)
    assert len(sent) == 6
    assert microsoft.token_requests == 1
    [token] = microsoft.of_kind("token")
    assert {call.token for call in sent} == {token.response["access_token"]}


def test_a_wrong_client_secret_is_a_temporary_failure_tried_again_later(
    teams: TeamsClient,
    microsoft: FakeMicrosoft,
    teams_services: Services,
    notifier: TeamsNotifier,
    database_url: str,
    session: Session,
) -> None:
    tell(teams, microsoft, VISIT)
    microsoft.clear()
    wrong = teams_settings_for(database_url, microsoft, teams_app_password="not-the-client-secret")

    with opened(wrong) as refused:
        first = run_once(teams_services, refused, at=MONDAY_1PM)
        [nudge] = nudges(session)
        after_first = (nudge.status, nudge.attempts, nudge.last_error, nudge.next_attempt_at)
        second = run_once(teams_services, refused, at=MONDAY_1PM + timedelta(seconds=30))

    assert (first.retried, first.dead, second.retried, second.dead) == (1, 0, 1, 0)
    assert after_first == (NudgeStatus.PENDING, 1, "token_unavailable", MONDAY_1PM + timedelta(seconds=30))
    # Each try asked Entra again (a refusal is not kept), and nothing reached the Bot Connector.
    assert [call.status for call in microsoft.calls] == [401, 401]
    [nudge] = nudges(session)
    assert (nudge.status, nudge.attempts, nudge.last_error) == (NudgeStatus.PENDING, 2, "token_unavailable")

    # Once the secret is right, it goes out.
    run_once(teams_services, notifier, at=MONDAY_1PM + timedelta(seconds=90))

    assert [call.conversation_id for call in microsoft.sent()] == [ANA_CHAT]
    [nudge] = nudges(session)
    assert (nudge.status, nudge.attempts) == (NudgeStatus.SENT, 3)


def test_a_token_the_bot_connector_refuses_is_dropped_and_a_fresh_one_fetched_for_the_next_try(
    teams: TeamsClient,
    microsoft: FakeMicrosoft,
    teams_services: Services,
    notifier: TeamsNotifier,
    session: Session,
) -> None:
    tell(teams, microsoft, VISIT)
    microsoft.clear()
    microsoft.fail_next("send", 401)

    refused = run_once(teams_services, notifier, at=MONDAY_1PM)
    [nudge] = nudges(session)
    after_refusal = (nudge.status, nudge.attempts, nudge.last_error, nudge.next_attempt_at)
    run_once(teams_services, notifier, at=MONDAY_1PM + timedelta(seconds=30))

    assert (refused.retried, refused.dead) == (1, 0)
    assert after_refusal == (NudgeStatus.PENDING, 1, "http_401", MONDAY_1PM + timedelta(seconds=30))
    first, second = (call.response["access_token"] for call in microsoft.of_kind("token"))
    assert [(call.status, call.token) for call in microsoft.of_kind("send")] == [(401, first), (201, second)]
    [nudge] = nudges(session)
    assert (nudge.status, nudge.attempts) == (NudgeStatus.SENT, 2)


def test_closing_the_notifier_closes_its_event_loop(teams_settings: Settings) -> None:
    notifier = TeamsNotifier(teams_settings)
    notifier.close()
    closed = notifier.loop.is_closed()
    if not closed:
        # Closed here rather than left to the garbage collector, which would warn in some later test.
        notifier.loop.close()

    assert closed, "TeamsNotifier.close() stopped its event loop but left it (and its sockets) open"
