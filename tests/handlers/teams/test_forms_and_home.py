"""Teams' stand-ins for Slack's modals and App Home, through real HTTP: `visit` and `promise` typed alone
open a form card; `home` shows what is open with buttons that answer with the refreshed home; `settings`
opens the settings form, saved into the home card."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import digest
from storage.models import Client, Nudge, ProcessedRequest, Promise, Technician, Visit, Workspace
from storage.repositories import count_rows
from tests.fakes.microsoft import FakeMicrosoft
from tests.harness import MONDAY_MORNING, FrozenClock
from tests.teams_client import (
    ANA,
    BO,
    MO,
    TeamsClient,
    action,
    actions,
    ask,
    invoke_message,
    lines,
    pressed,
)

GOOD_VISIT = {
    "client": "Acme Dental",
    "duration": "1h30",
    "work_done": "replaced fuser",
    "remaining": "order toner",
    # No mood chosen: Teams sends the choice set's empty value.
    "mood": "",
    "new_client": "false",
}
GOOD_PROMISE = {
    "client": "Acme Dental",
    "text": "send the revised quote",
    "due": "Friday",
    "new_client": "false",
}
HOW_LONG = "How long? For example 1h30, 90m, 1.5h or 1:30 (up to 24 hours)."
ALREADY_DONE = "I've already acted on that: it reached me twice, and I only do things once."
ALL_KINDS = "followup,call,promise,checkin,appointment"
SETTINGS_AS_DEFAULT = [
    "Your settings",
    "🕗 Working hours: Mon–Fri, 8am–6pm (America/Chicago)",
    "🌍 Time zone: America/Chicago, from your Teams profile",
    "🔔 Reminders: on",
    "☑️ Reminders you get: follow-up e-mails, calls after cancellations, promises, check-ins, "
    "appointment mornings",
]


# -- Helpers ---------------------------------------------------------------------------------------------


def executes(card: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Each Action.Execute on the card: its title, verb and data."""
    return [(a["title"], a["verb"], a["data"]) for a in actions(card) if a["type"] == "Action.Execute"]


def fields(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The form's inputs by id."""
    return {element["id"]: element for element in card["body"] if element["type"].startswith("Input.")}


def typed_in(card: dict[str, Any]) -> dict[str, str]:
    """What each input of the form holds, as Teams would submit it untouched."""
    return {name: str(element.get("value", "")) for name, element in fields(card).items()}


def errors_shown(card: dict[str, Any]) -> dict[str, str]:
    """Each input's error, checked to be also written in red right under it (Teams shows errorMessage
    only after its own checks fail)."""
    found = {}
    body = card["body"]
    for index, element in enumerate(body):
        if element["type"].startswith("Input.") and "errorMessage" in element:
            under = body[index + 1]
            assert under["type"] == "RichTextBlock", under
            assert [(run["text"], run["color"]) for run in under["inlines"]] == [
                (element["errorMessage"], "Attention")
            ]
            found[element["id"]] = element["errorMessage"]
    return found


def submit_button(card: dict[str, Any]) -> dict[str, Any]:
    """The form's one submit action."""
    [submit] = [a for a in actions(card) if a["verb"] == "form.submit"]
    return submit


# -- The visit and promise forms -------------------------------------------------------------------------


def test_visit_and_promise_typed_alone_answer_with_their_form(teams: TeamsClient, session: Session) -> None:
    visit = ask(teams, "visit")
    promise = ask(teams, "/Promise")

    assert lines(visit) == ["Log a visit", "I'll draft the follow-up e-mail from this."]
    assert [(f["id"], f["type"], f.get("label"), f.get("isRequired")) for f in fields(visit).values()] == [
        ("client", "Input.Text", "Client", True),
        ("duration", "Input.Text", "Time spent", True),
        ("work_done", "Input.Text", "What was done", True),
        ("remaining", "Input.Text", "What is left", False),
        ("mood", "Input.ChoiceSet", "How was the client?", False),
        ("new_client", "Input.Toggle", None, None),
    ]
    assert lines(promise) == ["Record a promise"]
    assert list(fields(promise)) == ["client", "text", "due", "new_client"]
    for card, title, kind in ((visit, "Log visit", "visit.log"), (promise, "Save promise", "promise.add")):
        submit = submit_button(card)
        assert (submit["type"], submit["title"], submit["associatedInputs"]) == (
            "Action.Execute",
            title,
            "auto",
        )
        assert submit["data"]["kind"] == kind
        assert re.fullmatch(r"[0-9a-f]{32}", submit["data"]["key"])
    assert submit_button(visit)["data"]["key"] != submit_button(promise)["data"]["key"]
    # Showing a form asks nothing of the database.
    assert count_rows(session, Workspace) == 0


@pytest.mark.parametrize(
    ("command", "values", "errors"),
    [
        ("visit", {**GOOD_VISIT, "duration": "forever"}, {"duration": HOW_LONG}),
        ("visit", {**GOOD_VISIT, "client": "  "}, {"client": "Which client? For example: Acme Dental"}),
        (
            "promise",
            {**GOOD_PROMISE, "text": "", "due": "someday"},
            {
                "text": "What did you promise? For example: send the revised quote",
                "due": "When is it due? For example: Friday, tomorrow 5pm or 2026-12-03",
            },
        ),
    ],
    ids=["bad duration", "no client", "no text or date"],
)
def test_a_bad_form_comes_back_with_the_errors_by_their_fields_and_what_was_typed(
    command: str,
    values: dict[str, str],
    errors: dict[str, str],
    teams: TeamsClient,
    microsoft: FakeMicrosoft,
    session: Session,
) -> None:
    form = ask(teams, command)

    again = pressed(teams, submit_button(form), inputs=values)

    assert errors_shown(again) == errors
    assert typed_in(again) == values
    assert submit_button(again) == submit_button(form)
    for model in (Visit, Promise, Client, Workspace, ProcessedRequest):
        assert count_rows(session, model) == 0, model.__name__
    assert len(microsoft.sent()) == 1


def test_a_good_visit_form_is_answered_with_the_reply_card_and_stored(
    teams: TeamsClient, microsoft: FakeMicrosoft, session: Session
) -> None:
    form = ask(teams, "visit")

    card = pressed(teams, submit_button(form), inputs=GOOD_VISIT)

    assert card["fallbackText"] == "Logged 1h30 at Acme Dental"
    assert lines(card)[0] == "✅ Logged 1h30 at Acme Dental."
    assert "What is left: order toner" in lines(card)
    visit = session.scalars(select(Visit)).one()
    assert (visit.client.name, visit.minutes, visit.work_done, visit.remaining, visit.visited_at) == (
        "Acme Dental",
        90,
        "replaced fuser",
        "order toner",
        MONDAY_MORNING,
    )
    assert executes(card) == [
        ("Mark follow-up sent", "followup.sent", {"value": str(visit.id)}),
        ("Happy 😀", "feedback.mood", {"value": f"c:{visit.client_id}:5"}),
        ("OK 😐", "feedback.mood", {"value": f"c:{visit.client_id}:3"}),
        ("Unhappy 🙁", "feedback.mood", {"value": f"c:{visit.client_id}:1"}),
    ]
    assert session.scalars(select(Technician)).one().user_id == ANA
    # The answer is the invoke's: only the form itself was posted.
    assert len(microsoft.sent()) == 1


def test_a_good_promise_form_is_answered_with_the_reply_card_and_stored(
    teams: TeamsClient, session: Session
) -> None:
    form = ask(teams, "promise")

    card = pressed(teams, submit_button(form), inputs=GOOD_PROMISE)

    promise = session.scalars(select(Promise)).one()
    assert card["fallbackText"] == f"Promise #{promise.id} to Acme Dental, due Fri 27 Nov"
    assert lines(card) == [
        f"🤝 Promise #{promise.id} to Acme Dental: send the revised quote. Due Fri 27 Nov.",
        f"I'll remind you the working day before and on the day. Done early? /promise done {promise.id}",
    ]
    assert (promise.client.name, promise.text) == ("Acme Dental", "send the revised quote")
    assert promise.due_at == datetime(2026, 11, 28, 5, 59, tzinfo=UTC)


def test_the_same_form_submitted_twice_is_stored_once(teams: TeamsClient, session: Session) -> None:
    submit = submit_button(ask(teams, "visit"))

    first = pressed(teams, submit, inputs=GOOD_VISIT)
    second = pressed(teams, submit, inputs=GOOD_VISIT)

    assert lines(first)[0] == "✅ Logged 1h30 at Acme Dental."
    assert lines(second) == [ALREADY_DONE]
    assert count_rows(session, Visit) == 1


def test_a_form_corrected_after_an_error_is_stored_once(teams: TeamsClient, session: Session) -> None:
    form = ask(teams, "visit")

    wrong = pressed(teams, submit_button(form), inputs={**GOOD_VISIT, "duration": "a while"})
    fixed = pressed(teams, submit_button(wrong), inputs=GOOD_VISIT)

    assert errors_shown(wrong) == {"duration": HOW_LONG}
    assert lines(fixed)[0] == "✅ Logged 1h30 at Acme Dental."
    assert count_rows(session, Visit) == 1


def test_a_near_miss_in_the_form_names_the_client_and_new_client_creates_it(
    teams: TeamsClient, session: Session
) -> None:
    ask(teams, "visit Acme Dental 1h fixed printer")
    form = ask(teams, "visit")

    refused = pressed(teams, submit_button(form), inputs={**GOOD_VISIT, "client": "Acme Dentl"})
    created = pressed(
        teams, submit_button(refused), inputs={**GOOD_VISIT, "client": "Acme Dentl", "new_client": "true"}
    )

    assert errors_shown(refused) == {
        "client": "I don't know “Acme Dentl”. Did you mean “Acme Dental”? "
        "If it really is a new client, tick “This is a new client”."
    }
    assert lines(created)[0] == "✅ Logged 1h30 at Acme Dentl."
    assert sorted(c.name for c in session.scalars(select(Client))) == ["Acme Dental", "Acme Dentl"]


# -- Home ------------------------------------------------------------------------------------------------


def test_home_shows_what_is_open_with_buttons_marked_for_home_and_no_team_for_a_technician(
    teams: TeamsClient, session: Session
) -> None:
    ask(teams, "visit Acme Dental 1h30 replaced fuser")
    ask(teams, "promise Acme Dental send the quote by Friday")

    card = ask(teams, "home")

    shown = lines(card)
    assert shown[:3] == [
        "What's open",
        "Follow-ups to send (1)",
        "Acme Dental, Mon 23 Nov (1h30): replaced fuser",
    ]
    assert "Subject: Visit summary: Acme Dental, Mon 23 Nov" in shown
    assert shown[-7:] == [
        "Promises by due date (1)",
        "#1 Acme Dental: send the quote. It's due Fri 27 Nov.",
        *SETTINGS_AS_DEFAULT,
    ]
    assert "Team overview" not in shown
    visit = session.scalars(select(Visit)).one()
    assert executes(card) == [
        ("Mark sent", "followup.sent", {"value": str(visit.id), "home": True}),
        ("Snooze until tomorrow", "followup.snooze", {"value": str(visit.id), "home": True}),
        ("Kept", "promise.kept", {"value": "1", "home": True}),
        ("Move", "promise.movehint", {"value": "1", "home": True}),
        ("Change settings", "home.settings", {"value": "open", "home": True}),
    ]
    assert [a["title"] for a in actions(card) if a["type"] == "Action.OpenUrl"] == ["Open in e-mail"]


def test_a_home_button_answers_with_the_refreshed_home_with_the_answer_on_top(
    teams: TeamsClient, microsoft: FakeMicrosoft, session: Session, clock: FrozenClock
) -> None:
    ask(teams, "visit Acme Dental 1h30 replaced fuser")
    home = ask(teams, "home")
    clock.advance(minutes=30)

    first = pressed(teams, action(home, "Mark sent"))
    second = pressed(teams, action(home, "Mark sent"))

    nothing_open = "Nothing open: no follow-ups, calls, promises or check-ins waiting. ✨"
    assert lines(first) == [
        "What's open",
        "📧 Follow-up to Acme Dental marked sent. Thank you: that's what clients remember.",
        nothing_open,
        *SETTINGS_AS_DEFAULT,
    ]
    assert lines(second) == [
        "What's open",
        "📧 The follow-up to Acme Dental was marked sent on Mon 23 Nov. All done.",
        nothing_open,
        *SETTINGS_AS_DEFAULT,
    ]
    assert executes(first) == [("Change settings", "home.settings", {"value": "open", "home": True})]
    assert session.scalars(select(Visit)).one().followup_sent_at == MONDAY_MORNING + timedelta(minutes=30)
    assert len(microsoft.sent()) == 2


def test_someone_else_pressing_a_home_button_gets_a_message_and_changes_nothing(
    teams: TeamsClient, session: Session
) -> None:
    ask(teams, "visit Acme Dental 1h30 replaced fuser")
    home = ask(teams, "home")

    answer = invoke_message(teams.press(action(home, "Mark sent"), user=BO))

    assert answer == "⚠️ That visit isn't one of yours, so I can't mark its follow-up."
    assert session.scalars(select(Visit)).one().followup_sent_at is None


def test_a_manager_sees_the_team_overview_and_can_ask_for_the_digest_from_home(
    teams: TeamsClient, session: Session
) -> None:
    ask(teams, "visit Acme Dental 1h30 replaced fuser")

    home = ask(teams, "home", user=MO)

    shown = lines(home)
    team = shown.index("Team overview")
    assert shown[team : team + 3] == [
        "Team overview",
        "Ana Tech: 1 visit this week · 0 follow-ups unsent over 24 h · 0 calls to make · 0 promises overdue"
        " · 0 clients due a check-in",
        "Mo Manager: 0 visits this week · 0 follow-ups unsent over 24 h · 0 calls to make · 0 promises "
        "overdue · 0 clients due a check-in",
    ]
    assert executes(home) == [
        ("Send me the digest", "digest.request", {"value": "now", "home": True}),
        ("Change settings", "home.settings", {"value": "open", "home": True}),
    ]

    refreshed = pressed(teams, action(home, "Send me the digest"), user=MO)

    assert lines(refreshed)[:3] == [
        "What's open",
        "📬 The team digest for the last 7 days is on its way to our chat (the summary, its details "
        "and the 8-week chart).",
        "Managers can ask for it any time with /visit digest.",
    ]
    assert "Team overview" in lines(refreshed)
    [row] = session.scalars(select(Nudge)).all()
    assert (row.kind, row.period, row.channel) == (digest.KIND, f"asked:{MO}:2026-11-23T15:00", MO)


# -- Settings --------------------------------------------------------------------------------------------


def test_settings_opens_the_form_with_the_current_values(teams: TeamsClient) -> None:
    form = ask(teams, "settings")

    assert lines(form) == ["Your settings", "Reminders arrive only in your working hours, in your time zone."]
    assert typed_in(form) == {
        "hours": "8-18",
        "days": "mon–fri",
        "timezone": "",
        "pause": "",
        "kinds": ALL_KINDS,
    }
    assert [f.get("label") for f in fields(form).values()] == [
        "Working hours",
        "Working days",
        "Time zone (blank: my Teams profile's)",
        "Pause reminders until (blank: not paused)",
        "Reminders I want",
    ]
    submit = submit_button(form)
    assert (submit["title"], submit["data"]["kind"]) == ("Save settings", "home.settings")


def test_saving_settings_answers_with_the_home_card_and_stores_them(
    teams: TeamsClient, session: Session
) -> None:
    home = ask(teams, "home")
    form = pressed(teams, action(home, "Change settings"))
    assert lines(form)[0] == "Your settings"

    saved = pressed(
        teams,
        submit_button(form),
        inputs={
            "hours": "7:30-16",
            "days": "mon-sat",
            "timezone": "europe/berlin",
            "pause": "2026-12-07",
            "kinds": "followup,promise",
        },
    )

    assert lines(saved) == [
        "What's open",
        "✅ Your settings are saved.",
        "🌴 Reminders paused until Mon 7 Dec. Change it under Your settings.",
        "Nothing open: no follow-ups, calls, promises or check-ins waiting. ✨",
        "Your settings",
        "🕗 Working hours: Mon–Sat, 7:30am–4pm (Europe/Berlin)",
        "🌍 Time zone: Europe/Berlin, your choice; your Teams profile says America/Chicago",
        "🌴 Reminders paused until Mon 7 Dec",
        "☑️ Reminders you get: follow-up e-mails, promises. Off: calls after cancellations, check-ins, "
        "appointment mornings",
    ]
    technician = session.scalars(select(Technician)).one()
    assert (technician.work_start_minute, technician.work_end_minute, technician.work_days) == (
        450,
        960,
        "012345",
    )
    assert (technician.timezone_override, technician.timezone) == ("Europe/Berlin", "America/Chicago")
    assert technician.paused_until == date(2026, 12, 7)
    assert technician.muted_kinds == "call,checkin,appointment"


def test_saving_the_form_as_shown_keeps_the_settings(teams: TeamsClient, session: Session) -> None:
    form = ask(teams, "settings")

    saved = pressed(teams, submit_button(form), inputs=typed_in(form))

    assert lines(saved)[:2] == ["What's open", "✅ Your settings are saved."]
    technician = session.scalars(select(Technician)).one()
    assert (technician.work_start_minute, technician.work_end_minute, technician.work_days) == (
        480,
        1080,
        "01234",
    )
    assert (technician.timezone_override, technician.paused_until, technician.muted_kinds) == (None, None, "")


def test_an_unknown_time_zone_comes_back_on_the_form_and_nothing_is_saved(
    teams: TeamsClient, session: Session
) -> None:
    form = ask(teams, "settings")
    typed = {
        "hours": "7:30-16",
        "days": "mon-sat",
        "timezone": "Mars/Olympus",
        "pause": "",
        "kinds": "promise",
    }

    again = pressed(teams, submit_button(form), inputs=typed)

    assert errors_shown(again) == {
        "timezone": "I don't know the time zone “Mars/Olympus”. Use a name like Europe/Berlin or "
        "America/Chicago, or leave it blank for your Teams profile's."
    }
    assert typed_in(again) == typed
    technician = session.scalars(select(Technician)).one()
    assert (technician.work_start_minute, technician.work_days, technician.timezone_override) == (
        480,
        "01234",
        None,
    )
    assert technician.muted_kinds == ""
