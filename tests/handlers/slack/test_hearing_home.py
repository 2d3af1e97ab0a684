"""Hearing the client on App Home and in the digest: clients at risk first, notices waiting, quiet clients
to ask, needs spotted in visit notes (with *Raised it* and *Not useful*); and the e-mails without links
when PUBLIC_URL is unset."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import digest
from bot.settings import Settings
from handlers.slack.standin import SlackStandIn
from storage.models import Client, NeedDismissal
from tests.handlers.slack.test_home import labels, lines, open_home
from tests.harness import FrozenClock, SlackClient, button
from tests.reminders import chicago, introduce, shown

CHICAGO = ZoneInfo("America/Chicago")
PRINTER_VISITS = (
    (11, 2, "Acme Dental 1h printer jammed at the front desk"),
    (11, 9, "Acme Dental 45m cleared a paper jam, print queue stuck again"),
    (11, 16, "Acme Dental 30m LaserJet toner smudges, replaced the fuser"),
    (11, 18, "Acme Dental 1h new laptop for reception"),
    (11, 20, "Acme Dental 30m monthly patching, all fine"),
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No PUBLIC_URL: the e-mails carry no links. Neither Ana nor Bo is a manager."""
    return settings.model_copy(update={"manager_ids": "U333"})


@pytest.fixture(autouse=True)
def acme(slack: SlackClient, session: Session, clock: FrozenClock) -> None:
    """Ana's Acme Dental with a printer that keeps failing, over November."""
    introduce(slack, session)
    introduce(slack, session, "U222")
    clock.now = chicago(11, 2, 9)
    slack.command('contact "Acme Dental" Jane Roe jane@acme.example +1 555 0100')
    for month, day, text in PRINTER_VISITS:
        clock.now = chicago(month, day, 10)
        assert slack.command(text).status_code == 200
    clock.now = chicago(11, 23, 9)


def ask(slack: SlackClient, text: str, user: str = "U111") -> dict[str, Any]:
    response = slack.command(text, user=user)
    assert response.status_code == 200
    answer: dict[str, Any] = response.json()
    return answer


def test_without_public_url_the_emails_carry_no_links_and_buttons_record_the_answer(
    slack: SlackClient, session: Session, fake_slack: SlackStandIn
) -> None:
    visit = ask(slack, "Acme Dental 1h swapped the dock")
    notice = ask(slack, 'notify Acme Dental "reboot the mail server" Saturday 22:00-23:00')

    assert not any("/r/" in line for line in shown(visit) + shown(notice))
    assert "Please reply to this e-mail to confirm you have read this notice." in shown(notice)
    assert "How did they find it? Record what they say:" in shown(visit)
    slack.press(button(visit, "Unhappy 🙁"), user="U111", name="unhappy")
    [answer] = fake_slack.wait_for_responses("unhappy")
    assert shown(answer.params)[1].startswith(
        ":rotating_light: *Acme Dental* is unhappy, so they're *at risk*"
    )


def test_the_owners_home_shows_clients_at_risk_first_then_notices_and_the_needs_spotted(
    slack: SlackClient, fake_slack: SlackStandIn
) -> None:
    ask(slack, "feedback Acme Dental 1 nobody called back")
    ask(slack, 'notify Acme Dental "reboot the mail server" Saturday 22:00-23:00')

    view = open_home(slack, fake_slack, lambda text: "Clients at risk" in text)

    shown_lines = lines(view)
    assert shown_lines[1] == "Clients at risk (1)"
    assert shown_lines[2] == (
        ":rotating_light: *Acme Dental*: at risk for 0 days (🙁 1/5 on Mon 23 Nov: “nobody called back”). "
        "No repair logged yet: call them, own it, fix it."
    )
    assert "Log a repair call" in labels(view)
    assert "Change notices not acknowledged (1)" in shown_lines
    assert "Needs spotted (1)" in shown_lines
    need = next(line for line in shown_lines if line.startswith(":bulb:"))
    assert need == (
        ":bulb: *Acme Dental*: printer trouble in 3 of the last 5 visits — suggest replacing the printer? "
        "(from “laserjet”, “toner”, “smudges”, “fuser”, “paper jam”, “print queue”.) Visits: Mon 16 Nov, "
        "Mon 9 Nov, Mon 2 Nov."
    )
    assert labels(view)[-3:] == ["Raised it with them", "Not useful", "Change settings"]


def test_not_useful_sets_a_need_aside_for_good_and_bo_may_not_decide_for_ana(
    slack: SlackClient, session: Session, fake_slack: SlackStandIn, clock: FrozenClock
) -> None:
    view = open_home(slack, fake_slack, lambda text: "Needs spotted" in text)
    slack.press(button(view, "Not useful"), user="U222", name="bo")
    [refused] = fake_slack.wait_for_responses("bo")
    assert shown(refused.params)[0] == (
        ":warning: That client is looked after by someone else: their owner decides about its suggestions."
    )
    assert session.scalars(select(NeedDismissal)).all() == []

    slack.press(button(view, "Not useful"), user="U111", name="ana", container="view")
    after = open_home(slack, fake_slack, lambda text: "Needs spotted" not in text)

    assert not any(line.startswith(":bulb:") for line in lines(after))
    session.expire_all()
    assert [(d.topic, d.raised_at) for d in session.scalars(select(NeedDismissal))] == [("printer", None)]
    # Three more printer visits: still set aside, for good.
    for day in (24, 25, 26):
        clock.now = chicago(11, day, 10)
        ask(slack, "Acme Dental 30m printer jammed again")
    assert "Needs spotted" not in "\n".join(lines(open_home(slack, fake_slack)))


def test_the_digest_lists_clients_at_risk_with_what_was_done_and_the_needs_and_praises_a_repair(
    slack: SlackClient, session: Session, clock: FrozenClock
) -> None:
    ask(slack, "feedback Acme Dental 2 the printer again")
    clock.now = chicago(11, 24, 11)
    ask(slack, "call Acme Dental spoke apologised; repair: loan printer until the new one comes")
    client = session.scalars(select(Client)).one()

    composed = digest.compose(
        digest.gather(session, workspace_id=client.workspace_id, end=chicago(11, 30, 9), tz=CHICAGO)
    )

    details = "\n".join(
        block.text for message in composed.details for block in message.blocks if hasattr(block, "text")
    )
    assert (
        "*Acme Dental*: at risk for 7 days (🙁 2/5: “the printer again”) (Ana). Repair logged Tue 24 Nov by "
        "Ana: “loan printer until the new one comes”; waiting for their next word." in details
    )
    assert (
        "*Acme Dental*: printer trouble in 3 of the last 5 visits — suggest replacing the printer?" in details
    )
    summary = "\n".join(block.text for block in composed.summary.blocks if hasattr(block, "text"))
    assert "• 1 client at risk (unhappy, not yet repaired)" in summary
    assert "*Needs spotted*: 1 recurring problem in visit notes, each a chance for a proactive" in summary

    clock.now = chicago(11, 25, 11)
    ask(slack, "feedback Acme Dental happy")
    happy = digest.compose(
        digest.gather(session, workspace_id=client.workspace_id, end=chicago(11, 30, 9), tz=CHICAGO)
    )
    text = "\n".join(block.text for block in happy.summary.blocks if hasattr(block, "text"))
    assert "• *Acme Dental* is happy again after 2 days at risk." in text
    assert "client at risk" not in text


def test_raised_it_with_them_hides_a_need_until_three_more_visits_bring_it_up(
    slack: SlackClient, session: Session, fake_slack: SlackStandIn, clock: FrozenClock
) -> None:
    view = open_home(slack, fake_slack, lambda text: "Needs spotted" in text)

    slack.press(button(view, "Raised it with them"), user="U111", name="raised")
    [answer] = fake_slack.wait_for_responses("raised")

    assert shown(answer.params) == [
        ":bulb: Thank you: raising it before *Acme Dental* had to is what keeps clients. If it comes up in "
        "three more visits, I'll suggest it again."
    ]
    assert not any(line.startswith(":bulb:") for line in lines(open_home(slack, fake_slack)))
    for day in (24, 25):
        clock.now = chicago(11, day, 10)
        ask(slack, "Acme Dental 30m printer jammed again")
    assert not any(line.startswith(":bulb:") for line in lines(open_home(slack, fake_slack)))
    clock.now = chicago(11, 26, 10)
    ask(slack, "Acme Dental 30m print queue stuck again")
    back = [line for line in lines(open_home(slack, fake_slack)) if line.startswith(":bulb:")]
    assert [line.split(" — ")[0] for line in back] == [
        ":bulb: *Acme Dental*: printer trouble in 3 of the last 3 visits"
    ]
