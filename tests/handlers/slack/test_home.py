"""App Home: opening it shows the technician's own open items, and its buttons act and refresh it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Promise, Visit
from tests.fakes.slack_api import FakeSlack
from tests.handlers.slack.support import wait_for_profile
from tests.harness import MONDAY_MORNING, FrozenClock, SlackClient, button, payload, text_of


def open_home(slack: SlackClient, fake_slack: FakeSlack, *, count: int = 1) -> dict[str, Any]:
    """Open App Home as Ana and return the view published for her."""
    response = slack.event(payload("app_home_opened"))
    assert response.status_code == 200
    published = fake_slack.wait_for("views.publish", count=count)
    assert len(published) == count
    assert published[-1].params["user_id"] == "U111"
    view: dict[str, Any] = published[-1].params["view"]
    assert view["type"] == "home"
    return view


def test_opening_app_home_lists_my_open_followups_and_promises_only(
    slack: SlackClient, fake_slack: FakeSlack, session: Session
) -> None:
    slack.command("Acme Dental 1h30 replaced fuser")
    wait_for_profile(session)
    slack.command("Acme Dental send the revised quote by Friday", command="/promise")
    slack.command("Bo Bakery 2h new router", user="U222")

    view = open_home(slack, fake_slack)

    shown = text_of(view)
    assert "What's open" in shown
    assert "*Follow-up e-mails to send* (1)" in shown
    assert "*Acme Dental*, Mon 23 Nov: replaced fuser (1h30)" in shown
    assert "*Promises* (1 open)" in shown
    assert "*Acme Dental*: send the revised quote. Due Fri 27 Nov" in shown
    assert "Bo Bakery" not in shown
    assert [b["text"]["text"] for b in view["blocks"] if b.get("accessory")] == [
        "*Acme Dental*, Mon 23 Nov: replaced fuser (1h30)",
        "#1 *Acme Dental*: send the revised quote. Due Fri 27 Nov",
    ]


def test_app_home_with_nothing_open_says_so(slack: SlackClient, fake_slack: FakeSlack) -> None:
    view = open_home(slack, fake_slack)

    assert "Nothing open: no follow-ups, calls or promises waiting." in text_of(view)


def test_mark_sent_on_app_home_marks_the_followup_and_republishes_home(
    slack: SlackClient, fake_slack: FakeSlack, session: Session, clock: FrozenClock
) -> None:
    slack.command("Acme Dental 1h30 replaced fuser")
    view = open_home(slack, fake_slack)
    clock.advance(minutes=30)

    response = slack.press(button(view, "Mark sent"), container="view", name="home-press")

    assert response.status_code == 200
    refreshed = open_home_published(fake_slack, count=2)
    assert "Follow-up e-mails to send" not in text_of(refreshed)
    assert "Nothing open" in text_of(refreshed)
    visit = session.scalars(select(Visit)).one()
    assert visit.followup_sent_at == MONDAY_MORNING.replace(minute=30)
    assert fake_slack.responses("home-press") == []


def test_kept_on_app_home_marks_the_promise_and_republishes_home(
    slack: SlackClient, fake_slack: FakeSlack, session: Session
) -> None:
    slack.command("Acme Dental 1h30 replaced fuser")
    wait_for_profile(session)
    slack.command("Acme Dental send the revised quote by Friday", command="/promise")
    view = open_home(slack, fake_slack)

    slack.press(button(view, "Kept"), container="view", name="home-kept")

    refreshed = open_home_published(fake_slack, count=2)
    assert "Promises" not in text_of(refreshed)
    assert "*Follow-up e-mails to send* (1)" in text_of(refreshed)
    assert session.scalars(select(Promise)).one().done_at == MONDAY_MORNING


def open_home_published(fake_slack: FakeSlack, *, count: int) -> dict[str, Any]:
    """The latest home view published for Ana, once `count` have been published."""
    published = fake_slack.wait_for("views.publish", count=count)
    assert len(published) == count
    assert published[-1].params["user_id"] == "U111"
    view: dict[str, Any] = published[-1].params["view"]
    return view
