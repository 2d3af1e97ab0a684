"""The client's word through the real endpoint and the link page: "how did we do?" links, unhappy clients
at risk until repaired, and asking a quiet client how we are doing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import feedback
from bot.services import Services
from bot.settings import Settings
from handlers.slack.standin import SlackStandIn
from storage.models import Client, Feedback, Risk, Touch, TouchKind
from tests.harness import BotServer, FrozenClock, SlackClient, button
from tests.reminders import Jobs, chicago, introduce, shown

PUBLIC = "https://nudgebot.example"
CHICAGO = ZoneInfo("America/Chicago")
ANA, BO = "U111", "U222"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Links on; Bo (U222, Berlin) is a manager."""
    return settings.model_copy(
        update={
            "public_url": PUBLIC,
            "link_secret": SecretStr("a-link-secret-for-the-tests-only"),
            "manager_ids": BO,
        }
    )


@pytest.fixture(autouse=True)
def acme(slack: SlackClient, session: Session, clock: FrozenClock) -> None:
    """Acme Dental is Ana's client; Bo visits it too. Monday 23 November, 9am in Chicago."""
    introduce(slack, session, ANA)
    introduce(slack, session, BO)
    clock.now = chicago(11, 23, 9)
    slack.command('contact "Acme Dental" Jane Roe jane@acme.example +1 555 0100', user=ANA)


@pytest.fixture
def jobs(services: Services, fake_slack: SlackStandIn) -> Jobs:
    return Jobs(services, fake_slack)


@pytest.fixture
def web(bot: BotServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=bot.url, timeout=10) as client:
        yield client


def ask(slack: SlackClient, text: str, user: str = ANA) -> dict[str, Any]:
    response = slack.command(text, user=user)
    assert response.status_code == 200
    answer: dict[str, Any] = response.json()
    return answer


def mood_links(message: dict[str, Any]) -> dict[str, str]:
    """The drafted e-mail's "how did we do?" links by face, as paths on the bot."""
    found = re.findall(r"^(\S+) " + re.escape(PUBLIC) + r"(/r/\S+)$", "\n".join(shown(message)), re.MULTILINE)
    return dict(found)


def risks(session: Session) -> list[tuple[str | None, bool]]:
    session.expire_all()
    return [
        (r.closed_how, r.repaired_at is not None) for r in session.scalars(select(Risk).order_by(Risk.id))
    ]


def answers(session: Session) -> list[tuple[int, str | None, str]]:
    session.expire_all()
    return [(f.score, f.comment, f.source) for f in session.scalars(select(Feedback).order_by(Feedback.id))]


def test_the_follow_up_asks_how_did_we_do_with_three_links_to_one_page(
    slack: SlackClient, web: httpx.Client
) -> None:
    visit = ask(slack, "Acme Dental 1h replaced the fuser")

    lines = shown(visit)
    assert "How did we do? One click tells us:" in lines
    links = mood_links(visit)
    assert list(links) == ["😀", "😐", "🙁"]
    assert [path.split("?")[1] for path in links.values()] == ["m=happy", "m=ok", "m=unhappy"]
    page = web.get(links["🙁"])
    assert page.status_code == 200
    assert "How did we do?" in page.text
    assert 'value="unhappy" checked' in page.text
    # The client's name and the visit's date, nothing of the visit itself.
    assert "Acme Dental" in page.text
    assert "Monday 23 November 2026" in page.text
    assert "fuser" not in page.text
    assert "Ana" not in page.text


def test_an_unhappy_answer_puts_the_client_at_risk_and_the_owner_and_the_technician_are_told(
    slack: SlackClient, session: Session, web: httpx.Client, jobs: Jobs
) -> None:
    links = mood_links(ask(slack, "Acme Dental 1h replaced the fuser", user=BO))
    opened = web.get(links["🙁"])
    assert answers(session) == []

    sent = web.post(links["🙁"], data={"mood": "unhappy", "comment": "Waited\x00 two days\nfor this"})

    assert sent.status_code == 200
    assert "Thank you for telling us 🙁" in sent.text
    assert opened.status_code == 200
    assert answers(session) == [(1, "Waited two days for this", "link")]
    assert risks(session) == [(None, False)]
    jobs.run(chicago(11, 23, 9, 5))
    assert jobs.texts(ANA) == ["Acme Dental is unhappy: call them"]
    assert jobs.texts(BO) == ["Acme Dental is unhappy: call them"]
    [dm] = jobs.dms(ANA)
    assert shown(dm.params)[:5] == [
        ":rotating_light: *Acme Dental* is unhappy. On Mon 23 Nov they said 🙁 1/5 about the visit of Mon 23 "
        "Nov: “Waited two days for this”.",
        "1. *Call* Jane Roe on +1 555 0100 today: a call, not an e-mail.",
        "2. *Own it*: listen, say sorry for what went wrong, no excuses.",
        "3. *Fix it*, and tell them when it will be fixed.",
        "Then log the repair: /visit call Acme Dental spoke what you did; repair: what was put right",
    ]
    # Each working day until a repair is logged; not at the weekend.
    jobs.run(chicago(11, 24, 8))
    assert jobs.texts(ANA) == ["Acme Dental is unhappy: call them"] * 2


def test_a_second_tap_changes_the_answer_not_the_count_and_a_misclick_put_right_is_no_risk(
    slack: SlackClient, session: Session, web: httpx.Client, clock: FrozenClock
) -> None:
    links = mood_links(ask(slack, "Acme Dental 1h replaced the fuser"))
    web.post(links["😀"], data={"mood": "unhappy"})
    clock.advance(minutes=1)

    again = web.post(links["😀"], data={"mood": "happy", "comment": "Sorry, wrong face!"})

    assert again.status_code == 200
    assert answers(session) == [(5, "Sorry, wrong face!", "link")]
    assert risks(session) == [(feedback.ANSWER_CHANGED, False)]
    reopened = web.get(links["🙁"])
    assert "You have already answered" in reopened.text
    assert 'value="happy" checked' in reopened.text


def test_a_repair_keeps_them_at_risk_until_their_next_word_is_not_negative(
    slack: SlackClient, session: Session, fake_slack: SlackStandIn, jobs: Jobs, clock: FrozenClock
) -> None:
    at_risk = shown(ask(slack, "Acme Dental 1h replaced the fuser; mood: unhappy about the wait"))
    assert at_risk[-6].startswith(":rotating_light: *Acme Dental* is unhappy, so they're *at risk*")
    assert risks(session) == [(None, False)]

    clock.now = chicago(11, 24, 10)
    repaired = shown(ask(slack, "call Acme Dental spoke apologised; repair: replaced the dock today"))
    assert repaired[1] == (
        ":wrench: Logged the repair for *Acme Dental*. They stay at risk until their next word isn't "
        "negative: ask how things are now, and record what they say."
    )
    assert risks(session) == [(None, True)]
    jobs.run(chicago(11, 25, 9))
    assert [text for text in jobs.texts(ANA) if "unhappy" in text] == []

    still = shown(ask(slack, "feedback Acme Dental 2 still slow"))
    assert still[1].startswith(":rotating_light: *Acme Dental* is unhappy again")
    assert risks(session) == [(None, False)]
    ask(slack, "call Acme Dental spoke new laptop ordered; repair: new laptop tomorrow")
    happy = ask(slack, "feedback Acme Dental 4 thanks for sorting it")
    assert shown(happy) == [
        ":speech_balloon: Recorded what *Acme Dental* said: 😀 4/5: “thanks for sorting it”.",
        ":tada: *Acme Dental* is happy again: off the at-risk list after 1 day.",
    ]
    assert risks(session) == [(feedback.HAPPY_AGAIN, True)]


def test_the_repair_call_button_and_the_mood_buttons_of_the_dm(
    slack: SlackClient, session: Session, fake_slack: SlackStandIn, jobs: Jobs
) -> None:
    ask(slack, "feedback Acme Dental unhappy")
    jobs.run(chicago(11, 23, 9, 5))
    [dm] = jobs.dms(ANA)

    slack.press(button(dm.params, "Log a repair call"), user=ANA, name="repair")
    [answer] = fake_slack.wait_for_responses("repair")
    assert shown(answer.params)[:2] == [
        ":telephone_receiver: Logged a call to *Acme Dental*.",
        ":wrench: Logged the repair for *Acme Dental*. They stay at risk until their next word isn't "
        "negative: ask how things are now, and record what they say.",
    ]
    slack.press(button(answer.params, "Happy 😀"), user=ANA, name="happy")
    [happy] = fake_slack.wait_for_responses("happy")
    assert (
        shown(happy.params)[-1] == ":tada: *Acme Dental* is happy again: off the at-risk list after 0 days."
    )
    session.expire_all()
    assert [(t.kind, t.note) for t in session.scalars(select(Touch).where(Touch.kind == TouchKind.CALL))] == [
        (TouchKind.CALL, "Repair call")
    ]


@pytest.mark.parametrize(
    ("change", "status", "said"),
    [
        (lambda path: path.replace("/r/v", "/r/n", 1), 404, "This link isn't valid"),
        (lambda path: re.sub(r"-([0-9a-z]+)-([0-9a-z]+)-", r"-\g<1>-zz-", path, count=1), 404, "isn't valid"),
        (lambda path: path.split("?")[0][:-3] + "AAA", 404, "This link isn't valid"),
        (lambda path: "/r/" + "A" * 30, 404, "This link isn't valid"),
    ],
)
def test_an_altered_or_forged_link_gets_a_polite_page_and_changes_nothing(
    slack: SlackClient, session: Session, web: httpx.Client, change: Any, status: int, said: str
) -> None:
    path = mood_links(ask(slack, "Acme Dental 1h replaced the fuser"))["🙁"]
    altered = change(path)
    assert altered != path

    for response in (web.get(altered), web.post(altered, data={"mood": "unhappy"})):
        assert response.status_code == status
        assert said in response.text
        assert "Nothing was changed" in response.text
    assert answers(session) == []
    assert risks(session) == []


def test_an_expired_link_says_so_and_changes_nothing(
    slack: SlackClient, session: Session, web: httpx.Client, clock: FrozenClock
) -> None:
    path = mood_links(ask(slack, "Acme Dental 1h replaced the fuser"))["🙁"]
    clock.advance(days=30, seconds=1)

    response = web.post(path, data={"mood": "unhappy"})

    assert response.status_code == 410
    assert "This link has expired" in response.text
    assert answers(session) == []


def test_links_are_rate_limited_per_address_and_a_wrong_one_costs_more(
    slack: SlackClient, web: httpx.Client
) -> None:
    path = mood_links(ask(slack, "Acme Dental 1h replaced the fuser"))["😀"]
    for _ in range(4):
        assert web.get("/r/" + "B" * 30).status_code == 404

    limited = web.get(path)

    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "60"
    assert "Please wait a minute" in limited.text


def test_a_form_sent_without_a_mood_asks_again_and_stores_nothing(
    slack: SlackClient, session: Session, web: httpx.Client
) -> None:
    path = mood_links(ask(slack, "Acme Dental 1h replaced the fuser"))["😐"]

    response = web.post(path, data={"comment": "no face"})

    assert response.status_code == 400
    assert "Please choose one of the three." in response.text
    assert answers(session) == []


def test_a_quiet_client_earns_its_owner_a_nudge_to_ask_with_the_links(
    slack: SlackClient,
    session: Session,
    fake_slack: SlackStandIn,
    jobs: Jobs,
    web: httpx.Client,
    clock: FrozenClock,
) -> None:
    ask(slack, "Acme Dental 1h replaced the fuser")
    client = session.scalars(select(Client)).one()
    due = feedback.ask_due_at(client)
    assert due == client.created_at + timedelta(days=90 + client.id % feedback.FIRST_ASK_SPREAD_DAYS)

    jobs.run(due - timedelta(minutes=1))
    assert "Ask Acme Dental how we're doing" not in jobs.texts(ANA)
    morning = due.astimezone(CHICAGO).replace(hour=8, minute=0) + timedelta(days=1)
    while morning.weekday() >= 5:
        morning += timedelta(days=1)
    jobs.run(morning)

    [dm] = [call for call in jobs.dms(ANA) if call.params["text"] == "Ask Acme Dental how we're doing"]
    lines = shown(dm.params)
    assert lines[0].startswith(
        ":speech_balloon: Time to ask *Acme Dental* how we're doing: they haven't told us"
    )
    assert "- Have we delivered on time?" in lines
    assert "- Are we meeting your goals?" in lines
    assert "- Has what we did worked?" in lines
    [happy] = [line for line in lines if line.startswith(f"😀 {PUBLIC}/r/a")]
    clock.now = morning + timedelta(hours=2)
    answered = web.post(happy.split(PUBLIC)[1], data={"mood": "happy"})
    assert "Thank you for telling us 😀" in answered.text
    assert answers(session)[-1] == (5, None, "link")
    jobs.run(morning + timedelta(days=7))
    asks = [text for text in jobs.texts(ANA) if text.startswith("Ask ")]
    assert asks == ["Ask Acme Dental how we're doing"]

    slack.press(button(dm.params, "Sent it"), user=ANA, name="asked")
    [sent] = fake_slack.wait_for_responses("asked")
    assert shown(sent.params)[0].startswith(":speech_balloon: Thank you: asking keeps *Acme Dental* talking")
    session.expire_all()
    assert (
        session.scalars(select(Touch).where(Touch.kind == TouchKind.EMAIL)).one().note
        == "Asked how we are doing"
    )


def test_only_managers_say_how_often_clients_are_asked(slack: SlackClient, session: Session) -> None:
    refused = shown(ask(slack, "feedback every 120 days", user=ANA))
    assert refused[0].startswith(
        ":warning: Only managers can change how often clients are asked for feedback"
    )

    done = shown(ask(slack, "feedback every 120 days", user=BO))

    assert done == [
        ":speech_balloon: From now on, a client who hasn't told us how we're doing in 120 days earns its "
        "owner a reminder to ask."
    ]
    session.expire_all()
    client = session.scalars(select(Client)).one()
    assert client.workspace.feedback_every_days == 120
