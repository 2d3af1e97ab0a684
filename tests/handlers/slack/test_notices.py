"""Change notices through the real endpoint: drafted with an acknowledgement link, acknowledged by the
client's link, a button or a call, reminded a working day before the window, and carried into the next
visit's follow-up."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import digest
from bot.services import Services
from bot.settings import Settings
from handlers.slack.standin import SlackStandIn
from storage.models import Notice, Touch
from tests.harness import BotServer, FrozenClock, SlackClient, button
from tests.reminders import Jobs, chicago, introduce, shown

PUBLIC = "https://nudgebot.example"
NOTIFY = 'notify Acme Dental "reboot the mail server" Saturday 22:00-23:00; impact: no e-mail for 15 minutes'
CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Links on; Bo (U222) is a manager."""
    return settings.model_copy(
        update={
            "public_url": PUBLIC,
            "link_secret": SecretStr("a-link-secret-for-the-tests-only"),
            "manager_ids": "U222",
        }
    )


@pytest.fixture(autouse=True)
def acme(slack: SlackClient, session: Session, clock: FrozenClock) -> None:
    """Ana (Chicago) knows Acme Dental's contact; it is Monday 23 November, 9am."""
    introduce(slack, session)
    clock.now = chicago(11, 23, 9)
    slack.command('contact "Acme Dental" Jane Roe jane@acme.example +1 555 0100')


@pytest.fixture
def jobs(services: Services, fake_slack: SlackStandIn) -> Jobs:
    return Jobs(services, fake_slack)


@pytest.fixture
def web(bot: BotServer) -> httpx.Client:
    """A browser on a phone, as far as the link page is concerned."""
    with httpx.Client(base_url=bot.url, timeout=10) as client:
        yield client  # type: ignore[misc]


def ask(slack: SlackClient, text: str, user: str = "U111") -> dict[str, Any]:
    response = slack.command(text, user=user)
    assert response.status_code == 200
    answer: dict[str, Any] = response.json()
    return answer


def link_in(message: dict[str, Any]) -> str:
    """The path of the one-click link in a drafted e-mail."""
    [url] = re.findall(re.escape(PUBLIC) + r"(/r/[A-Za-z0-9_-]+)", "\n".join(shown(message)))
    return url


def notice(session: Session) -> Notice:
    session.expire_all()
    return session.scalars(select(Notice)).one()


def test_notify_drafts_the_notice_to_the_contact_with_an_acknowledgement_link(
    slack: SlackClient, session: Session
) -> None:
    answer = ask(slack, NOTIFY)

    lines = shown(answer)
    assert lines[0] == (
        ":loudspeaker: Drafted the notice to *Acme Dental*: reboot the mail server, Sat 28 Nov, 10–11pm."
    )
    assert "Here's the notice for Jane Roe (jane@acme.example):" in lines
    body = "\n".join(lines)
    assert "Subject: Planned change at Acme Dental: reboot the mail server" in body
    assert "What will change: reboot the mail server" in lines
    assert "When: Saturday 28 November 2026, 22:00–23:00 (America/Chicago)" in lines
    assert "What you will notice: no e-mail for 15 minutes" in lines
    assert "Please confirm you have read this notice (one click):" in lines
    assert f"{PUBLIC}{link_in(answer)}" in lines
    stored = notice(session)
    assert (stored.what, stored.impact, stored.acknowledged_at) == (
        "reboot the mail server",
        "no e-mail for 15 minutes",
        None,
    )
    assert stored.window_start == chicago(11, 28, 22)


def test_opening_the_link_changes_nothing_and_confirming_acknowledges_it_once(
    slack: SlackClient, session: Session, web: httpx.Client, clock: FrozenClock
) -> None:
    path = link_in(ask(slack, NOTIFY))

    opened = web.get(path)

    assert opened.status_code == 200
    assert "Acme Dental" in opened.text
    assert "Saturday 28 November 2026" in opened.text
    assert "I have read the notice" in opened.text
    # The page names the client and the date only: not the change, not who makes it.
    assert "reboot" not in opened.text
    assert "Ana" not in opened.text
    assert "jane@" not in opened.text
    assert opened.headers["referrer-policy"] == "no-referrer"
    assert opened.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in opened.headers["content-security-policy"]
    assert notice(session).acknowledged_at is None

    confirmed = web.post(path)

    assert confirmed.status_code == 200
    assert "you have confirmed our notice" in confirmed.text
    first = notice(session)
    assert (first.acknowledged_at, first.acknowledged_via) == (chicago(11, 23, 9), "link")
    clock.advance(hours=1)
    again = web.post(path)
    assert again.status_code == 200
    assert "you have confirmed our notice" in again.text
    assert notice(session).acknowledged_at == chicago(11, 23, 9)


def test_unacknowledged_the_technician_is_told_to_phone_a_working_day_before_and_on_the_morning(
    slack: SlackClient, session: Session, jobs: Jobs
) -> None:
    ask(slack, 'notify Acme Dental "move the file server" Wednesday 18:00-19:00')

    jobs.run(chicago(11, 23, 17))
    assert jobs.texts("U111") == []
    jobs.run(chicago(11, 24, 7, 59))
    assert jobs.texts("U111") == []
    jobs.run(chicago(11, 24, 8))
    jobs.run(chicago(11, 24, 12))
    jobs.run(chicago(11, 25, 8))
    jobs.run(chicago(11, 25, 19))

    assert jobs.texts("U111") == ["Acme Dental hasn't acknowledged your notice"] * 2
    [first, _] = jobs.dms("U111")
    assert shown(first.params)[0] == (
        ":loudspeaker: *Acme Dental* hasn't acknowledged your notice: move the file server, Wed 25 Nov, "
        "6–7pm. An e-mail counts only once it's read: please phone Jane Roe on +1 555 0100 and tell them."
    )
    assert [b["text"]["text"] for b in first.params["blocks"][1]["elements"]] == [
        "Client acknowledged",
        "Spoke to them",
    ]


def test_a_notice_drafted_late_gives_the_client_two_working_hours_and_a_weekend_window_is_reminded_friday(
    slack: SlackClient, jobs: Jobs, clock: FrozenClock
) -> None:
    clock.now = chicago(11, 27, 14)
    ask(slack, NOTIFY)

    jobs.run(chicago(11, 27, 15, 59))
    assert jobs.texts("U111") == []
    jobs.run(chicago(11, 27, 16))
    jobs.run(chicago(11, 28, 10))  # Saturday: not a working day

    assert jobs.texts("U111") == ["Acme Dental hasn't acknowledged your notice"]


def test_the_button_or_a_call_where_they_spoke_acknowledges_and_no_reminder_comes(
    slack: SlackClient, session: Session, fake_slack: SlackStandIn, jobs: Jobs
) -> None:
    answer = ask(slack, NOTIFY)
    slack.press(button(answer, "Client acknowledged"), user="U111", name="ack")
    [pressed] = fake_slack.wait_for_responses("ack")
    assert shown(pressed.params) == [
        ":white_check_mark: Noted: *Acme Dental* knows about reboot the mail server (Sat 28 Nov, 10–11pm). "
        "Stick to what you announced."
    ]
    assert notice(session).acknowledged_via == "button"

    ask(slack, 'notify Acme Dental "replace the firewall" Thursday 20:00-21:00')
    voicemail = ask(slack, "call Acme Dental voicemail")
    assert len(shown(voicemail)) == 1
    spoke = ask(slack, "call Acme Dental spoke told them about Thursday")
    assert shown(spoke)[-1] == "They know about replace the firewall (Thu 26 Nov, 8–9pm) now."

    session.expire_all()
    assert [n.acknowledged_via for n in session.scalars(select(Notice).order_by(Notice.id))] == [
        "button",
        "call",
    ]
    jobs.run(chicago(11, 25, 9))
    jobs.run(chicago(11, 27, 9))
    assert jobs.texts("U111") == []


def test_after_the_window_the_next_visit_says_what_was_announced_once(
    slack: SlackClient, session: Session, clock: FrozenClock
) -> None:
    ask(slack, NOTIFY)
    clock.now = chicago(11, 30, 10)

    visit = shown(ask(slack, "Acme Dental 1h rebooted the mail server, all mail flowing"))

    assert visit[1] == (
        ":loudspeaker: You announced: reboot the mail server (Sat 28 Nov, 10–11pm). The e-mail says so: make "
        "sure it says what was done against what was announced."
    )
    assert "As announced: reboot the mail server (Sat 28 Nov, 10–11pm)" in visit
    assert "What was done: rebooted the mail server, all mail flowing" in visit
    later = shown(ask(slack, "Acme Dental 30m swapped a keyboard"))
    assert not any("announced" in line.lower() for line in later)


def test_notify_list_shows_what_is_open_and_the_digest_what_changed_unacknowledged(
    slack: SlackClient, session: Session, clock: FrozenClock
) -> None:
    ask(slack, NOTIFY)
    ask(slack, 'notify Acme Dental "replace the firewall" Friday 20:00-21:00')
    ask(slack, "call Acme Dental spoke told them about both")
    ask(slack, 'notify Acme Dental "new Wi-Fi password" Thursday 7-8am')

    listed = shown(ask(slack, "notify list"))

    assert listed[0] == (
        ":hourglass_flowing_sand: *Acme Dental*: new Wi-Fi password, Thu 26 Nov, 7–8am. Not acknowledged "
        "yet: phone Jane Roe on +1 555 0100."
    )
    assert listed[1:3] == ["Client acknowledged", "Spoke to them"]
    assert listed[3].startswith(":white_check_mark: *Acme Dental*: replace the firewall, Fri 27 Nov, 8–9pm.")

    clock.now = chicago(11, 30, 9)
    snapshot = digest.gather(session, workspace_id=1, end=chicago(11, 30, 9), tz=CHICAGO)
    composed = digest.compose(snapshot)
    details = "\n".join(
        block.text for message in composed.details for block in message.blocks if hasattr(block, "text")
    )
    assert (
        "*Acme Dental*: “new Wi-Fi password” began Thu 26 Nov without an acknowledged notice (Ana). When the "
        "e-mail isn't acknowledged, phone them before the window." in details
    )
    assert "replace the firewall" not in details
    assert "reboot the mail server" not in details
    summary = "\n".join(block.text for block in composed.summary.blocks if hasattr(block, "text"))
    assert "• 1 change made without an acknowledged notice" in summary
    assert shown(ask(slack, "notify list"))[0] == (
        ":warning: *Acme Dental*: new Wi-Fi password (Thu 26 Nov, 7–8am) began without an acknowledged "
        "notice."
    )


@pytest.mark.parametrize(
    ("text", "first"),
    [
        (
            "notify Acme Dentl reboot Saturday 22-23",
            "I don't know a client called “Acme Dentl”. Did you mean",
        ),
        ("notify Acme Dental reboot the mail server", ":warning: When will you make the change?"),
        (
            'notify "Zenith Law" reboot Saturday 22-23',
            ":warning: I don't know a client called “Zenith Law” yet.",
        ),
    ],
)
def test_a_notice_that_cant_be_read_stores_nothing(
    slack: SlackClient, session: Session, text: str, first: str
) -> None:
    answer = shown(ask(slack, text))

    assert answer[0].startswith(first)
    assert session.scalars(select(Notice)).all() == []
    assert session.scalars(select(Touch)).all() == []
