"""`/visit digest`: a manager gets the team digest in their DM; anyone else is kindly refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import digest
from bot.services import Services
from bot.settings import Settings
from bot.wiring import build_notifier
from handlers.slack.standin import SlackStandIn
from jobs.scheduler import run_once
from storage.models import Nudge, NudgeStatus
from tests.harness import FrozenClock, SlackClient, text_of

ON_ITS_WAY = (
    ":mailbox_with_mail: The team digest for the last 7 days is on its way to your DMs "
    "(summary, details in its thread, and the 8-week chart)."
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Ana (U111) is a manager; Bo (U222) is not."""
    return settings.model_copy(update={"manager_ids": "U111"})


def test_a_manager_asks_and_gets_the_digest_in_their_dm_after_the_next_send(
    slack: SlackClient, services: Services, fake_slack: SlackStandIn, session: Session, clock: FrozenClock
) -> None:
    slack.command("Acme Dental 1h30 replaced fuser", user="U222")
    clock.advance(minutes=5)

    answer = slack.command("digest", user="U111").json()

    assert text_of(answer).split("\n")[0] == ON_ITS_WAY
    [row] = session.scalars(select(Nudge).where(Nudge.kind == digest.KIND)).all()
    assert (row.period, row.channel, row.due_at, row.technician_id) == (
        "asked:U111:2026-11-23T15:05",
        "U111",
        clock.now,
        None,
    )

    run_once(services, build_notifier(services.settings), at=clock.now)

    summary = next(c for c in fake_slack.calls("chat.postMessage") if c.params["channel"] == "U111")
    assert "thread_ts" not in summary.params
    shown = text_of(summary.params)
    assert shown.startswith("Team digest · Mon 16 Nov – Mon 23 Nov\n*This week*: 1 visit, 1h30 on site, by 1")
    session.expire_all()
    [row] = session.scalars(select(Nudge).where(Nudge.kind == digest.KIND)).all()
    assert (row.status, row.channel, row.parts_sent) == (NudgeStatus.SENT, "DU111", 3)
    thread = [c for c in fake_slack.calls("chat.postMessage") if c.params.get("thread_ts") == row.message_ts]
    assert [c.params["channel"] for c in thread] == ["DU111"]
    assert "*Each technician this week*" in text_of(thread[0].params)
    [shared] = fake_slack.shared_files()
    assert (shared.channel, shared.thread_ts) == ("DU111", row.message_ts)
    assert shared.content.startswith(b"\x89PNG")
    # Nothing went to a channel: the digest was for Ana alone.
    assert not [c for c in fake_slack.calls("chat.postMessage") if c.params["channel"].startswith("C")]


def test_someone_who_is_not_a_manager_is_kindly_refused_and_nothing_is_stored(
    slack: SlackClient, services: Services, fake_slack: SlackStandIn, session: Session, clock: FrozenClock
) -> None:
    answer = slack.command("digest", user="U222").json()

    assert text_of(answer).split("\n") == [
        ":warning: Only managers can ask for the team digest: whoever runs Nudgebot lists them in the "
        "MANAGER_IDS setting, and can add you like this.",
        "For example:",
        "MANAGER_IDS=U222",
    ]
    assert session.scalars(select(Nudge)).all() == []
    run_once(services, build_notifier(services.settings), at=clock.now)
    assert fake_slack.calls("chat.postMessage") == []


def test_the_send_me_the_digest_button_queues_it_like_the_command(
    slack: SlackClient, fake_slack: SlackStandIn, session: Session
) -> None:
    button = {"action_id": f"{digest.REQUEST}#0", "value": "", "text": {"text": "Send me the digest"}}

    slack.press(button, user="U111", name="digest-button")

    [response] = fake_slack.wait_for_responses("digest-button")
    assert text_of(response.params).split("\n")[0] == ON_ITS_WAY
    assert [row.channel for row in session.scalars(select(Nudge))] == ["U111"]
