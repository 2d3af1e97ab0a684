"""App Home: the technician's own open items with the reminders' buttons, refreshed after every change.

Ana (U111) is a technician in Chicago; Bo (U222) is a manager in Berlin (MANAGER_IDS=U222 here).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.settings import Settings
from handlers.slack.listeners import HOME_SETTLE_S
from handlers.slack.standin import SlackStandIn
from storage.models import Promise, Touch, TouchKind, Visit
from tests.harness import FrozenClock, SlackClient, button, buttons, payload, text_of
from tests.reminders import chicago, introduce

SLOW_SLACK_S = 5


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Bo is a manager; Ana is not."""
    return settings.model_copy(update={"manager_ids": "U222"})


def homes(fake: SlackStandIn, user: str = "U111") -> list[dict[str, Any]]:
    """Every App Home view published for `user`, oldest first."""
    return [call.params["view"] for call in fake.calls("views.publish") if call.params["user_id"] == user]


def wait_for_home(
    fake: SlackStandIn,
    until: Callable[[str], bool],
    *,
    user: str = "U111",
    after: int = 0,
    timeout: float = 5.0,
) -> dict[str, Any]:
    """The latest Home published for `user` (beyond the first `after`) once its text satisfies `until`.

    Homes are republished in the background after each change, so the test waits for the one showing
    the state it expects; a Home that never does fails with the last one published.
    """
    deadline = time.monotonic() + timeout
    while True:
        published = homes(fake, user)[after:]
        if published and until(text_of(published[-1])):
            view = published[-1]
            assert view["type"] == "home"
            return view
        if time.monotonic() > deadline:
            last = text_of(published[-1]) if published else "(none)"
            raise AssertionError(f"no matching Home for {user} within {timeout}s; the last one:\n{last}")
        time.sleep(0.02)


def open_home(
    slack: SlackClient,
    fake: SlackStandIn,
    until: Callable[[str], bool] = lambda _: True,
    *,
    user: str = "U111",
) -> dict[str, Any]:
    """Open App Home as `user`, and return the view published for it."""
    before = len(homes(fake, user))
    event = payload("app_home_opened")
    event["event"]["user"] = user
    assert slack.event(event).status_code == 200
    return wait_for_home(fake, until, user=user, after=before)


def lines(view: dict[str, Any]) -> list[str]:
    """The Home's text, line by line (buttons included, in block order)."""
    return text_of(view).split("\n")


def labels(view: dict[str, Any]) -> list[str]:
    """Every button's label, in order."""
    return [found["text"]["text"] for found in buttons(view)]


@pytest.fixture
def seeded(slack: SlackClient, session: Session, clock: FrozenClock, fake_slack: SlackStandIn) -> None:
    """Ana's week up to Thursday 26 November, 9:00 in Chicago, and Bo's bakery visit."""
    introduce(slack, session)
    introduce(slack, session, user="U222")
    clock.now = chicago(11, 23, 9)
    for text in (
        'contact "Acme Dental" Jane Roe jane@acme.example +1 555 0100',
        'contact "Northwind" Sam Lee +1 555 0199',
        "cadence Northwind 2",
    ):
        assert slack.command(text).status_code == 200
    assert slack.command("Bo Bakery 2h new router", user="U222").status_code == 200
    clock.now = chicago(11, 26, 9)
    for text in (
        "Acme Dental 1h30 replaced fuser; todo: order toner",
        "plan Acme Dental today 2-3pm",
        "plan Northwind Friday 10-11am",
        "cancel Northwind client closed for the day",
    ):
        assert slack.command(text).status_code == 200
    promise = slack.command("Acme Dental send the revised quote by Friday", command="/promise")
    assert promise.status_code == 200
    # Ana opens her Home once it holds all of that.
    open_home(slack, fake_slack, lambda text: "Promises by due date (1)" in text)


MY_HOME = [
    "What's open",
    "Follow-ups to send (1)",
    "*Acme Dental*, Thu 26 Nov (1h30): replaced fuser",
    "Here's the follow-up e-mail for Jane Roe (jane@acme.example):",
]
MY_ITEMS = [
    "Calls to make (1)",
    "*Northwind*: you cancelled Fri 27 Nov, 10–11am. Please phone them: Sam Lee, +1 555 0199.",
    "Spoke to them",
    "Left voicemail",
    "Promises by due date (1)",
    "#1 *Acme Dental*: send the revised quote. It's due Fri 27 Nov.",
    "Kept",
    "Move",
    "Appointments coming up (1)",
    "*Acme Dental*: Thu 26 Nov, 2–3pm. Contact: Jane Roe, +1 555 0100.",
    "Running late",
    "Check-ins due (1)",
    "*Northwind*: no touch logged yet (every 2 days). Contact: Sam Lee, +1 555 0199.",
    "Log a call",
    "Log an e-mail",
    "Log a meeting",
    "Snooze 3 days",
    "Your settings",
    ":clock8: Working hours: Mon–Fri, 8am–6pm (America/Chicago)",
    ":earth_africa: Time zone: America/Chicago, from your Slack profile",
    ":bell: Reminders: on",
    ":ballot_box_with_check: Reminders you get: follow-up e-mails, calls after cancellations, promises, "
    "check-ins, appointment mornings",
    "Change settings",
]


@pytest.mark.usefixtures("seeded")
def test_the_home_shows_my_open_items_with_the_reminders_buttons_and_my_settings(
    slack: SlackClient, fake_slack: SlackStandIn
) -> None:
    view = open_home(slack, fake_slack)

    shown = lines(view)
    assert shown[:4] == MY_HOME
    assert "What was done: replaced fuser" in shown
    assert shown[shown.index("Snooze until tomorrow") + 1 :] == MY_ITEMS
    assert [block["text"]["text"] for block in view["blocks"] if block["type"] == "header"] == [
        "What's open",
        "Follow-ups to send (1)",
        "Calls to make (1)",
        "Promises by due date (1)",
        "Appointments coming up (1)",
        "Check-ins due (1)",
        "Your settings",
    ]
    assert [(found["text"]["text"], found["action_id"], found["value"]) for found in buttons(view)] == [
        ("Mark sent", "followup.sent#0", "2"),
        ("Snooze until tomorrow", "followup.snooze#1", "2"),
        ("Spoke to them", "call.logged#0", "2:spoke"),
        ("Left voicemail", "call.logged#1", "2:voicemail"),
        ("Kept", "promise.kept#0", "1"),
        ("Move", "promise.movehint#1", "1"),
        ("Running late", "appointment.late#0", "1"),
        ("Log a call", "checkin.touch#0", "2:call"),
        ("Log an e-mail", "checkin.touch#1", "2:email"),
        ("Log a meeting", "checkin.touch#2", "2:meeting"),
        ("Snooze 3 days", "checkin.snooze#3", "2"),
        ("Change settings", "home.settings#0", "open"),
    ]


@pytest.mark.usefixtures("seeded")
def test_a_technicians_home_shows_nobody_elses_names_items_or_the_team(
    slack: SlackClient, fake_slack: SlackStandIn
) -> None:
    open_home(slack, fake_slack)

    for view in homes(fake_slack, "U111"):
        shown = text_of(view)
        assert "Bo" not in shown
        assert "new router" not in shown
        assert "Team overview" not in shown
        assert "digest.request#0" not in [found["action_id"] for found in buttons(view)]


@pytest.mark.usefixtures("seeded")
def test_a_managers_home_adds_the_team_overview_as_text_with_the_digest_button(
    slack: SlackClient, fake_slack: SlackStandIn
) -> None:
    view = open_home(slack, fake_slack, user="U222")

    shown = lines(view)
    team = shown.index("Team overview")
    assert shown[team:] == [
        "Team overview",
        "*Ana*: 1 visit this week · 0 follow-ups unsent over 24 h · 1 call to make · 0 promises overdue · "
        "1 client due a check-in",
        "*Bo*: 1 visit this week · 1 follow-up unsent over 24 h · 0 calls to make · 0 promises overdue · "
        "0 clients due a check-in",
        "Send me the digest",
        "Your settings",
        ":clock8: Working hours: Mon–Fri, 8am–6pm (Europe/Berlin)",
        ":earth_africa: Time zone: Europe/Berlin, from your Slack profile",
        ":bell: Reminders: on",
        ":ballot_box_with_check: Reminders you get: follow-up e-mails, calls after cancellations, promises, "
        "check-ins, appointment mornings",
        "Change settings",
    ]
    # Bo's own items only; Ana's appear as counts, never as items or buttons acting on them.
    assert shown[:3] == ["What's open", "Follow-ups to send (1)", "*Bo Bakery*, Mon 23 Nov (2h): new router"]
    assert "Acme Dental" not in text_of(view)
    assert [found["action_id"] for found in buttons(view)] == [
        "followup.sent#0",
        "followup.snooze#1",
        "digest.request#0",
        "home.settings#0",
    ]


def test_a_home_with_nothing_open_says_so_and_still_shows_the_settings(
    slack: SlackClient, fake_slack: SlackStandIn
) -> None:
    view = open_home(slack, fake_slack)

    assert lines(view)[:3] == [
        "What's open",
        "Nothing open: no follow-ups, calls, promises or check-ins waiting. :sparkles:",
        "Your settings",
    ]
    assert labels(view) == ["Change settings"]


@pytest.mark.usefixtures("seeded")
def test_log_a_call_on_the_home_logs_the_touch_and_republishes_the_home_with_the_answer_on_top(
    slack: SlackClient, fake_slack: SlackStandIn, session: Session, clock: FrozenClock
) -> None:
    view = open_home(slack, fake_slack)
    published = len(homes(fake_slack))
    clock.advance(minutes=30)

    response = slack.press(button(view, "Log a call"), container="view", name="home-press")

    assert response.status_code == 200
    refreshed = wait_for_home(fake_slack, lambda text: "Check-ins due" not in text, after=published)
    assert lines(refreshed)[:2] == [
        "What's open",
        ":white_check_mark: Logged a call with *Northwind*. Next check-in by Sat 28 Nov.",
    ]
    assert "Calls to make (1)" in lines(refreshed)
    [touch] = session.scalars(select(Touch).where(Touch.kind == TouchKind.CALL)).all()
    assert touch.touched_at == chicago(11, 26, 9, 30)
    # The answer is on the Home: nothing is posted to the press's response URL.
    assert fake_slack.responses("home-press") == []


@pytest.mark.usefixtures("seeded")
def test_mark_sent_and_kept_on_the_home_close_the_items_and_republish_it(
    slack: SlackClient, fake_slack: SlackStandIn, session: Session
) -> None:
    view = open_home(slack, fake_slack)

    slack.press(button(view, "Mark sent"), container="view", name="home-sent")
    slack.press(button(view, "Kept"), container="view", name="home-kept")

    refreshed = wait_for_home(
        fake_slack, lambda text: "Follow-ups to send" not in text and "Promises by due date" not in text
    )
    assert "Calls to make (1)" in lines(refreshed)
    assert session.scalars(select(Visit).where(Visit.followup_sent_at.is_not(None))).one().minutes == 90
    assert session.scalars(select(Promise)).one().done_at == chicago(11, 26, 9)


@pytest.mark.usefixtures("seeded")
def test_another_technicians_button_value_replayed_on_my_home_changes_nothing(
    slack: SlackClient, fake_slack: SlackStandIn, session: Session
) -> None:
    view = open_home(slack, fake_slack)
    published = len(homes(fake_slack, "U222"))

    slack.press(button(view, "Mark sent"), user="U222", container="view", name="replayed")

    refreshed = wait_for_home(fake_slack, lambda _: True, user="U222", after=published)
    assert lines(refreshed)[:2] == [
        "What's open",
        ":warning: That visit isn't one of yours, so I can't mark its follow-up.",
    ]
    assert session.scalars(select(Visit).where(Visit.followup_sent_at.is_not(None))).all() == []


def test_a_command_republishes_the_home_after_the_ack(
    slack: SlackClient, fake_slack: SlackStandIn, session: Session
) -> None:
    introduce(slack, session)
    open_home(slack, fake_slack, lambda text: "Nothing open" in text)
    published = len(homes(fake_slack))
    fake_slack.delay("views.publish", SLOW_SLACK_S)

    response = slack.command("Acme Dental 1h30 replaced fuser")
    answered_at = time.monotonic()

    assert response.json()["text"] == "Logged 1h30 at Acme Dental"
    view = wait_for_home(
        fake_slack, lambda text: "Follow-ups to send (1)" in text, after=published, timeout=SLOW_SLACK_S + 5
    )
    assert lines(view)[2] == "*Acme Dental*, Mon 23 Nov (1h30): replaced fuser"
    [publish] = fake_slack.calls("views.publish")[published:]
    # The fake holds views.publish for 5 s after receiving it: an answer before then did not wait for it.
    assert answered_at < publish.received_at + SLOW_SLACK_S


def test_a_burst_of_commands_publishes_the_home_far_fewer_times_and_ends_up_current(
    slack: SlackClient, fake_slack: SlackStandIn, session: Session
) -> None:
    introduce(slack, session)
    open_home(slack, fake_slack, lambda text: "Nothing open" in text)
    published = len(homes(fake_slack))
    fake_slack.delay("views.publish", 1)

    for number in range(1, 9):
        assert slack.command(f"Client {number} 1h fixed it").status_code == 200

    wait_for_home(fake_slack, lambda text: "Follow-ups to send (8)" in text, after=published, timeout=15)
    # One publish under way when the burst began, and one more with everything: never one per command.
    assert len(homes(fake_slack)) - published <= 3


def test_someone_who_never_opened_their_home_gets_no_publish_after_a_command(
    slack: SlackClient, fake_slack: SlackStandIn, session: Session
) -> None:
    introduce(slack, session)

    assert slack.command("Acme Dental 1h30 replaced fuser").json()["text"] == "Logged 1h30 at Acme Dental"

    # Opening the Home publishes it afresh, so nothing is lost by not publishing it after each change.
    time.sleep(HOME_SETTLE_S + 0.5)
    assert homes(fake_slack) == []
    view = open_home(slack, fake_slack)
    assert "*Acme Dental*, Mon 23 Nov (1h30): replaced fuser" in lines(view)
