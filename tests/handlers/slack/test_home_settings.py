"""App Home settings: "Change settings" opens the form; bad input is refused per field, good input stored."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.slack.standin import SlackStandIn
from storage.models import Technician
from tests.handlers.slack.test_home import homes, lines, open_home, wait_for_home
from tests.harness import SlackClient, button, payload
from tests.reminders import introduce

ALL_KINDS = ("followup", "call", "promise", "checkin", "appointment")


def submit_settings(
    slack: SlackClient,
    *,
    hours: str = "8-18",
    days: str = "mon-fri",
    timezone: str = "",
    pause: str = "",
    kinds: Iterable[str] = ALL_KINDS,
    user: str = "U111",
    view_id: str = "VSETTINGS",
) -> httpx.Response:
    """Submit the settings form as Slack sends it: text inputs and the ticked kinds of reminder."""
    body = payload("view_submission")
    body["user"]["id"] = user
    body["view"].update(id=view_id, callback_id="home.settings")
    state: dict[str, Any] = {
        field: {field: {"type": "plain_text_input", "value": value}}
        for field, value in (("hours", hours), ("days", days), ("timezone", timezone), ("pause", pause))
    }
    state["kinds"] = {
        "kinds": {"type": "checkboxes", "selected_options": [{"value": kind} for kind in kinds]}
    }
    body["view"]["state"]["values"] = state
    return slack.post(b"payload=" + quote(json.dumps(body)).encode())


def technician(session: Session, user: str = "U111") -> Technician:
    """The technician's stored row."""
    return session.scalars(select(Technician).where(Technician.user_id == user)).one()


def stored_settings(session: Session) -> tuple[Any, ...]:
    row = technician(session)
    return (
        row.work_start_minute,
        row.work_end_minute,
        row.work_days,
        row.timezone_override,
        row.paused_until,
        row.muted_kinds,
    )


def test_change_settings_opens_the_form_with_the_press_trigger_id_and_my_current_settings(
    slack: SlackClient, fake_slack: SlackStandIn, session: Session
) -> None:
    introduce(slack, session)
    view = open_home(slack, fake_slack)

    response = slack.press(button(view, "Change settings"), container="view", name="settings")

    assert response.status_code == 200
    [opened] = fake_slack.wait_for("views.open")
    assert opened.params["trigger_id"] == "1111.2222.abcd"
    modal = opened.params["view"]
    assert modal["callback_id"] == "home.settings"
    assert modal["title"]["text"] == "Your settings"
    inputs = {block["block_id"]: block["element"] for block in modal["blocks"] if block["type"] == "input"}
    assert {field: element.get("initial_value") for field, element in inputs.items()} == {
        "hours": "8-18",
        "days": "mon–fri",
        "timezone": None,
        "pause": None,
        "kinds": None,
    }
    assert [option["value"] for option in inputs["kinds"]["initial_options"]] == list(ALL_KINDS)
    assert [option["text"]["text"] for option in inputs["kinds"]["options"]] == [
        "Follow-up e-mails",
        "Calls after cancellations",
        "Promises",
        "Check-ins",
        "Appointment mornings",
    ]
    assert fake_slack.responses("settings") == []


def test_a_bad_settings_form_gets_an_error_with_an_example_on_each_field_and_stores_nothing(
    slack: SlackClient, fake_slack: SlackStandIn, session: Session
) -> None:
    introduce(slack, session)
    before = stored_settings(session)

    response = submit_settings(
        slack, hours="8-25", days="mon-funday", timezone="Mars/Olympus", pause="yesterday", kinds=("call",)
    )

    assert response.status_code == 200
    assert response.json() == {
        "response_action": "errors",
        "errors": {
            "hours": "Working hours fit in one day, from 0:00 to 23:59. For example: 8-18 or 7:30-16.",
            "days": "I can't read “mon-funday” as days of the week. For example: mon-fri, or mon, wed, fri.",
            "timezone": "I don't know the time zone “Mars/Olympus”. Use a name like Europe/Berlin or "
            "America/Chicago, or leave it blank for your Slack profile's.",
            "pause": "Pick a day after today: your reminders start again that morning. For example: Monday, "
            "in 2 weeks or 2026-12-07; blank: not paused.",
        },
    }
    assert stored_settings(session) == before


def test_good_settings_are_stored_and_the_home_shows_them(
    slack: SlackClient, fake_slack: SlackStandIn, session: Session
) -> None:
    introduce(slack, session)
    open_home(slack, fake_slack)
    published = len(homes(fake_slack))

    response = submit_settings(
        slack,
        hours="7:30-16",
        days="mon, wed, fri",
        timezone="europe/berlin",
        pause="2026-12-07",
        kinds=("followup", "call", "promise"),
    )

    assert response.status_code == 200
    assert response.content == b""
    assert stored_settings(session) == (
        450,
        960,
        "024",
        "Europe/Berlin",
        date(2026, 12, 7),
        "checkin,appointment",
    )
    view = wait_for_home(fake_slack, lambda text: "your choice" in text, after=published)
    assert lines(view)[:2] == [
        "What's open",
        ":palm_tree: Reminders paused until Mon 7 Dec. Change it under Your settings.",
    ]
    assert lines(view)[-6:] == [
        "Your settings",
        ":clock8: Working hours: Mon, Wed, Fri, 7:30am–4pm (Europe/Berlin)",
        ":earth_africa: Time zone: Europe/Berlin, your choice; your Slack profile says America/Chicago",
        ":palm_tree: Reminders paused until Mon 7 Dec",
        ":ballot_box_with_check: Reminders you get: follow-up e-mails, calls after cancellations, promises. "
        "Off: check-ins, appointment mornings",
        "Change settings",
    ]
    # No DM about it: the Home shows the change where it was made.
    assert fake_slack.calls("chat.postMessage") == []


def test_clearing_the_zone_and_the_pause_goes_back_to_the_profile_and_unpauses(
    slack: SlackClient, fake_slack: SlackStandIn, session: Session
) -> None:
    introduce(slack, session)
    submit_settings(slack, timezone="Europe/Berlin", pause="2026-12-07", view_id="V1")

    submit_settings(slack, view_id="V2")

    assert stored_settings(session) == (480, 1080, "01234", None, None, "")
    assert technician(session).timezone == "America/Chicago"
    wait_for_home(fake_slack, lambda text: "America/Chicago, from your Slack profile" in text)
