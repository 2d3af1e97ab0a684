"""`python -m jobs status`: the outbox counted by kind and status, and why undeliverable nudges died."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from bot.services import Services
from handlers.slack.standin import SlackStandIn
from jobs.status import MAX_DEAD_LISTED, outbox_status
from storage.models import Nudge, NudgeStatus, Technician, Workspace
from tests.harness import FrozenClock, SlackClient
from tests.reminders import Jobs, chicago, introduce, outbox

NOW = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
HEADER = "kind          pending  sending     sent     dead  skipped"


def add_nudges(services: Services, rows: list[tuple[str, str, NudgeStatus, str | None]]) -> None:
    """Outbox rows as (user, kind, status, last error), one subject each."""
    with services.sessions.begin() as session:
        workspace = Workspace(external_id="T111", created_at=NOW)
        session.add(workspace)
        session.flush()
        technicians: dict[str, Technician] = {}
        for number, (user, kind, status, error) in enumerate(rows, start=1):
            if user not in technicians:
                technicians[user] = Technician(workspace_id=workspace.id, user_id=user, created_at=NOW)
                session.add(technicians[user])
                session.flush()
            session.add(
                Nudge(
                    workspace_id=workspace.id,
                    technician_id=technicians[user].id,
                    subject=f"visit:{number}",
                    kind=kind,
                    period="first",
                    status=status,
                    due_at=NOW,
                    next_attempt_at=NOW,
                    attempts=1,
                    last_error=error,
                    created_at=NOW + timedelta(seconds=number),
                )
            )


def test_an_empty_outbox(services: Services) -> None:
    assert outbox_status(services) == f"{HEADER}\n(the outbox is empty)\n"


def test_counts_by_kind_and_status_then_the_dead_with_their_reasons(services: Services) -> None:
    add_nudges(
        services,
        [
            ("U111", "followup", NudgeStatus.SENT, None),
            ("U111", "followup", NudgeStatus.SENT, None),
            ("U111", "followup", NudgeStatus.SKIPPED, "done"),
            ("U111", "call", NudgeStatus.PENDING, "ratelimited"),
            ("U222", "call", NudgeStatus.DEAD, "account_inactive"),
            ("U111", "appointment", NudgeStatus.SENDING, None),
            ("U333", "promise", NudgeStatus.DEAD, "user_not_found"),
            ("U111", "checkin", NudgeStatus.DEAD, "too_many_attempts"),
        ],
    )

    assert outbox_status(services) == (
        f"{HEADER}\n"
        "appointment         0        1        0        0        0\n"
        "call                1        0        0        1        0\n"
        "checkin             0        0        0        1        0\n"
        "followup            0        0        2        0        1\n"
        "promise             0        0        0        1        0\n"
        "\n"
        "Could not be delivered:\n"
        "  #8 checkin visit:8 to U111: too_many_attempts\n"
        "  #7 promise visit:7 to U333: user_not_found\n"
        "  #5 call visit:5 to U222: account_inactive\n"
    )


def test_the_dead_list_shows_the_latest_few(services: Services) -> None:
    add_nudges(services, [("U111", "followup", NudgeStatus.DEAD, f"reason-{n}") for n in range(1, 26)])

    lines = outbox_status(services).splitlines()

    assert lines[1] == "followup            0        0        0       25        0"
    assert lines[3] == "Could not be delivered:"
    assert len(lines[4:]) == MAX_DEAD_LISTED
    assert lines[4] == "  #25 followup visit:25 to U111: reason-25"
    assert lines[-1] == "  #6 followup visit:6 to U111: reason-6"


def test_a_reminder_slack_refuses_shows_as_dead_with_slacks_reason(
    slack: SlackClient,
    services: Services,
    fake_slack: SlackStandIn,
    session: Session,
    clock: FrozenClock,
) -> None:
    introduce(slack, session)
    clock.now = chicago(11, 23, 9)
    slack.command("Acme Dental 1h replaced the fuser")
    slack.command('"Northwind" 2h new laptops')
    fake_slack.fail("chat.postMessage", error="account_inactive")

    Jobs(services, fake_slack).run(chicago(11, 23, 13))
    Jobs(services, fake_slack).run(chicago(11, 23, 13))

    assert outbox(session) == [
        ("visit:1", "followup", "first", "dead"),
        ("visit:2", "followup", "first", "sent"),
    ]
    assert outbox_status(services) == (
        f"{HEADER}\n"
        "followup            0        0        1        1        0\n"
        "\n"
        "Could not be delivered:\n"
        "  #1 followup visit:1 to U111: account_inactive\n"
    )
