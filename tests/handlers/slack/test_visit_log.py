"""`/visit` logging through the real HTTP endpoint: the answer, the draft e-mail and the stored rows."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.slack.standin import SlackStandIn
from storage.models import Client, Touch, TouchKind, Visit
from storage.repositories import count_rows
from tests.harness import MONDAY_MORNING, FrozenClock, SlackClient, button, text_of


def test_visit_is_stored_and_answered_with_the_drafted_followup(
    slack: SlackClient, session: Session, fake_slack: SlackStandIn
) -> None:
    slack.command('contact "Acme Dental" Jane Roe jane@acme.example +1 555 0100')

    response = slack.command("Acme Dental 1h30 replaced fuser; todo: order toner")

    assert response.status_code == 200
    message = response.json()
    assert message["response_type"] == "ephemeral"
    assert message["text"] == "Logged 1h30 at Acme Dental"
    shown = text_of(message)
    assert "Logged 1h30 at *Acme Dental*" in shown
    assert "follow-up e-mail for Jane Roe (jane@acme.example)" in shown
    assert "Hello Jane," in shown
    assert "What was done: replaced fuser" in shown
    assert "Time spent: 1h30" in shown
    assert "What is left: order toner" in shown

    visit = session.scalars(select(Visit)).one()
    assert (visit.minutes, visit.work_done, visit.remaining) == (90, "replaced fuser", "order toner")
    assert visit.visited_at == MONDAY_MORNING
    assert visit.followup_sent_at is None
    touch = session.scalars(select(Touch)).one()
    assert (touch.kind, touch.visit_id, touch.touched_at) == (TouchKind.VISIT, visit.id, MONDAY_MORNING)
    client = session.scalars(select(Client)).one()
    assert client.last_touch_at == MONDAY_MORNING
    assert button(message, "Mark follow-up sent")["value"] == str(visit.id)


def test_open_in_email_link_is_a_mailto_with_subject_and_body(slack: SlackClient) -> None:
    slack.command('contact "Acme Dental" Jane Roe jane@acme.example')

    message = slack.command("Acme Dental 45m reset the VPN for two users").json()

    link = next(
        b["text"]["text"] for b in message["blocks"] if "mailto:" in b.get("text", {}).get("text", "")
    )
    url = link[link.index("<") + 1 : link.index("|")]
    parts = urlsplit(url)
    assert parts.scheme == "mailto"
    assert parts.path == "jane@acme.example"
    query = parse_qs(parts.query)
    assert query["subject"] == ["Visit summary: Acme Dental, Mon 23 Nov"]
    assert "What was done: reset the VPN for two users\nTime spent: 45m\n" in query["body"][0]


def test_mark_followup_sent_updates_the_message_and_is_idempotent(
    slack: SlackClient, session: Session, fake_slack: SlackStandIn, clock: FrozenClock
) -> None:
    message = slack.command("Acme Dental 2h migrated mailboxes").json()
    mark = button(message, "Mark follow-up sent")
    clock.advance(hours=1)

    first = slack.press(mark, name="first")
    second = slack.press(mark, name="second")

    assert first.status_code == second.status_code == 200
    [update] = fake_slack.wait_for_responses("first")
    assert update.params["replace_original"] is True
    assert "Follow-up to *Acme Dental* marked sent" in text_of(update.params)
    [again] = fake_slack.wait_for_responses("second")
    assert "was marked sent on Mon 23 Nov. All done." in text_of(again.params)
    visit = session.scalars(select(Visit)).one()
    assert visit.followup_sent_at == MONDAY_MORNING + timedelta(hours=1)


def test_another_technician_cannot_mark_my_followup(
    slack: SlackClient, session: Session, fake_slack: SlackStandIn
) -> None:
    message = slack.command("Acme Dental 2h migrated mailboxes").json()

    slack.press(button(message, "Mark follow-up sent"), user="U222", name="intruder")

    [answer] = fake_slack.wait_for_responses("intruder")
    assert "isn't one of yours" in text_of(answer.params)
    assert session.scalars(select(Visit)).one().followup_sent_at is None


def test_a_visit_without_a_duration_is_refused_and_nothing_is_stored(
    slack: SlackClient, session: Session
) -> None:
    message = slack.command("Acme Dental replaced fuser").json()

    assert "How long did the visit take?" in text_of(message)
    assert "/visit Acme Dental 1h30 replaced fuser; todo: order toner" in text_of(message)
    assert count_rows(session, Visit) == 0
    assert count_rows(session, Client) == 0


def test_durations_in_every_documented_form(slack: SlackClient, session: Session) -> None:
    for typed in ("1h30", "90m", "1.5h", "1:30"):
        assert slack.command(f"Acme Dental {typed} fixed printer").status_code == 200
    assert [v.minutes for v in session.scalars(select(Visit).order_by(Visit.id))] == [90, 90, 90, 90]


def test_client_names_match_whatever_the_case_and_quotes_allow_any_name(
    slack: SlackClient, session: Session
) -> None:
    slack.command('"Café Müller GmbH" 45m reset VPN tokens')
    slack.command("café müller gmbh 30m checked backups")
    slack.command("CAFÉ MÜLLER GMBH 15m swapped a cable")

    assert [c.name for c in session.scalars(select(Client))] == ["Café Müller GmbH"]
    assert count_rows(session, Visit) == 3


def test_a_near_miss_asks_did_you_mean_and_the_button_logs_it(
    slack: SlackClient, session: Session, fake_slack: SlackStandIn
) -> None:
    slack.command("Acme Dental 1h fixed printer")

    message = slack.command("Acme Dentl 30m reset router").json()

    assert "Did you mean *Acme Dental*?" in text_of(message)
    assert count_rows(session, Visit) == 1
    slack.press(button(message, "Acme Dental"), name="choice")
    [answer] = fake_slack.wait_for_responses("choice")
    assert "Logged 30m at *Acme Dental*" in text_of(answer.params)
    assert count_rows(session, Client) == 1
    assert [v.work_done for v in session.scalars(select(Visit).order_by(Visit.id))] == [
        "fixed printer",
        "reset router",
    ]


def test_did_you_mean_choice_pressed_twice_logs_once(
    slack: SlackClient, session: Session, fake_slack: SlackStandIn
) -> None:
    slack.command("Acme Dental 1h fixed printer")
    message = slack.command("Acme Dentl 30m reset router").json()
    choice = button(message, "Acme Dental")

    slack.press(choice, name="one")
    slack.press(choice, name="two")

    fake_slack.wait_for_responses("two")
    assert count_rows(session, Visit) == 2
    assert "already acted on that" in text_of(fake_slack.responses("two")[0].params)


def test_new_client_button_creates_the_client_as_typed(
    slack: SlackClient, session: Session, fake_slack: SlackStandIn
) -> None:
    slack.command("Acme Dental 1h fixed printer")
    message = slack.command("Acme Dentalcare 30m new laptops").json()

    slack.press(button(message, "New client “Acme Dentalcare”"), name="new")

    fake_slack.wait_for_responses("new")
    assert sorted(c.name for c in session.scalars(select(Client))) == ["Acme Dental", "Acme Dentalcare"]


def test_a_replayed_command_is_acted_on_once(slack: SlackClient, session: Session) -> None:
    body = slack.command_body("Acme Dental 1h fixed printer", trigger_id="trigger-replayed")

    first = slack.post(body)
    second = slack.post(body)

    assert first.status_code == second.status_code == 200
    assert "already acted on that" in text_of(second.json())
    assert count_rows(session, Visit) == 1


def test_slack_markup_in_text_is_read_as_typed_and_escaped_in_replies(
    slack: SlackClient, session: Session
) -> None:
    message = slack.command(
        "Acme &amp; Sons 1h fixed <https://intranet.example|intranet> & <!channel>"
    ).json()

    visit = session.scalars(select(Visit)).one()
    assert visit.client.name == "Acme & Sons"
    assert visit.work_done == "fixed intranet & @channel"
    shown = json.dumps(message)
    assert "<!channel>" not in shown
    assert "Logged 1h at *Acme &amp; Sons*" in text_of(message)


def test_names_differing_only_in_a_number_are_different_clients(slack: SlackClient, session: Session) -> None:
    slack.command("Store 1 1h fixed till")

    message = slack.command("Store 2 30m fixed till").json()

    assert message["text"] == "Logged 30m at Store 2"
    assert sorted(c.name for c in session.scalars(select(Client))) == ["Store 1", "Store 2"]
