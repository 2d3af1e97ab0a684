"""`/visit clients`, `owner`, `rename`, `merge`, `archive` through the real endpoint, and who may do each."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.settings import Settings
from handlers.slack.standin import SlackStandIn
from jobs.planners import plan
from storage.models import Client, Nudge, Promise, Touch, Visit
from tests.harness import FrozenClock, SlackClient, button, buttons
from tests.reminders import chicago, introduce, shown

ANA, BO = "U111", "U222"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Bo (U222) is a manager; Ana (U111) is a technician."""
    return settings.model_copy(update={"manager_ids": BO})


@pytest.fixture(autouse=True)
def both_at_work(slack: SlackClient, session: Session, clock: FrozenClock) -> None:
    introduce(slack, session, ANA)
    introduce(slack, session, BO)
    clock.now = chicago(11, 23, 9)


def visit(slack: SlackClient, text: str, *, user: str = ANA) -> dict[str, Any]:
    response = slack.command(text, user=user)
    assert response.status_code == 200
    answer: dict[str, Any] = response.json()
    return answer


def said(slack: SlackClient, text: str, *, user: str = ANA) -> list[str]:
    """The lines of the answer, without the labels of the buttons beside each client."""
    return [line for line in shown(visit(slack, text, user=user)) if line not in {"Archive", "Unarchive"}]


def typo_client(slack: SlackClient, fake: SlackStandIn, text: str) -> None:
    """Log a visit to a new client whose name is close to an existing one's: asked, then chosen as new."""
    asked = visit(slack, text)
    name = next(b["text"]["text"] for b in buttons(asked) if b["text"]["text"].startswith("New client"))
    press(slack, fake, asked, name, user=ANA, name=f"new-{len(fake.calls())}")


def client(session: Session, name: str) -> Client | None:
    session.expire_all()
    return session.scalars(select(Client).where(Client.name == name)).one_or_none()


def press(
    slack: SlackClient, fake: SlackStandIn, message: dict[str, Any], label: str, *, user: str, name: str
) -> list[str]:
    response = slack.press(button(message, label), user=user, name=name)
    assert response.status_code == 200
    [answer] = fake.wait_for_responses(name)
    return shown(answer.params)


def test_clients_lists_owner_cadence_and_days_since_the_last_touch_most_overdue_first(
    slack: SlackClient, clock: FrozenClock
) -> None:
    clock.now = chicago(10, 1, 9)
    said(slack, "Acme Dental 1h replaced the fuser")
    clock.now = chicago(11, 2, 9)
    said(slack, "Beta Law 1h new laptop")
    said(slack, "owner Acme Dental me")
    clock.now = chicago(11, 23, 9)

    lines = said(slack, "clients")

    assert lines == [
        "Clients (2)",
        "*Acme Dental* · Ana · every 30 days · last touch 53 days ago · :warning: *23 days overdue*",
        "*Beta Law* · Ana · every 30 days · last touch 21 days ago",
    ]


def test_clients_overdue_and_an_owners_clients(slack: SlackClient, clock: FrozenClock) -> None:
    clock.now = chicago(10, 1, 9)
    said(slack, "Acme Dental 1h replaced the fuser")
    said(slack, "Beta Law 1h new laptop", user=BO)
    said(slack, "owner Beta Law @bo", user=BO)
    clock.now = chicago(11, 23, 9)
    said(slack, "Gamma Ltd 1h checked backups")

    assert [line.split(" · ")[0] for line in said(slack, "clients overdue")] == [
        "Clients overdue for a check-in (2)",
        "*Acme Dental*",
        "*Beta Law*",
    ]
    assert said(slack, "clients @Bo")[0:2] == ["Bo's clients (1)", said(slack, "clients overdue")[2]]
    assert said(slack, "clients @Nobody")[0].startswith(":warning: No technician is called “@Nobody”")


def test_a_long_list_is_paged_within_slacks_limits(slack: SlackClient, fake_slack: SlackStandIn) -> None:
    for n in range(20):
        said(slack, f"Client {n:02} 1h work")

    first = visit(slack, "clients")

    assert len(first["blocks"]) <= 50
    assert shown(first)[0] == "Clients (20)"
    assert len([b for b in buttons(first) if b["text"]["text"] == "Archive"]) == 15
    second = press(slack, fake_slack, first, "Next page", user=ANA, name="page2")
    assert "Page 2 of 2. Type the command again to start over." in second
    assert len([line for line in second if line.startswith("*Client")]) == 5


def test_owner_rename_and_archive_change_the_client(slack: SlackClient, session: Session) -> None:
    said(slack, "Acme Dentl 1h replaced the fuser")

    assert said(slack, "owner Acme Dentl @ana") == [":bust_in_silhouette: *Acme Dentl* is Ana's now."]
    assert said(slack, "rename Acme Dentl to Acme Dental") == [":pencil2: *Acme Dentl* is now *Acme Dental*."]
    assert said(slack, "archive acme dental")[0].startswith(":file_cabinet: Archived *Acme Dental*")
    stored = client(session, "Acme Dental")
    assert stored is not None
    assert stored.archived_at is not None
    assert said(slack, "clients") == [
        "Clients: none. Import your list with `python -m bot import clients FILE.csv`."
    ]
    assert said(slack, "clients all")[1].endswith("· archived")
    assert said(slack, "unarchive Acme Dental") == [
        ":file_cabinet: *Acme Dental* is back: check-in reminders start again."
    ]


def test_an_archived_client_gets_no_check_in_reminder(
    slack: SlackClient, session: Session, clock: FrozenClock
) -> None:
    clock.now = chicago(10, 1, 9)
    said(slack, "Acme Dental 1h replaced the fuser")
    said(slack, "Beta Law 1h new laptop")
    said(slack, "owner Acme Dental me")
    said(slack, "owner Beta Law me")
    said(slack, "archive Beta Law")

    plan(session, now=chicago(11, 23, 9), default_tz=clock.now.tzinfo)  # type: ignore[arg-type]
    session.commit()

    subjects = {n.subject for n in session.scalars(select(Nudge)) if n.kind == "checkin"}
    acme, beta = client(session, "Acme Dental"), client(session, "Beta Law")
    assert acme is not None
    assert beta is not None
    assert subjects == {f"client:{acme.id}"}


def test_rename_to_an_existing_clients_name_suggests_a_merge(
    slack: SlackClient, fake_slack: SlackStandIn
) -> None:
    said(slack, "Acme Dental 1h replaced the fuser")
    typo_client(slack, fake_slack, "Acme Dentl 1h new toner")

    assert said(slack, "rename Acme Dentl to ACME dental") == [
        ":warning: There is already a client called “Acme Dental”. If they are the same client, merge them.",
        "For example:",
        "/visit merge Acme Dentl into Acme Dental",
    ]


def test_merge_asks_first_then_moves_everything_to_the_client_kept(
    slack: SlackClient, fake_slack: SlackStandIn, session: Session
) -> None:
    said(slack, "Acme Dental 1h replaced the fuser")
    typo_client(slack, fake_slack, "Acme Dentl 1h new toner")
    said(slack, "call Acme Dentl spoke about the toner")
    slack.command('"Acme Dentl" send the quote by Friday', command="/promise")
    said(slack, "contact Acme Dentl Jane Roe jane@acme.example")

    asked = visit(slack, "merge Acme Dentl into Acme Dental")

    assert shown(asked)[0] == (
        ":twisted_rightwards_arrows: Merge *Acme Dentl* into *Acme Dental*? Its 1 visits, 2 touches, "
        "0 appointments, 1 promises move to *Acme Dental*, its contact fills what Acme Dental lacks, "
        "and *Acme Dentl* is gone. This can't be undone."
    )
    assert client(session, "Acme Dentl") is not None  # nothing moved before the button
    done = press(slack, fake_slack, asked, "Merge into Acme Dental", user=ANA, name="merge")

    assert done == [
        ":twisted_rightwards_arrows: Merged *Acme Dentl* into *Acme Dental*: "
        "its history is Acme Dental's now."
    ]
    kept = client(session, "Acme Dental")
    assert kept is not None
    assert client(session, "Acme Dentl") is None
    assert {v.client_id for v in session.scalars(select(Visit))} == {kept.id}
    assert {t.client_id for t in session.scalars(select(Touch))} == {kept.id}
    assert {p.client_id for p in session.scalars(select(Promise))} == {kept.id}
    assert (kept.contact_name, kept.contact_email) == ("Jane Roe", "jane@acme.example")
    again = slack.press(button(asked, "Merge into Acme Dental"), user=ANA, name="merge-again")
    assert again.status_code == 200
    assert (
        fake_slack.wait_for_responses("merge-again")[0]
        .params["text"]
        .startswith("That client isn't one of yours here, or is gone")
    )


def test_a_technician_changes_only_their_own_or_unowned_clients_a_manager_any(
    slack: SlackClient, session: Session
) -> None:
    said(slack, "Beta Law 1h new laptop", user=BO)
    said(slack, "owner Beta Law me", user=BO)

    refused = said(slack, "archive Beta Law")
    renamed = said(slack, "rename Beta Law to Beta Legal")
    said(slack, "Acme Dental 1h replaced the fuser")
    merged = said(slack, "merge Beta Law into Acme Dental")
    owned = said(slack, "owner Beta Law me")

    assert (
        refused[0]
        == ":warning: Only Beta Law's owner (Bo) or a manager can archive it. Ask them, or a manager."
    )
    assert renamed[0].startswith(":warning: Only Beta Law's owner (Bo)")
    assert merged[0].startswith(":warning: Only Beta Law's owner (Bo) or a manager can merge it.")
    assert owned[0].startswith(
        ":warning: Only Beta Law's owner (Bo) or a manager can change the owner of it."
    )
    stored = client(session, "Beta Law")
    assert stored is not None
    assert stored.archived_at is None
    said(slack, "owner Acme Dental me")
    # Bo is a manager: he may change Ana's client.
    assert said(slack, "owner Acme Dental @bo", user=BO) == [
        ":bust_in_silhouette: *Acme Dental* is Bo's now."
    ]
    assert said(slack, "owner Acme Dental me")[0].startswith(":warning: Only Acme Dental's owner (Bo)")


def test_unknown_clients_and_missing_words_get_an_example(slack: SlackClient) -> None:
    said(slack, "Acme Dental 1h replaced the fuser")

    assert said(slack, "archive Nowhere Inc")[0] == ":warning: I don't know a client called “Nowhere Inc”."
    assert said(slack, "merge Acme Dental") == [
        ":warning: Put “into” between the two names.",
        "For example:",
        "/visit merge Acme Dentl into Acme Dental",
    ]
    assert said(slack, "merge Acme Dental into acme dental")[0] == (
        ":warning: Those are the same client: name the duplicate, then the one to keep."
    )


def test_a_manager_exports_everything_as_a_zip_in_their_dm(
    slack: SlackClient, fake_slack: SlackStandIn, session: Session
) -> None:
    said(slack, "Acme Dental 1h replaced the fuser")

    answer = said(slack, "export", user=BO)

    assert answer[0].startswith(":file_cabinet: Everything of the team, as of now: 2 technicians, 1 clients,")
    [shared] = fake_slack.wait_for_files(timeout=10)
    assert shared.channel == f"D{BO}"
    with zipfile.ZipFile(io.BytesIO(shared.content)) as archive:
        document = json.loads(archive.read("nudgebot-export.json"))
        assert "clients.csv" in archive.namelist()
    assert [c["name"] for c in document["tables"]["clients"]] == ["Acme Dental"]


def test_only_managers_export(slack: SlackClient, fake_slack: SlackStandIn) -> None:
    assert said(slack, "export") == [
        ":warning: Only managers can export the team's data: whoever runs Nudgebot lists them in the "
        "MANAGER_IDS setting, and can add you like this.",
        "For example:",
        f"MANAGER_IDS={ANA}",
    ]
    assert fake_slack.shared_files() == []
