"""The managers' digest on Teams: the channel chosen from chat, the weekly post with its thread and chart,
the digest on demand, and what the bot forgets when it is removed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import digest
from bot.notify import Address, Delivered, Notifiers
from bot.replies import Attachment, Reply
from bot.services import Services
from bot.settings import Settings
from handlers.slack.notifier import SlackNotifier
from handlers.slack.standin import SlackStandIn
from handlers.teams.cards import MAX_MESSAGE_BYTES, message_size
from handlers.teams.notifier import TeamsNotifier
from jobs.digest import plan_digests
from jobs.scheduler import plan_nudges, run_once, send_nudges
from jobs.sender import Pacer
from storage.models import (
    Client,
    Conversation,
    Nudge,
    NudgeStatus,
    Promise,
    Technician,
    Touch,
    TouchKind,
    Visit,
    Workspace,
)
from tests.fakes.microsoft import FakeMicrosoft, RecordedCall
from tests.handlers.teams.cards_support import assert_valid_card, of_type
from tests.harness import BOT_TOKEN, SIGNING_SECRET, FrozenClock
from tests.jobs.test_teams_delivery import NEXT_DIGEST, at_time, opened, tell
from tests.teams_client import (
    ANA,
    BO,
    BOT,
    CHANNEL,
    MO,
    TEAM,
    TeamsClient,
    action,
    card_of,
    personal_chat,
    teams_settings_for,
    text_of,
)

CHICAGO_OFFSET = timedelta(hours=6)
DIGEST_RUN = NEXT_DIGEST + timedelta(minutes=3)
SLACK_CHANNEL = "C0DIGEST"
LONG_AGO = datetime(2026, 6, 1, tzinfo=UTC)
PNG = "data:image/png;base64,"
DOT = " \N{MIDDLE DOT} "


@pytest.fixture
def notifier(teams_settings: Settings) -> Iterator[TeamsNotifier]:
    """The real Teams notifier, on the fake Microsoft."""
    with opened(teams_settings) as notifier:
        yield notifier


def chicago(day: int, hour: int) -> datetime:
    """A wall-clock hour in Chicago in November 2026 (UTC-6), as a UTC instant."""
    return datetime(2026, 11, day, hour, tzinfo=UTC) + CHICAGO_OFFSET


def in_channel(teams: TeamsClient, text: str, *, user: str = MO) -> str:
    """@mention the bot with `text` in the managers' channel; returns the conversation id of the thread the
    message started, where the bot answers."""
    body = teams.prepare("channel_message_mention", user=user, text=text)
    response = teams.post(body)
    assert response.status_code == 200, response.text
    thread: str = body["conversation"]["id"]
    return thread


def choose_channel(teams: TeamsClient) -> dict[str, Any]:
    """Mo makes the managers' channel the digest's; returns the bot's answer there."""
    return teams.card_sent(in_channel(teams, "digest here"))


def team_removed(teams: TeamsClient) -> dict[str, Any]:
    """The conversationUpdate Teams sends when Nudgebot is removed from the field team (the fixture of it
    being added, turned around)."""
    body = teams.prepare("conversation_update_team_added", user=MO)
    del body["membersAdded"]
    body["membersRemoved"] = [{"id": BOT}]
    body["channelData"]["eventType"] = "teamMemberRemoved"
    return body


def workspace(session: Session) -> Workspace:
    found = session.scalars(select(Workspace).where(Workspace.platform == "teams")).one()
    return found


def digests(session: Session) -> list[Nudge]:
    return list(session.scalars(select(Nudge).where(Nudge.kind == digest.KIND).order_by(Nudge.id)))


def conversations(session: Session) -> list[tuple[str, str, str | None]]:
    """Every stored conversation as (id, kind, team), in the order stored."""
    rows = session.scalars(select(Conversation).order_by(Conversation.id))
    return [(row.conversation_id, row.kind, row.team_id) for row in rows]


async def no_wait(_: float) -> None:
    """Stands in for asyncio.sleep where waiting for pacing is beside the point."""


def assert_within_teams_limit(calls: list[RecordedCall]) -> None:
    for call in calls:
        assert message_size(call.json_body) <= MAX_MESSAGE_BYTES, call.describe()


def seed_week(teams: TeamsClient, microsoft: FakeMicrosoft, clock: FrozenClock) -> None:
    """A week of work typed to the bot: Ana's two visits (one follow-up marked sent in time) and a
    promise she does not keep; Bo's visit, followed up the same day."""
    clock.now = chicago(23, 9)
    logged = tell(teams, microsoft, "visit Acme Dental 1h30 replaced fuser")
    clock.now = chicago(23, 11)
    assert teams.press(action(logged, "Mark follow-up sent")).status_code == 200
    clock.now = chicago(24, 10)
    tell(teams, microsoft, "visit Beta Clinic 45m reset router")
    tell(teams, microsoft, "promise Acme Dental send the revised quote by Thursday")
    clock.now = chicago(25, 8)
    logged = tell(teams, microsoft, "visit Cedar Law 1h new printer", user=BO)
    assert teams.press(action(logged, "Mark follow-up sent"), user=BO).status_code == 200


# -- Choosing the channel --------------------------------------------------------------------------------


def test_a_manager_makes_the_channel_the_digests_with_digest_here_and_is_answered_in_its_thread(
    teams: TeamsClient, microsoft: FakeMicrosoft, session: Session
) -> None:
    thread = in_channel(teams, "digest here")

    answer = teams.card_sent(thread)

    assert thread == f"{CHANNEL};messageid=1763902860000"
    assert_valid_card(answer)
    assert text_of(answer).split("\n") == [
        "\N{WHITE HEAVY CHECK MARK} The team digest will be posted in this channel every week, with the "
        "details in its thread and the chart of the last 8 weeks.",
        "Managers can also ask for it any time in a chat with me: /visit digest.",
    ]
    assert workspace(session).digest_channel == CHANNEL
    assert (CHANNEL, "channel", TEAM) in conversations(session)
    # Only in the thread: nothing went to the top of the channel.
    assert microsoft.sent(CHANNEL) == []


def test_a_technician_who_is_not_a_manager_cannot_choose_it(
    teams: TeamsClient, microsoft: FakeMicrosoft, session: Session
) -> None:
    tell(teams, microsoft, "visit Acme Dental 1h30 replaced fuser")

    answer = teams.card_sent(in_channel(teams, "digest here", user=ANA))

    assert text_of(answer).split("\n") == [
        "\N{WARNING SIGN}\N{VARIATION SELECTOR-16} Only managers can choose where the team digest goes: "
        "whoever runs Nudgebot lists them in the MANAGER_IDS setting, and can add you like this.",
        "For example:",
        f"MANAGER_IDS={ANA}",
    ]
    assert workspace(session).digest_channel is None


# -- The weekly digest -----------------------------------------------------------------------------------


def test_the_weekly_digest_is_posted_in_the_channel_with_the_details_and_chart_in_its_thread_once(
    teams: TeamsClient,
    microsoft: FakeMicrosoft,
    teams_services: Services,
    notifier: TeamsNotifier,
    session: Session,
    clock: FrozenClock,
) -> None:
    seed_week(teams, microsoft, clock)
    choose_channel(teams)
    microsoft.clear()

    before = run_once(teams_services, notifier, at=NEXT_DIGEST - timedelta(minutes=1))
    report = run_once(teams_services, notifier, at=DIGEST_RUN)

    assert (before.claimed, report.sent) == (0, 1)
    summary, *replies = microsoft.sent()
    assert summary.conversation_id == CHANNEL
    thread = f"{CHANNEL};messageid={summary.response['id']}"
    assert [call.conversation_id for call in replies] == [thread] * len(replies)
    *details, chart = replies
    assert len(details) == 1
    assert_within_teams_limit(microsoft.sent())

    summary_card = card_of(summary.json_body)
    assert_valid_card(summary_card)
    assert text_of(summary_card).split("\n") == [
        "Team digest \N{MIDDLE DOT} Mon 23 Nov \N{EN DASH} Mon 30 Nov",
        "This week: 3 visits, 3h15 on site, by 2 technicians.",
        "Follow-ups sent on time: 67% (2 of 3)",
        "Promises kept on time: 0% (0 of 1)",
        "Clients checked in on time: 100% (3 of 3)",
        "What went well",
        "\N{BULLET} A perfect week for Bo Berg: every follow-up and promise on time, nothing overdue.",
        "\N{BULLET} The team's best figure: 100% of clients checked in on time.",
        "Needs attention",
        "\N{BULLET} 1 follow-up e-mail not sent",
        "\N{BULLET} 1 promise broken",
        "What to do about each is in the thread.",
        "In the thread: each technician's figures, what to do about each gap, and the chart of the last 8 "
        "weeks.",
    ]
    detail_card = card_of(details[0].json_body)
    assert_valid_card(detail_card)
    assert text_of(detail_card).split("\n") == [
        "Each technician this week",
        DOT.join(
            [
                "Ana Tech: 2 visits, 2h15",
                "follow-ups on time 1 of 2 (50%)",
                "promises kept on time 0 of 1 (0%)",
                "2 overdue (1 follow-up, 1 promise)",
            ]
        ),
        DOT.join(
            [
                "\N{PARTY POPPER} Bo Berg: 1 visit, 1h",
                "follow-ups on time 1 of 1 (100%)",
                "promises kept on time (none due)",
                "nothing overdue",
            ]
        ),
        "Follow-up e-mails not sent",
        "Send the summary e-mail for the visit to Beta Clinic on Tue 24 Nov (Ana Tech).",
        "Promises broken",
        "Acme Dental: \N{LEFT DOUBLE QUOTATION MARK}send the revised quote\N{RIGHT DOUBLE QUOTATION MARK} "
        "(Ana Tech) was due Fri 27 Nov, 5:59am and is still open: keep it today, or agree a new date with "
        "the client and move it.",
    ]
    chart_card = card_of(chart.json_body)
    assert_valid_card(chart_card)
    [image] = of_type(chart_card, "Image")
    assert image["url"].startswith(PNG)
    assert len(image["url"]) > 10_000

    [row] = digests(session)
    assert (row.period, row.status, row.channel, row.message_ts, row.parts_sent) == (
        "2026-11-30",
        NudgeStatus.SENT,
        CHANNEL,
        summary.response["id"],
        3,
    )

    again = run_once(teams_services, notifier, at=DIGEST_RUN + timedelta(minutes=5))

    assert again.claimed == 0
    assert len(microsoft.sent()) == 3


class RefusedAfterSummary:
    """The real notifier, except that once the digest's summary is posted, Teams answers the next post with
    429 (Retry-After 30 s)."""

    def __init__(self, inner: TeamsNotifier, microsoft: FakeMicrosoft) -> None:
        self.inner = inner
        self.microsoft = microsoft
        self.refused = False

    def send(self, *, recipient: Address, reply: Reply, key: str) -> Delivered:
        return self.inner.send(recipient=recipient, reply=reply, key=key)

    def post(self, *, channel: Address, reply: Reply, key: str, thread: str | None = None) -> Delivered:
        delivered = self.inner.post(channel=channel, reply=reply, key=key, thread=thread)
        if thread is None and not self.refused:
            self.microsoft.fail_next("send", 429, retry_after=30)
            self.refused = True
        return delivered

    def upload(self, *, channel: Address, file: Attachment, thread: str | None = None) -> None:
        self.inner.upload(channel=channel, file=file, thread=thread)


def test_a_digest_refused_after_its_summary_resumes_in_the_same_thread(
    teams: TeamsClient,
    microsoft: FakeMicrosoft,
    teams_services: Services,
    notifier: TeamsNotifier,
    session: Session,
    clock: FrozenClock,
) -> None:
    seed_week(teams, microsoft, clock)
    choose_channel(teams)
    microsoft.clear()

    first = run_once(teams_services, RefusedAfterSummary(notifier, microsoft), at=DIGEST_RUN)
    [row] = digests(session)
    after_refusal = (row.status, row.parts_sent, row.attempts, row.last_error, row.next_attempt_at)
    waiting = run_once(teams_services, notifier, at=DIGEST_RUN + timedelta(seconds=29))
    # The workspace's gate is real time: it lifts when 30 seconds have really passed.
    clock.advance(seconds=30)
    resumed = run_once(teams_services, notifier, at=DIGEST_RUN + timedelta(seconds=30))

    assert (first.rate_limited, waiting.claimed, resumed.sent) == (True, 0, 1)
    summary = microsoft.sent(CHANNEL)
    assert len(summary) == 1
    assert after_refusal == (
        NudgeStatus.PENDING,
        1,
        0,
        "ratelimited",
        DIGEST_RUN + timedelta(seconds=30),
    )
    thread = f"{CHANNEL};messageid={summary[0].response['id']}"
    assert [(call.conversation_id, call.status) for call in microsoft.of_kind("send")] == [
        (CHANNEL, 201),
        (thread, 429),
        (thread, 201),
        (thread, 201),
    ]
    [row] = digests(session)
    assert (row.status, row.parts_sent, row.message_ts) == (NudgeStatus.SENT, 3, summary[0].response["id"])


def test_a_digest_planned_before_the_bot_left_the_team_is_not_blamed_on_the_service_url(
    teams: TeamsClient,
    microsoft: FakeMicrosoft,
    teams_services: Services,
    notifier: TeamsNotifier,
    session: Session,
) -> None:
    choose_channel(teams)
    plan_nudges(at_time(teams_services, DIGEST_RUN))
    assert teams.post(team_removed(teams)).status_code == 200
    microsoft.clear()

    report = send_nudges(at_time(teams_services, DIGEST_RUN), notifier, Pacer())

    assert (report.claimed, report.dead) == (1, 1)
    assert microsoft.calls == []
    [row] = digests(session)
    assert row.status == NudgeStatus.DEAD
    # Either reason tells the operator what to do (add Nudgebot to the team, type digest here again);
    # "service_url_not_allowed" sends them to TEAMS_CONNECTOR_HOSTS, which has nothing to do with it.
    assert row.last_error in ("bot_not_in_team", "no_channel")


def test_a_large_digest_keeps_every_message_within_teams_limit_without_clipping(
    teams: TeamsClient,
    microsoft: FakeMicrosoft,
    teams_services: Services,
    notifier: TeamsNotifier,
    session: Session,
) -> None:
    choose_channel(teams)
    workspace_id = workspace(session).id
    visited = datetime(2026, 11, 24, 10, tzinfo=UTC)
    with teams_services.sessions.begin() as writer:
        technicians = []
        for number in range(60):
            technician = Technician(
                workspace_id=workspace_id,
                user_id=f"00000000-0000-4000-8000-{number:012d}",
                display_name=f"Technician {number:02d} " + "&" * 40,
                created_at=visited,
            )
            writer.add(technician)
            technicians.append(technician)
        writer.flush()
        for number in range(300):
            owner = technicians[number % 60]
            client = Client(
                workspace_id=workspace_id,
                name=f"Client <{number:03d}> " + "x" * 150,
                match_key=f"client {number}",
                owner_id=owner.id,
                created_at=visited,
            )
            writer.add(client)
            writer.flush()
            visit = Visit(
                workspace_id=workspace_id,
                client_id=client.id,
                technician_id=owner.id,
                visited_at=visited,
                minutes=30,
                work_done="checked backups",
                created_at=visited,
            )
            writer.add_all(
                [
                    visit,
                    Touch(
                        workspace_id=workspace_id,
                        client_id=client.id,
                        technician_id=owner.id,
                        kind=TouchKind.VISIT,
                        visit=visit,
                        touched_at=visited,
                    ),
                    Promise(
                        workspace_id=workspace_id,
                        client_id=client.id,
                        technician_id=owner.id,
                        text="a very long promise " * 40,
                        due_at=visited + timedelta(days=1),
                        created_at=visited,
                    ),
                ]
            )
    microsoft.clear()
    services = at_time(teams_services, DIGEST_RUN)
    # Only the digest is planned: these technicians' own reminders are not what this test is about.
    with services.sessions.begin() as writer:
        assert plan_digests(writer, now=DIGEST_RUN, settings=services.settings) == 1

    # About 30 messages in one thread would take Teams' pacing some 7 s; pacing has tests of its own, and
    # this one is about sizes, so neither pacer waits here.
    notifier.messenger.sleep = no_wait
    send_nudges(services, notifier, Pacer(sleep=lambda _: None))

    posted = microsoft.sent()
    assert len(posted) >= 4
    assert_within_teams_limit(posted)
    lines = [line for call in posted for line in text_of(card_of(call.json_body)).split("\n")]
    # Every line arrived whole, none cut to make a card fit.
    assert not any(line.endswith("more than fits here.") for line in lines)
    assert sum(line.startswith("Send the summary e-mail for the visit to Client <") for line in lines) == 300
    assert sum(line.startswith("Client <") for line in lines) == 300
    assert sum(line.startswith("Technician ") for line in lines) == 60
    [row] = digests(session)
    assert (row.status, row.parts_sent) == (NudgeStatus.SENT, len(posted))


def test_a_teams_workspace_plans_a_weekly_digest_only_once_a_channel_is_chosen(
    teams: TeamsClient, microsoft: FakeMicrosoft, teams_services: Services, session: Session
) -> None:
    tell(teams, microsoft, "visit Acme Dental 1h30 replaced fuser")

    plan_nudges(at_time(teams_services, DIGEST_RUN))
    assert digests(session) == []

    choose_channel(teams)
    plan_nudges(at_time(teams_services, DIGEST_RUN))

    [row] = digests(session)
    assert (row.period, row.channel, row.status) == ("2026-11-30", CHANNEL, NudgeStatus.PENDING)


def test_slack_and_teams_workspaces_each_get_their_digest_through_their_own_notifier(
    teams: TeamsClient,
    microsoft: FakeMicrosoft,
    fake_slack: SlackStandIn,
    teams_services: Services,
    database_url: str,
    session: Session,
) -> None:
    choose_channel(teams)
    with teams_services.sessions.begin() as writer:
        writer.add(Workspace(platform="slack", external_id="T111", created_at=LONG_AGO))
    both = teams_settings_for(
        database_url,
        microsoft,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.base_url,
        digest_channel=SLACK_CHANNEL,
    )
    microsoft.clear()

    with opened(both) as on_teams:
        notifiers = Notifiers(
            {"slack": SlackNotifier(token=BOT_TOKEN, base_url=fake_slack.base_url), "teams": on_teams}
        )
        report = run_once(replace(teams_services, settings=both), notifiers, at=DIGEST_RUN)

    assert report.sent == 2
    slack_posts = fake_slack.calls("chat.postMessage")
    summaries = [call.params["channel"] for call in slack_posts if "thread_ts" not in call.params]
    assert summaries == [SLACK_CHANNEL]
    [chart] = fake_slack.shared_files()
    assert chart.channel == SLACK_CHANNEL
    summary, *replies = microsoft.sent()
    assert summary.conversation_id == CHANNEL
    thread = f"{CHANNEL};messageid={summary.response['id']}"
    assert [call.conversation_id for call in replies] == [thread] * len(replies)
    assert sorted((row.channel, row.status) for row in digests(session)) == [
        (CHANNEL, NudgeStatus.SENT),
        (SLACK_CHANNEL, NudgeStatus.SENT),
    ]


# -- On demand -------------------------------------------------------------------------------------------


def test_digest_typed_by_a_manager_in_the_1to1_chat_comes_to_that_chat(
    teams: TeamsClient,
    microsoft: FakeMicrosoft,
    teams_services: Services,
    notifier: TeamsNotifier,
    session: Session,
    clock: FrozenClock,
) -> None:
    seed_week(teams, microsoft, clock)
    clock.now = chicago(27, 10)
    mo_chat = personal_chat(MO)

    answer = tell(teams, microsoft, "digest", user=MO)

    assert text_of(answer).startswith("\N{OPEN MAILBOX WITH RAISED FLAG} The team digest for the last 7 days")
    microsoft.clear()

    # Only the sender: planning now would add Ana's reminders to the run.
    report = send_nudges(at_time(teams_services, clock.now), notifier, Pacer())

    assert report.sent == 1
    posted = microsoft.sent()
    assert [call.conversation_id for call in posted] == [mo_chat] * len(posted)
    summary, *details, chart = [card_of(call.json_body) for call in posted]
    assert text_of(summary).startswith("Team digest \N{MIDDLE DOT} Fri 20 Nov \N{EN DASH} Fri 27 Nov")
    assert details
    assert text_of(details[0]).startswith("Each technician this week")
    [image] = of_type(chart, "Image")
    assert image["url"].startswith(PNG)
    assert_within_teams_limit(posted)
    [row] = digests(session)
    assert (row.status, row.channel, row.message_ts) == (NudgeStatus.SENT, mo_chat, posted[0].response["id"])


# -- Installs and removals -------------------------------------------------------------------------------


def test_adding_the_bot_to_the_team_stores_the_teams_conversation(
    teams: TeamsClient, microsoft: FakeMicrosoft, session: Session
) -> None:
    response = teams.post(teams.prepare("conversation_update_team_added", user=MO))

    assert response.status_code == 200, response.text
    assert conversations(session) == [(TEAM, "channel", TEAM)]
    stored = session.scalars(select(Conversation)).one()
    assert stored.service_url == microsoft.service_url


def test_removing_the_bot_from_the_team_forgets_its_channels_and_the_digest_channel(
    teams: TeamsClient,
    microsoft: FakeMicrosoft,
    teams_services: Services,
    session: Session,
) -> None:
    tell(teams, microsoft, "visit Acme Dental 1h30 replaced fuser")
    assert teams.post(teams.prepare("conversation_update_team_added", user=MO)).status_code == 200
    choose_channel(teams)
    assert sorted(conversations(session)) == [
        (TEAM, "channel", TEAM),
        (CHANNEL, "channel", TEAM),
        (personal_chat(ANA), "personal", None),
    ]

    response = teams.post(team_removed(teams))

    assert response.status_code == 200, response.text
    assert conversations(session) == [(personal_chat(ANA), "personal", None)]
    assert workspace(session).digest_channel is None
    plan_nudges(at_time(teams_services, DIGEST_RUN))
    assert digests(session) == []


def test_removing_the_app_from_a_1to1_chat_forgets_only_that_chat(
    teams: TeamsClient, microsoft: FakeMicrosoft, session: Session
) -> None:
    tell(teams, microsoft, "visit Acme Dental 1h30 replaced fuser")
    tell(teams, microsoft, "visit Beta Clinic 45m reset router", user=BO)

    response = teams.post(teams.prepare("installation_update_remove"))

    assert response.status_code == 200, response.text
    assert conversations(session) == [(personal_chat(BO), "personal", None)]
