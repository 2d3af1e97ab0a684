"""The sandbox through its HTTP, as the page uses it: every action becomes a signed request to the real bot,
and what the bot sends the stand-in shows up in the right person's conversations, Home and modals."""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.slack.sandbox.app import STATIC
from storage.models import Appointment, AppointmentStatus, Client, Nudge, Promise, Technician, Visit
from storage.repositories import count_rows
from tests.handlers.slack.sandbox.page import (
    ANA,
    BO,
    KAI,
    MANAGERS,
    MORGAN,
    PageClient,
    SandboxServer,
    buttons,
    text_of,
)

VISIT = "/visit Acme Dental 1h30 replaced the fuser; todo: order toner"
CONTACT = '/visit contact "Acme Dental" Jane Roe jane@acmedental.example +1 312 555 0100'
CHICAGO = ZoneInfo("America/Chicago")


def ahead(weekday: int, hour: int) -> datetime:
    """A moment in Chicago on `weekday` (0 = Monday) at `hour`, a week or more after now."""
    day = datetime.now(CHICAGO).date() + timedelta(days=8)
    day += timedelta(days=(weekday - day.weekday()) % 7)
    return datetime(day.year, day.month, day.day, hour, tzinfo=CHICAGO)


def stored(session: Session, model: type[Visit] | type[Promise] | type[Client]) -> int:
    session.expire_all()
    return count_rows(session, model)


# -- The page ---------------------------------------------------------------------------------------------


def test_the_page_and_its_assets_come_from_the_package_and_nothing_from_the_internet(
    page: PageClient,
) -> None:
    index = page.http.get("/")
    script = page.http.get("/sandbox/static/app.js")
    style = page.http.get("/sandbox/static/app.css")

    assert index.status_code == script.status_code == style.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    assert script.headers["content-type"].startswith("text/javascript")
    assert style.headers["content-type"].startswith("text/css")
    # Everything the page loads is its own: relative addresses, or data: URLs.
    addresses = re.findall(r'(?:src|href)="([^"]*)"', index.text)
    assert addresses
    assert all(a.startswith(("/sandbox/static/", "data:")) for a in addresses), addresses
    assert "url(" not in style.text
    assert "@import" not in style.text
    # The script asks only its own server (relative URLs): no address of another host anywhere in it.
    assert "://" not in script.text
    # What the package ships is what is served, and no asset outside the folder is reachable.
    assert script.text == (STATIC / "app.js").read_text(encoding="utf-8")
    assert page.http.get("/sandbox/static/..%2Fapp.py").status_code == 404
    assert page.http.get("/sandbox/static/missing.js").status_code == 404


def test_the_state_lists_the_people_their_conversations_and_the_clock_in_their_zone(page: PageClient) -> None:
    ana, morgan = page.state(ANA), page.state(MORGAN)

    assert [(p["name"], p["tz"], p["manager"]) for p in ana["people"]] == [
        ("Ana Lopez", "America/Chicago", False),
        ("Bo Berg", "Europe/Berlin", False),
        ("Kai Tanaka", "Asia/Tokyo", False),
        ("Morgan Reyes", "America/New_York", True),
    ]
    assert [c["id"] for c in ana["conversations"]] == ["DU0ANA", MANAGERS]
    assert [c["id"] for c in morgan["conversations"]] == ["DU0MO", MANAGERS]
    now = datetime.fromisoformat(ana["clock"]["iso"])
    assert abs(now - datetime.now(UTC)) < timedelta(minutes=1)
    assert ana["clock"]["zone"] == "America/Chicago"
    assert f"{now.astimezone(CHICAGO):%b %Y}" in ana["clock"]["label"]


def test_the_page_takes_only_json_so_another_site_cannot_post_to_it(
    page: PageClient, session: Session
) -> None:
    form = page.http.post("/sandbox/act", data={"as": ANA, "kind": "command", "text": VISIT})
    clock = page.http.post("/sandbox/clock", content="to=morning")
    demo = page.http.post("/sandbox/demo")

    assert form.status_code == clock.status_code == demo.status_code == 415
    assert stored(session, Visit) == 0


def test_a_person_sees_only_their_own_dm(page: PageClient) -> None:
    assert page.http.get("/sandbox/conversation/DU0ANA", params={"as": BO}).status_code == 403
    assert page.type(BO, VISIT, channel="DU0ANA").status_code == 403


# -- The real bot behind it -------------------------------------------------------------------------------


def test_a_typed_visit_is_a_signed_slash_command_answered_only_to_the_person_who_typed_it(
    sandbox_server: SandboxServer, page: PageClient, session: Session
) -> None:
    assert page.type(ANA, VISIT).json() == {"ok": True}

    shown = page.wait_for(ANA, "Logged 1h30 at Acme Dental")
    assert VISIT in shown
    assert "Only visible to you" in shown
    assert "Here's the follow-up e-mail" in shown
    assert "Acme Dental" not in text_of(page.conversation(BO))
    visit = session.scalars(select(Visit)).one()
    assert (visit.client.name, visit.minutes, visit.remaining) == ("Acme Dental", 90, "order toner")
    # The bot reached the stand-in as it reaches Slack, with the run's own token, and learned Ana's zone.
    standin = sandbox_server.sandbox.standin
    assert sandbox_server.sandbox.services.settings.slack_api_url == standin.base_url
    assert {r.token for r in standin.requests() if r.api_method} == {sandbox_server.sandbox.token}
    assert zone_of(session, ANA) == "America/Chicago"


def zone_of(session: Session, user: str) -> str | None:
    """The zone the bot learned from the person's Slack profile (fetched beside the command)."""
    for _ in range(100):
        session.expire_all()
        zone = session.scalars(select(Technician.timezone).where(Technician.user_id == user)).one()
        if zone is not None:
            return zone
        threading.Event().wait(0.05)
    return None


def test_the_bot_checks_every_signature(
    sandbox_server: SandboxServer, page: PageClient, session: Session
) -> None:
    body = "command=/visit&text=Acme+Dental+1h+fixed&user_id=U0ANA&team_id=T0SANDBOX"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    timestamp = str(int(datetime.now(UTC).timestamp()))
    forged = SignatureVerifier("not-this-runs-secret").generate_signature(timestamp=timestamp, body=body)

    unsigned = page.http.post("/slack/events", content=body, headers=form)
    wrong = page.http.post(
        "/slack/events",
        content=body,
        headers={**form, "X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": forged or ""},
    )

    assert unsigned.status_code == wrong.status_code == 401
    assert stored(session, Visit) == 0


def test_mark_follow_up_sent_replaces_the_drafted_email_as_slack_does(
    page: PageClient, session: Session
) -> None:
    page.type(ANA, VISIT)
    page.wait_for(ANA, "Mark follow-up sent")

    assert page.press(ANA, "Mark follow-up sent").json() == {"ok": True}

    shown = page.wait_for(ANA, "Follow-up to Acme Dental marked sent")
    assert "Subject: Visit summary" not in shown
    assert "Mark follow-up sent" not in shown
    assert session.scalars(select(Visit.followup_sent_at)).one() is not None


def test_a_change_gives_new_html_only_to_the_message_that_changed(page: PageClient) -> None:
    page.type(ANA, CONTACT)
    page.type(ANA, VISIT)
    page.wait_for(ANA, "Mark follow-up sent")
    before = dict(page.messages(ANA))

    page.press(ANA, "Mark follow-up sent")
    page.wait_for(ANA, "marked sent")

    after = dict(page.messages(ANA))
    assert list(after) == list(before)
    changed = [message_id for message_id in after if after[message_id] != before[message_id]]
    assert len(changed) == 1
    assert "marked sent" in text_of(after[changed[0]])
    assert all(f'data-message-id="{message_id}"' in after[message_id] for message_id in after)


def test_the_visit_form_shows_the_bots_field_errors_keeps_what_was_typed_and_closes_once_fixed(
    page: PageClient, session: Session
) -> None:
    page.type(ANA, "/visit")
    form = wait_for_modal(page, ANA)
    assert "Log a visit" in text_of(form)
    assert 'name="duration"' in form

    typed = {"client": "Acme Dental", "duration": "soon", "work_done": "replaced the fuser", "new": ["new"]}
    refused = page.act(ANA, "submit", values=typed).json()

    assert refused["ok"] is False
    assert set(refused["errors"]) == {"duration"}
    shown = page.modal(ANA)
    assert shown is not None
    assert "How long? For example 1h30" in text_of(shown)
    assert 'value="soon"' in shown
    assert 'value="Acme Dental"' in shown
    assert stored(session, Visit) == 0

    checkbox = re.search(r'name="([^"]+)"[^>]*type="checkbox"|type="checkbox"[^>]*name="([^"]+)"', shown)
    value = re.search(r'type="checkbox"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*type="checkbox"', shown)
    assert checkbox
    assert value
    block, option = checkbox[1] or checkbox[2], value[1] or value[2]
    fixed = {**typed, "duration": "1h30", block: [option]}
    assert page.act(ANA, "submit", values=fixed).json() == {"ok": True, "errors": {}}

    assert page.modal(ANA) is None
    page.wait_for(ANA, "Logged 1h30 at Acme Dental")
    assert stored(session, Visit) == 1


def test_closing_a_modal_keeps_nothing(page: PageClient, session: Session) -> None:
    page.type(ANA, "/promise")
    assert "Record a promise" in text_of(wait_for_modal(page, ANA))

    page.act(ANA, "close")

    assert page.modal(ANA) is None
    assert stored(session, Promise) == 0


def wait_for_modal(page: PageClient, user: str) -> str:
    for _ in range(200):
        shown = page.modal(user)
        if shown is not None:
            return shown
        threading.Event().wait(0.05)
    raise AssertionError("no modal opened")


def test_a_word_that_is_not_a_command_gets_an_answer_that_says_what_to_type(page: PageClient) -> None:
    page.type(ANA, "hello")

    assert (
        "hello is not a command here: type /visit or /promise, for example /visit Acme Dental 1h30 "
        "replaced the fuser; todo: order toner"
    ) in text_of(page.conversation(ANA))


# -- The clock ----------------------------------------------------------------------------------------------


def test_the_next_working_morning_runs_the_jobs_then_and_the_reminder_arrives_as_a_dm_whose_button_works(
    page: PageClient, session: Session
) -> None:
    tuesday = ahead(1, 10)
    page.clock(ANA, tuesday.isoformat())
    page.type(ANA, VISIT)
    page.wait_for(ANA, "Mark follow-up sent")

    moved = page.clock(ANA, "morning").json()
    # The next morning at the opening of the working day (08:00 in Chicago), the follow-up is reminded.
    assert datetime.fromisoformat(moved["iso"]) == tuesday.replace(hour=8) + timedelta(days=1)
    assert moved["sent"] >= 1
    shown = page.wait_for(ANA, "hasn't gone out yet")
    reminder = page.button(ANA, "Mark sent")
    assert reminder.message_id is not None

    page.press(ANA, "Mark sent")

    page.wait_for(ANA, "Follow-up to Acme Dental marked sent")
    assert "Mark sent" not in [b.text for b in buttons(page.conversation(ANA))]
    assert session.scalars(select(Visit.followup_sent_at)).one() is not None
    assert "Only visible to you" in shown


def test_a_clock_moved_right_after_someones_first_command_waits_for_their_time_zone(
    page: PageClient, session: Session, sandbox_server: SandboxServer
) -> None:
    tuesday = ahead(1, 10)
    page.clock(ANA, tuesday.isoformat())
    # Ana's profile (Chicago) comes from users.info after the ack: slow here, as Slack can be.
    sandbox_server.sandbox.standin.delay("users.info", 1.5)
    page.type(ANA, VISIT)

    moved = page.clock(ANA, "morning").json()

    # Planned in Ana's working hours (not the workspace's UTC default): the day's reminder at 08:00 hers.
    assert moved["sent"] == 1
    assert session.scalars(select(Technician.timezone)).one() == "America/Chicago"
    nudge = session.scalars(select(Nudge)).one()
    assert (nudge.period, nudge.due_at) == (
        (tuesday + timedelta(days=1)).date().isoformat(),
        (tuesday.replace(hour=8) + timedelta(days=1)).astimezone(UTC),
    )


def test_commands_typed_after_moving_the_clock_happen_at_the_new_time(
    page: PageClient, session: Session
) -> None:
    target = (datetime.now(UTC) + timedelta(days=9)).astimezone(CHICAGO).replace(hour=10, minute=0, second=0)
    assert page.clock(ANA, target.strftime("%Y-%m-%dT%H:%M")).json()["ok"] is True

    page.type(ANA, VISIT)
    page.wait_for(ANA, "Logged 1h30")

    visit = session.scalars(select(Visit)).one()
    assert abs(visit.visited_at - target.astimezone(UTC)) < timedelta(minutes=1)
    assert f"{target:%a} {target.day} {target:%b}" in page.state(ANA)["clock"]["label"]


def test_four_working_hours_skip_the_night_in_the_viewers_zone(page: PageClient) -> None:
    friday_5pm = ahead(4, 17)
    page.clock(ANA, friday_5pm.isoformat())

    moved = page.clock(ANA, "4h").json()

    # One working hour is left on Friday, three more on Monday from 08:00.
    at = datetime.fromisoformat(moved["iso"]).replace(second=0, microsecond=0)
    assert at == friday_5pm.replace(hour=11) + timedelta(days=3)


def test_the_next_digest_moves_to_just_after_the_managers_slot_and_posts_it_in_the_channel(
    page: PageClient,
) -> None:
    page.type(ANA, VISIT)
    page.wait_for(ANA, "Logged 1h30")

    moved = page.clock(MORGAN, "digest").json()

    at = datetime.fromisoformat(moved["iso"]).astimezone(ZoneInfo("America/New_York"))
    assert (at.weekday(), at.hour, at.minute) == (0, 9, 1)
    # The channel is everyone's: a technician sees the digest too.
    shown = page.wait_for(ANA, "Team digest", channel=MANAGERS)
    assert "Each technician this week" in shown


def test_the_clock_only_moves_forward_and_a_bad_time_says_what_to_type(page: PageClient) -> None:
    back = page.clock(ANA, "2020-01-01T09:00")
    nonsense = page.clock(ANA, "next tuesday-ish")

    assert back.status_code == nonsense.status_code == 400
    now = datetime.fromisoformat(page.state(ANA)["clock"]["iso"]).astimezone(CHICAGO)
    tomorrow = (now + timedelta(days=1)).strftime("%Y-%m-%dT09:00")
    assert back.json()["error"].startswith("The sandbox's clock only moves forward: it is ")
    assert back.json()["error"].endswith(f"Try {tomorrow}.")
    assert nonsense.json()["error"] == (
        f"Move the clock to 4h, morning, digest, or a date and time like {tomorrow}"
    )


# -- The manager, Home and files ----------------------------------------------------------------------------


def test_the_manager_asks_for_the_digest_and_gets_it_with_its_thread_and_a_chart_to_download(
    page: PageClient,
) -> None:
    page.type(ANA, VISIT)
    page.wait_for(ANA, "Logged 1h30")

    page.type(MORGAN, "/visit digest")

    shown = page.wait_for(MORGAN, ".png")
    assert "Team digest" in shown
    assert "Each technician this week" in shown
    fragment = page.conversation(MORGAN)
    # The details and the chart are in the summary's thread.
    assert re.search(r'<details class="thread" open><summary>\d replies</summary>', fragment)
    link = re.search(r'href="(/sandbox/files/[^"?]+)\?download=1"', fragment)
    assert link
    download = page.http.get(link[1], params={"download": "1"})
    assert download.status_code == 200
    assert download.content.startswith(b"\x89PNG")
    assert download.headers["content-disposition"].startswith("attachment; filename=")
    assert f'src="{link[1]}"' in fragment


def test_the_client_report_arrives_as_a_file_to_download(page: PageClient) -> None:
    page.type(ANA, CONTACT)
    page.type(ANA, VISIT)

    page.type(ANA, "/visit report Acme Dental")

    page.wait_for(ANA, "📎")
    link = re.search(r'href="(/sandbox/files/[^"?]+)\?download=1" download="([^"]+)"', page.conversation(ANA))
    assert link
    download = page.http.get(link[1], params={"download": "1"})
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/plain")
    assert download.headers["content-disposition"] == f'attachment; filename="{link[2]}"'
    assert "Acme Dental" in download.text
    assert "replaced the fuser" in download.text


def test_a_technician_asking_for_the_digest_is_told_it_is_for_managers(page: PageClient) -> None:
    page.type(KAI, "/visit digest")

    shown = page.wait_for(KAI, "/visit digest")
    assert "Team digest" not in shown


def test_app_home_shows_what_the_person_owes_and_its_buttons_work(page: PageClient, session: Session) -> None:
    page.type(ANA, VISIT)
    page.wait_for(ANA, "Mark follow-up sent")

    page.act(ANA, "home")

    shown = page.wait_for(ANA, "Follow-ups to send (1)", home=True)
    assert "Acme Dental" in shown
    home = page.home(ANA)
    view = re.search(r'class="bk-view bk-home" data-view-id="([^"]+)"', home)
    assert view
    mark = next(b for b in buttons(home) if b.text == "Mark sent")
    page.act(ANA, "press", surface="home", action={**mark.action(), "view_id": view[1]})

    wait_gone(page, ANA)
    assert session.scalars(select(Visit.followup_sent_at)).one() is not None
    assert "Opening your Home" in text_of(page.home(BO))


def wait_gone(page: PageClient, user: str) -> None:
    for _ in range(200):
        if "Follow-ups to send (1)" not in text_of(page.home(user)):
            return
        threading.Event().wait(0.05)
    raise AssertionError("the follow-up stayed on Home")


# -- Changes, live -----------------------------------------------------------------------------------------


def test_the_event_stream_says_which_conversation_changed(
    sandbox_server: SandboxServer, page: PageClient
) -> None:
    events: list[dict[str, str]] = []
    connected = threading.Event()

    def listen() -> None:
        with httpx.stream("GET", f"{sandbox_server.url}/sandbox/events", timeout=10) as stream:
            connected.set()
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))
                    if {"type": "conversation", "id": "DU0ANA"} in events:
                        return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert connected.wait(5)
    threading.Event().wait(0.2)

    page.type(ANA, VISIT)
    listener.join(10)

    assert {"type": "conversation", "id": "DU0ANA"} in events


# -- Demo data ---------------------------------------------------------------------------------------------


def test_demo_data_builds_a_small_company_through_the_real_commands(
    sandbox_server: SandboxServer, page: PageClient, session: Session
) -> None:
    loaded = page.http.post("/sandbox/demo", json={}).json()

    assert loaded["ok"] is True
    assert "Demo company loaded" in loaded["said"]
    clients = session.scalars(select(Client)).all()
    assert len(clients) == 8
    assert all(client.contact_email for client in clients)
    promises = session.scalars(select(Promise)).all()
    assert any(p.done_at is not None for p in promises)
    assert any(p.done_at is None and p.due_at < datetime.now(UTC) for p in promises)
    cancelled = session.scalars(select(Appointment)).one()
    assert cancelled.status == AppointmentStatus.CANCELLED
    visits = session.scalars(select(Visit)).all()
    assert len(visits) >= 8
    assert min(v.visited_at for v in visits) < datetime.now(UTC) - timedelta(days=14)
    assert any(v.followup_sent_at is None for v in visits)
    assert any(v.followup_sent_at for v in visits)
    # Every person has a history, the managers' channel has the weekly digest, the overdue client shows.
    for person in (ANA, BO, KAI, MORGAN):
        assert text_of(page.conversation(person))
    assert "Team digest" in text_of(page.conversation(ANA, MANAGERS))
    assert "Sunrise Bakery" in text_of(page.conversation(KAI))
    # The clock is back at now.
    now = datetime.fromisoformat(page.state(ANA)["clock"]["iso"])
    assert abs(now - datetime.now(UTC)) < timedelta(minutes=1)

    again = page.http.post("/sandbox/demo", json={}).json()

    assert "already has visits" in again["said"]
    assert stored(session, Visit) == len(visits)
    assert sandbox_server.sandbox.scheduler.state == 1  # running again, not left paused


def test_a_sandbox_played_forward_starts_where_it_stopped(database_url: str, session: Session) -> None:
    first = SandboxServer(database_url).start()
    client = PageClient(first.url)
    try:
        later = datetime.now(UTC) + timedelta(days=20)
        client.clock(ANA, later.isoformat())
        client.type(ANA, VISIT)
        client.wait_for(ANA, "Logged 1h30")
    finally:
        client.close()
        first.stop()

    second = SandboxServer(database_url).start()
    try:
        resumed = second.sandbox.clock()
    finally:
        second.stop()

    # Each run makes its own token and signing secret.
    assert first.sandbox.signing_secret != second.sandbox.signing_secret
    assert first.sandbox.token != second.sandbox.token
    visit = session.scalars(select(Visit)).one()
    assert visit.visited_at > datetime.now(UTC) + timedelta(days=19)
    assert resumed > visit.visited_at
