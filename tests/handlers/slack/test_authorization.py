"""Every button and form is checked against who sent it, through signed requests to the real endpoint.

Bo (U222) replays or edits payloads that name Ana's (U111) items; someone in another workspace sends
Ana's ids; garbage values arrive; malformed payloads arrive. Each gets a polite refusal (or a quiet 200),
and the database is exactly as it was.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import clients, digest, feedback, home, notices, nudges, proactive, promises, roster, visits
from bot.settings import Settings
from handlers.slack.standin import SlackStandIn
from storage.models import (
    Appointment,
    Client,
    Feedback,
    NeedDismissal,
    Notice,
    Nudge,
    ProcessedRequest,
    Promise,
    Risk,
    Technician,
    Touch,
    Visit,
)
from tests.handlers.slack.support import wait_for_profile
from tests.harness import FrozenClock, SlackClient, payload, text_of
from tests.reminders import chicago, introduce

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """U333 is a manager; Ana and Bo are not."""
    return settings.model_copy(update={"manager_ids": "U333"})


@pytest.fixture(autouse=True)
def anas_items(slack: SlackClient, session: Session, clock: FrozenClock) -> None:
    """Ana's visit #1, call task (appointment #1), wide appointment #2, promise #1, client #1, change
    notice #1, and client #1 at risk (risk #1)."""
    introduce(slack, session)
    clock.now = chicago(11, 23, 9)
    slack.command('contact "Acme Dental" Jane Roe jane@acme.example +1 555 0100')
    slack.command("Acme Dental 1h30 replaced fuser; todo: order toner")
    slack.command("plan Acme Dental Wednesday 10-11am")
    slack.command("cancel Acme Dental technician ill")
    slack.command("plan Acme Dental Thursday 8am-12pm")
    slack.command("Acme Dental send the quote by Friday", command="/promise")
    slack.command("cadence Acme Dental 7")
    slack.command('notify Acme Dental "reboot the mail server" Saturday 22:00-23:00')
    slack.command("feedback Acme Dental 1 waited a week")
    slack.command("help", user="U222")
    wait_for_profile(session, "U222")
    # Ana's check-in is overdue, so the check-in buttons would act if they were hers to press.
    clock.now = chicago(12, 3, 9)


def snapshot(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row a button or a form could change."""
    return {
        "visits": [
            (v.id, v.technician_id, v.followup_sent_at, v.followup_snoozed_until, v.minutes)
            for v in session.scalars(select(Visit).order_by(Visit.id))
        ],
        "appointments": [
            (a.id, a.technician_id, a.status, a.window_start, a.window_end, a.call_logged_at)
            for a in session.scalars(select(Appointment).order_by(Appointment.id))
        ],
        "promises": [
            (p.id, p.technician_id, p.due_at, p.done_at, p.times_moved)
            for p in session.scalars(select(Promise).order_by(Promise.id))
        ],
        "clients": [
            (
                c.id,
                c.owner_id,
                c.last_touch_at,
                c.checkin_snoozed_until,
                c.checkin_cadence_days,
                c.contact_name,
                c.name,
                c.archived_at,
            )
            for c in session.scalars(select(Client).order_by(Client.id))
        ],
        "touches": [
            (t.id, t.kind, t.technician_id) for t in session.scalars(select(Touch).order_by(Touch.id))
        ],
        "technicians": [
            (t.id, t.user_id, t.work_start_minute, t.work_end_minute, t.work_days, t.paused_until)
            for t in session.scalars(select(Technician).order_by(Technician.id))
        ],
        "preferences": [
            (t.id, t.timezone_override, t.muted_kinds)
            for t in session.scalars(select(Technician).order_by(Technician.id))
        ],
        "nudges": [(n.id, n.kind, n.subject) for n in session.scalars(select(Nudge).order_by(Nudge.id))],
        "notices": [
            (n.id, n.acknowledged_at, n.acknowledged_via)
            for n in session.scalars(select(Notice).order_by(Notice.id))
        ],
        "feedback": [
            (f.id, f.score, f.client_id) for f in session.scalars(select(Feedback).order_by(Feedback.id))
        ],
        "risks": [
            (r.id, r.repaired_at, r.closed_at, r.client_id)
            for r in session.scalars(select(Risk).order_by(Risk.id))
        ],
        "dismissals": [
            (d.id, d.topic, d.raised_at)
            for d in session.scalars(select(NeedDismissal).order_by(NeedDismissal.id))
        ],
        "asked": [(c.id, c.feedback_asked_at) for c in session.scalars(select(Client).order_by(Client.id))],
        "requests": [
            (r.key,) for r in session.scalars(select(ProcessedRequest).order_by(ProcessedRequest.key))
        ],
    }


class Forger:
    """Sends block_actions with any action id, value, user and workspace, signed as Slack would."""

    def __init__(self, slack: SlackClient, fake: SlackStandIn) -> None:
        self.slack, self.fake = slack, fake
        self.count = 0

    def body(self, action_id: str, value: str, *, user: str, team: str) -> dict[str, Any]:
        self.count += 1
        body = payload("block_actions")
        body["user"].update(id=user, team_id=team)
        body["team"]["id"] = team
        body["response_url"] = self.fake.response_url(f"forged-{self.count}")
        body["actions"][0].update(action_id=f"{action_id}#0", value=value)
        body["actions"][0]["text"]["text"] = "Button"
        return body

    def send(self, body: dict[str, Any]) -> httpx.Response:
        return self.slack.post(b"payload=" + quote(json.dumps(body)).encode())

    def press(self, action_id: str, value: str, *, user: str = "U222", team: str = "T111") -> list[str]:
        """Press and return the lines of the answer that replaced the message."""
        body = self.body(action_id, value, user=user, team=team)
        response = self.send(body)
        assert (response.status_code, response.text) == (200, "")
        [answer] = self.fake.wait_for_responses(body["response_url"].rsplit("/", 1)[1])
        assert answer.params["replace_original"] is True
        return text_of(answer.params).split("\n")


@pytest.fixture
def forger(slack: SlackClient, fake_slack: SlackStandIn) -> Forger:
    return Forger(slack, fake_slack)


NOT_YOUR_VISIT = ":warning: That visit isn't one of yours."
NOT_YOUR_APPOINTMENT = ":warning: That appointment isn't one of yours."
NOT_YOUR_CLIENT = ":warning: That client's check-ins are looked after by someone else."
NOT_YOUR_SUGGESTION = (
    ":warning: That client is looked after by someone else: their owner decides about its suggestions."
)
NOT_A_MANAGER = (
    ":warning: Only managers can ask for the team digest: whoever runs Nudgebot lists them in the "
    "MANAGER_IDS setting, and can add you like this."
)
# Ana's items, as the buttons she was given name them: (action id, value, Bo's refusal).
ANAS_BUTTONS = [
    (visits.FOLLOWUP_SENT, "1", ":warning: That visit isn't one of yours, so I can't mark its follow-up."),
    (visits.CALL_LOGGED, "1:spoke", NOT_YOUR_APPOINTMENT),
    (visits.CALL_LOGGED, "1:voicemail", NOT_YOUR_APPOINTMENT),
    (visits.NARROW_WINDOW, "2", NOT_YOUR_APPOINTMENT),
    (promises.KEPT, "1", ":warning: Promise #1 isn't one of yours."),
    (nudges.SNOOZE_FOLLOWUP, "1", NOT_YOUR_VISIT),
    (nudges.CHECKIN_TOUCH, "1:call", NOT_YOUR_CLIENT),
    (nudges.CHECKIN_TOUCH, "1:email", NOT_YOUR_CLIENT),
    (nudges.CHECKIN_SNOOZE, "1", NOT_YOUR_CLIENT),
    (nudges.RUNNING_LATE, "2", NOT_YOUR_APPOINTMENT),
    (nudges.MOVE_HINT, "1", ":warning: That promise isn't one of yours."),
    (
        roster.ARCHIVE,
        "1",
        ":warning: Only Acme Dental's owner (Ana) or a manager can archive it. Ask them, or a manager.",
    ),
    (
        roster.MERGE,
        '{"from": 1, "into": 1}',
        ":warning: Only Acme Dental's owner (Ana) or a manager can merge it. Ask them, or a manager.",
    ),
    (notices.ACKNOWLEDGED, "1", ":warning: That notice isn't one of yours."),
    (notices.CALLED, "1", ":warning: That notice isn't one of yours."),
    (
        feedback.ASKED,
        "1",
        ":warning: That client is looked after by someone else: their owner asks them how we're doing.",
    ),
    (proactive.RAISED, "1:printer", NOT_YOUR_SUGGESTION),
    (proactive.NOT_USEFUL, "1:printer", NOT_YOUR_SUGGESTION),
    (digest.REQUEST, "now", NOT_A_MANAGER),
]
# Anyone on the team may record what a client said, or phone an unhappy client and log the repair, as
# they may with `/visit feedback` and `/visit call`; another workspace may not.
TEAM_BUTTONS = [(feedback.MOOD, "c:1:5"), (feedback.MOOD, "c:1:1"), (feedback.REPAIR_CALL, "1")]


def test_every_action_id_the_bot_hands_out_is_covered_here() -> None:
    """A new button must join ANAS_BUTTONS (or the tests below): grep bot/ for "area.verb" constants."""
    found: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        found.update(re.findall(r'^[A-Z_]+ = "([a-z]+\.[a-z]+)"$', path.read_text(), re.MULTILINE))
    forms_ids = {"visit.log", "promise.add", "home.settings"}
    # The next page of a client list changes nothing: anyone may turn it.
    covered = {action for action, _, _ in ANAS_BUTTONS} | {clients.CHOOSE, home.SETTINGS, roster.PAGE}
    covered |= {action for action, _ in TEAM_BUTTONS}
    assert found - forms_ids - covered == set()
    assert found >= covered


@pytest.mark.parametrize(("action", "value", "refusal"), ANAS_BUTTONS)
def test_pressing_a_button_that_names_someone_elses_item_changes_nothing(
    forger: Forger, session: Session, action: str, value: str, refusal: str
) -> None:
    before = snapshot(session)

    answer = forger.press(action, value, user="U222")

    assert answer[0] == refusal
    assert snapshot(session) == before


@pytest.mark.parametrize(("action", "value", "refusal"), ANAS_BUTTONS[:-1])
def test_the_same_ids_from_another_workspace_are_refused(
    forger: Forger, session: Session, action: str, value: str, refusal: str
) -> None:
    before = snapshot(session)

    answer = forger.press(action, value, user="U111", team="T999")

    assert answer[0].startswith(":warning: ")
    assert any(said in answer[0] for said in ("one of yours", "someone else", "no promise"))
    # The other workspace's first visit leaves its workspace and technician rows, nothing of Ana's.
    after = snapshot(session)
    for table in ("visits", "appointments", "promises", "clients", "touches", "nudges"):
        assert after[table] == before[table]


@pytest.mark.parametrize(("action", "value"), TEAM_BUTTONS)
def test_the_teams_buttons_with_ids_from_another_workspace_are_refused(
    forger: Forger, session: Session, action: str, value: str
) -> None:
    before = snapshot(session)

    answer = forger.press(action, value, user="U111", team="T999")

    assert (
        answer[0] == ":warning: That client isn't one of yours here, or is gone (merged, perhaps)."
        or answer[0] == ":warning: That client isn't one of yours here, or the button is out of date."
    )
    after = snapshot(session)
    for table in ("clients", "touches", "feedback", "risks", "asked"):
        assert after[table] == before[table]


ACTING_ON_IDS = [action for action, value, _ in ANAS_BUTTONS if action != digest.REQUEST]
ACTING_ON_IDS += [action for action, _ in TEAM_BUTTONS]


GARBAGE_VALUES = ["999", "0", "-1", "", "abc", "1.5", "99999999999999999999", "1:bogus", " ", "null", "💥"]


@pytest.mark.parametrize("action", sorted(set(ACTING_ON_IDS)))
def test_a_missing_id_or_a_garbage_value_is_refused_politely(
    forger: Forger, session: Session, action: str
) -> None:
    before = snapshot(session)

    # One bot for all the values of an action: each press is its own request, and nothing may change.
    for value in GARBAGE_VALUES:
        answer = forger.press(action, value, user="U222")

        assert answer[0].startswith(":warning: "), value
        assert "Something went wrong" not in answer[0], value
    assert snapshot(session) == before


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        "[]",
        '{"c": "visit"}',
        '{"c": "rm -rf", "t": "x", "k": "", "n": false}',
        '{"c": "visit", "t": 5, "k": null, "n": "yes"}',
    ],
)
def test_a_garbage_did_you_mean_value_is_refused(forger: Forger, session: Session, value: str) -> None:
    before = snapshot(session)

    answer = forger.press(clients.CHOOSE, value)

    assert answer[0].startswith(":warning: ")
    assert snapshot(session) == before


def test_an_edited_did_you_mean_value_acts_only_as_the_presser(forger: Forger, session: Session) -> None:
    before = snapshot(session)
    report = json.dumps({"c": "visit", "t": "report Acme Dental", "k": "k1", "n": False, "u": "U222"})
    log = json.dumps({"c": "promise", "t": "done 1", "k": "k2", "n": False, "u": "U222"})

    assert forger.press(clients.CHOOSE, report)[0].startswith(
        ":warning: Only the technicians who look after Acme Dental and managers can produce its report."
    )
    assert forger.press(clients.CHOOSE, log) == [
        ":warning: Promise #1 isn't one of yours.",
        "For example:",
        "/promise list",
    ]
    assert snapshot(session) == before


def test_someone_elses_did_you_mean_value_is_refused_and_keeps_their_answer(
    forger: Forger, session: Session
) -> None:
    before = snapshot(session)
    anas = json.dumps({"c": "visit", "t": '"Acme Dental" 1h fixed it', "k": "k3", "n": False, "u": "U111"})

    assert forger.press(clients.CHOOSE, anas, user="U222") == [
        ":warning: That question was for someone else; type the command yourself."
    ]
    assert snapshot(session) == before


def test_an_empty_actions_list_gets_a_200_and_changes_nothing(
    forger: Forger, session: Session, fake_slack: SlackStandIn
) -> None:
    before = snapshot(session)
    for actions in ([], None, "x", [None], ["x"], [{"action_id": 5, "value": {"a": 1}}]):
        body = forger.body(visits.FOLLOWUP_SENT, "1", user="U111", team="T111")
        body["actions"] = actions
        response = forger.send(body)
        assert response.status_code == 200, actions
    assert snapshot(session) == before


MALFORMED_VIEWS: list[Any] = [
    None,
    "garbage",
    {"callback_id": "visit.log", "id": "V1"},
    {"type": "modal", "callback_id": "visit.log", "id": "V2", "state": "garbage"},
    {"type": "modal", "callback_id": "visit.log", "id": "V3", "state": None},
    {"type": "modal", "callback_id": "visit.log", "id": "V4", "state": {"values": "x"}},
    {"type": "modal", "callback_id": "visit.log", "id": "V5", "state": {"values": {"client": "x"}}},
    {
        "type": "modal",
        "callback_id": "visit.log",
        "id": "V6",
        "state": {"values": {"client": {"c": "x"}}},
    },
    {
        "type": "modal",
        "callback_id": "promise.add",
        "id": "V7",
        "state": {"values": {"client": {"c": None}}},
    },
    {
        "type": "modal",
        "callback_id": "home.settings",
        "id": "V8",
        "state": {"values": {"kinds": {"kinds": {"type": "checkboxes", "selected_options": "x"}}}},
    },
    {
        "type": "modal",
        "callback_id": "home.settings",
        "id": "V9",
        "state": {"values": {"kinds": {"kinds": {"type": "checkboxes", "selected_options": [None, 5]}}}},
    },
]


def test_a_malformed_form_submission_gets_a_200_and_changes_nothing(
    slack: SlackClient, session: Session
) -> None:
    before = snapshot(session)

    for view in MALFORMED_VIEWS:
        body = payload("view_submission")
        body["user"]["id"] = "U222"
        body["view"] = view

        response = slack.post(b"payload=" + quote(json.dumps(body)).encode())

        assert response.status_code == 200, view
    assert snapshot(session) == before


def test_forms_submitted_by_bo_change_only_bos_data(
    slack: SlackClient, session: Session, fake_slack: SlackStandIn
) -> None:
    before = snapshot(session)

    for view_id, callback, values in (
        ("VV", "visit.log", {"client": "Acme Dental", "duration": "1h", "work_done": "new cable"}),
        ("VP", "promise.add", {"client": "Acme Dental", "text": "call back", "due": "Friday"}),
        ("VS", "home.settings", {"hours": "7-15", "days": "mon-thu", "timezone": "Asia/Tokyo", "pause": ""}),
    ):
        response = slack.submit(callback, values, user="U222", view_id=view_id)
        assert response.status_code == 200
        assert '"errors"' not in response.text, response.text
    # The visit and the promise are confirmed by DM; the settings show on Bo's refreshed Home.
    fake_slack.wait_for("chat.postMessage", count=2)
    deadline = time.monotonic() + 10
    while (
        session.scalars(select(Technician.work_start_minute).where(Technician.user_id == "U222")).one() != 420
    ):
        assert time.monotonic() < deadline, "Bo's settings were not saved"
        session.rollback()
        time.sleep(0.02)

    after = snapshot(session)
    bo = session.scalars(select(Technician).where(Technician.user_id == "U222")).one()
    ana = session.scalars(select(Technician).where(Technician.user_id == "U111")).one()
    assert after["visits"][: len(before["visits"])] == before["visits"]
    assert [v[1] for v in after["visits"][len(before["visits"]) :]] == [bo.id]
    assert after["promises"][: len(before["promises"])] == before["promises"]
    assert [p[1] for p in after["promises"][len(before["promises"]) :]] == [bo.id]
    assert after["appointments"] == before["appointments"]
    [ana_before] = [t for t in before["technicians"] if t[1] == "U111"]
    [ana_after] = [t for t in after["technicians"] if t[1] == "U111"]
    assert ana_after == ana_before
    assert after["preferences"][0] == before["preferences"][0] == (ana.id, None, "")
    assert (bo.work_start_minute, bo.work_end_minute, bo.work_days, bo.timezone_override) == (
        7 * 60,
        15 * 60,
        "0123",
        "Asia/Tokyo",
    )
    # The client keeps Ana as its owner: Bo's visit is a touch, not a takeover.
    assert [c[1] for c in after["clients"]] == [ana.id]


def test_the_settings_button_opens_only_the_pressers_own_settings(
    forger: Forger, slack: SlackClient, fake_slack: SlackStandIn, session: Session
) -> None:
    slack.command("hours 6-14", user="U111")
    before = snapshot(session)
    body = forger.body(home.SETTINGS, "U111", user="U222", team="T111")
    body["container"] = {"type": "view", "view_id": "VHOME"}
    body["view"] = {"id": "VHOME", "type": "home", "hash": "h1"}

    assert forger.send(body).status_code == 200

    [opened] = fake_slack.wait_for("views.open")
    [hours] = [b for b in opened.params["view"]["blocks"] if b.get("block_id") == "hours"]
    assert hours["element"]["initial_value"] == "8-18"  # Bo's hours, not Ana's 6-14
    assert snapshot(session) == before


def test_only_managers_get_the_digest_on_demand(slack: SlackClient, session: Session) -> None:
    before = snapshot(session)

    refused = slack.command("digest", user="U222").json()

    assert text_of(refused).split("\n")[0] == NOT_A_MANAGER
    assert snapshot(session) == before
    slack.command("digest", user="U333")
    assert len(snapshot(session)["nudges"]) == len(before["nudges"]) + 1


def published_for(slack: SlackClient, fake_slack: SlackStandIn, user: str) -> dict[str, Any]:
    """Open App Home as `user` and return the first view published for them."""
    event = payload("app_home_opened")
    event["event"]["user"] = user
    assert slack.event(event).status_code == 200
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        views = [c for c in fake_slack.calls("views.publish") if c.params["user_id"] == user]
        if views:
            view: dict[str, Any] = views[0].params["view"]
            return view
        time.sleep(0.02)
    raise AssertionError(f"no App Home published for {user}")


def test_only_managers_see_the_team_overview_on_app_home(
    slack: SlackClient, fake_slack: SlackStandIn
) -> None:
    bo = text_of(published_for(slack, fake_slack, "U222"))
    manager = text_of(published_for(slack, fake_slack, "U333"))

    assert "Team overview" not in bo
    assert "Acme Dental" not in bo
    assert "Team overview" in manager


def test_the_digest_button_is_only_on_a_managers_home(slack: SlackClient, fake_slack: SlackStandIn) -> None:
    def action_ids(view: dict[str, Any]) -> list[str]:
        return [
            element["action_id"].split("#")[0]
            for block in view["blocks"]
            for element in [*block.get("elements", []), block.get("accessory") or {}]
            if isinstance(element, dict) and "action_id" in element
        ]

    assert digest.REQUEST not in action_ids(published_for(slack, fake_slack, "U222"))
    assert digest.REQUEST in action_ids(published_for(slack, fake_slack, "U333"))
