"""Exporting a workspace to JSON and CSV and restoring it into an empty database, on both databases."""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bot.clientlist.backup import (
    JSON_NAME,
    LEFT_OUT,
    BackupProblem,
    export_workspace,
    render_csv,
    restore,
    workspace_tables,
    write_export,
)
from storage import repositories as repo
from storage.db import make_engine, make_session_factory, normalize_url
from storage.migrate import head_revision
from storage.models import (
    Appointment,
    AppointmentStatus,
    Base,
    CallOutcome,
    Client,
    Feedback,
    NeedDismissal,
    Notice,
    Nudge,
    NudgeStatus,
    Promise,
    RateGate,
    Risk,
    TouchKind,
    Workspace,
)
from tests.harness import migrated_postgres, run_bot

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 1, 15, tzinfo=UTC)
EXPORTED = datetime(2026, 12, 2, 8, 30, tzinfo=UTC)
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
TABLES = [
    "technicians",
    "clients",
    "conversations",
    "nudges",
    "appointments",
    "need_dismissals",
    "promises",
    "visits",
    "feedback",
    "notices",
    "touches",
    "risks",
]
COUNTS = {
    "technicians": 3,
    "clients": 3,
    "conversations": 2,
    "nudges": 2,
    "appointments": 2,
    "need_dismissals": 1,
    "promises": 2,
    "visits": 2,
    "feedback": 1,
    "notices": 1,
    "touches": 4,
    "risks": 1,
}
COUNTS_LINE = (
    "3 technicians, 3 clients, 2 conversations, 2 nudges, 2 appointments, 1 need_dismissals, 2 promises, "
    "2 visits, 1 feedback, 1 notices, 4 touches, 1 risks"
)
ALREADY_HELD = (
    "the database already holds {count} workspace(s) ({names}): restore only into an empty database "
    "(a new one; python -m bot migrate prepares it)"
)


def fill(session: Session) -> None:
    """T0ACME with three technicians and their clients' history; a Teams tenant's rows in between."""
    acme = repo.ensure_workspace(session, team_id="T0ACME", now=NOW - timedelta(days=90))
    acme.digest_channel = "C0DIGEST"
    other = repo.ensure_workspace(session, team_id=TENANT, now=NOW - timedelta(days=60), platform="teams")
    ana = repo.ensure_technician(session, workspace_id=acme.id, user_id="U0ANA", now=NOW - timedelta(days=80))
    ana.display_name, ana.email, ana.timezone = "Ana López", "ana.lopez@acme.example", "Europe/Madrid"
    ana.profile_fetched_at = NOW - timedelta(days=1)
    ana.work_start_minute, ana.work_end_minute, ana.work_days = 7 * 60 + 30, 16 * 60, "0123"
    ana.paused_until, ana.timezone_override = date(2026, 12, 24), "Atlantic/Canary"
    ana.muted_kinds = "checkin,promise"
    stranger = repo.ensure_technician(session, workspace_id=other.id, user_id="fremd-1", now=NOW)
    stranger.display_name = "Fremde Person"
    bo = repo.ensure_technician(session, workspace_id=acme.id, user_id="U0BO", now=NOW - timedelta(days=70))
    bo.display_name, bo.timezone = "Bo Ångström", "Europe/Stockholm"
    zoe = repo.ensure_technician(session, workspace_id=acme.id, user_id="U0ZOE", now=NOW - timedelta(days=3))
    zoe.display_name = "Zoë 中村"

    def client(workspace: Workspace, name: str, owner: int) -> Any:
        return repo.add_client(
            session, workspace_id=workspace.id, name=name, key=name.casefold(), owner_id=owner, now=NOW
        )

    cafe = client(acme, "Café Müller, GmbH", ana.id)
    cafe.contact_name, cafe.contact_email = "Jürgen Groß", "jg@cafe-mueller.example"
    cafe.contact_phone, cafe.checkin_cadence_days = "+49 30 1234567", 14
    cafe.checkin_snoozed_until = NOW + timedelta(days=7)
    elsewhere = client(other, "Fremde GmbH", stranger.id)
    tokyo = client(acme, "東京オフィス", bo.id)
    lumiere = client(acme, "Société d’Électricité « Lumière »", zoe.id)

    visited = NOW - timedelta(days=5, microseconds=-123456)
    visit = repo.add_visit(
        session,
        client=cafe,
        technician_id=ana.id,
        at=visited,
        minutes=90,
        work_done='Replaced the "core" switch, patched 3 PCs;\nnext: the firewall',
        remaining="Firewall-Regeln prüfen",
    )
    visit.followup_sent_at = visited + timedelta(hours=2)
    repo.add_visit(
        session,
        client=elsewhere,
        technician_id=stranger.id,
        at=NOW,
        minutes=30,
        work_done="Fremde Arbeit",
        remaining=None,
    )
    repo.add_visit(
        session,
        client=tokyo,
        technician_id=bo.id,
        at=NOW - timedelta(days=2),
        minutes=45,
        work_done="サーバー再起動",
        remaining=None,
    )
    repo.add_touch(
        session,
        client=cafe,
        technician_id=bo.id,
        kind=TouchKind.CALL,
        at=NOW - timedelta(days=1),
        outcome=CallOutcome.VOICEMAIL,
        note="Rückruf erbeten",
    )
    repo.add_touch(session, client=lumiere, technician_id=zoe.id, kind=TouchKind.EMAIL, at=NOW)
    session.add_all(
        [
            Appointment(
                workspace_id=acme.id,
                client_id=tokyo.id,
                technician_id=bo.id,
                window_start=NOW + timedelta(days=2),
                window_end=NOW + timedelta(days=2, hours=2),
                created_at=NOW,
            ),
            Appointment(
                workspace_id=acme.id,
                client_id=lumiere.id,
                technician_id=zoe.id,
                window_start=NOW + timedelta(days=1),
                window_end=NOW + timedelta(days=1, hours=1),
                status=AppointmentStatus.CANCELLED,
                cancelled_at=NOW,
                cancel_reason="Client malade — reporté",
                created_at=NOW - timedelta(days=4),
            ),
            Promise(
                workspace_id=acme.id,
                client_id=cafe.id,
                technician_id=ana.id,
                text="Envoyer le devis à Jürgen",
                due_at=NOW + timedelta(days=3),
                created_at=NOW,
            ),
            Promise(
                workspace_id=acme.id,
                client_id=tokyo.id,
                technician_id=bo.id,
                text="Lizenz verlängern",
                due_at=NOW - timedelta(days=1),
                done_at=NOW,
                times_moved=2,
                created_at=NOW - timedelta(days=9),
            ),
            Nudge(
                workspace_id=acme.id,
                technician_id=ana.id,
                subject=f"visit:{visit.id}",
                kind="followup",
                period="first",
                status=NudgeStatus.SENT,
                due_at=visited + timedelta(hours=1),
                next_attempt_at=visited + timedelta(hours=1),
                attempts=1,
                sent_at=visited + timedelta(hours=1, seconds=3),
                channel="D0ANA",
                message_ts="1764600000.000100",
                created_at=visited,
            ),
            Nudge(
                workspace_id=other.id,
                subject="client:1",
                kind="checkin",
                period="first",
                due_at=NOW,
                next_attempt_at=NOW,
                created_at=NOW,
            ),
            Nudge(
                workspace_id=acme.id,
                subject="digest:2026-W49",
                kind="digest",
                period="2026-11-30",
                due_at=NOW,
                next_attempt_at=NOW + timedelta(minutes=5),
                attempts=2,
                last_error="ratelimited: réessayer",
                channel="C0DIGEST",
                parts_sent=1,
                created_at=NOW,
            ),
            RateGate(workspace_id=acme.id, blocked_until=NOW + timedelta(seconds=30)),
            Notice(
                workspace_id=acme.id,
                client_id=cafe.id,
                technician_id=ana.id,
                what="Neustart des Mailservers «SRV-01»",
                impact="Keine E-Mails für 15 Minuten",
                window_start=NOW + timedelta(days=4),
                window_end=NOW + timedelta(days=4, hours=1),
                created_at=NOW - timedelta(hours=3),
                acknowledged_at=NOW - timedelta(hours=1),
                acknowledged_via="link",
            ),
            NeedDismissal(
                workspace_id=acme.id,
                client_id=tokyo.id,
                topic="printer",
                raised_at=None,
                technician_id=bo.id,
                dismissed_at=NOW - timedelta(days=2),
            ),
        ]
    )
    unhappy = Feedback(
        workspace_id=acme.id,
        client_id=cafe.id,
        visit_id=visit.id,
        technician_id=ana.id,
        score=1,
        comment="Wir haben zwei Tage gewartet — „zu lange“",
        source="link",
        link_key=f"visit:{visit.id}",
        given_at=NOW - timedelta(days=4),
        updated_at=NOW - timedelta(days=4, minutes=-2),
    )
    session.add(unhappy)
    session.flush()
    cafe.last_feedback_at = unhappy.given_at
    session.add(
        Risk(
            workspace_id=acme.id,
            client_id=cafe.id,
            opened_at=unhappy.given_at,
            flagged_at=unhappy.given_at,
            feedback_id=unhappy.id,
            technician_id=ana.id,
            repaired_at=NOW - timedelta(days=1),
            repair_note="Angerufen, entschuldigt; Switch getauscht",
            repaired_by_id=ana.id,
        )
    )
    for workspace, conversation, kind, technician in (
        (acme, "D0ANA", "personal", ana.id),
        (other, "a:fremd", "personal", stranger.id),
        (acme, "C0DIGEST", "channel", None),
    ):
        repo.remember_conversation(
            session,
            workspace_id=workspace.id,
            conversation_id=conversation,
            kind=kind,
            service_url="https://smba.trafficmanager.net/emea/",
            technician_id=technician,
            team_id="T0ACME" if kind == "channel" else None,
            now=NOW,
        )
    repo.claim_request(session, key="slack:Ev0123", now=NOW)


@pytest.fixture
def source(database_url: str) -> str:
    """A database holding T0ACME's data and a Teams tenant's."""
    engine = make_engine(database_url)
    with make_session_factory(engine).begin() as session:
        fill(session)
    engine.dispose()
    return database_url


@pytest.fixture
def empty_url(database_url: str, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A second empty, migrated database on the same backend as `database_url`."""
    if make_url(normalize_url(database_url)).get_backend_name() == "sqlite":
        path = tmp_path / "restored.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    with migrated_postgres(os.environ["TEST_DATABASE_URL"], "nudgebot_restore") as url:
        yield url


def export_to(database_url: str, directory: Path, team: str = "T0ACME") -> dict[str, Any]:
    engine = make_engine(database_url)
    with make_session_factory(engine).begin() as session:
        workspace = session.scalars(select(Workspace).where(Workspace.external_id == team)).one()
        document = export_workspace(session, workspace_id=workspace.id, now=EXPORTED)
    engine.dispose()
    write_export(directory, document)
    return document


def restore_into(database_url: str, document: Any) -> dict[str, int]:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine).begin() as session:
            return restore(session, document)
    finally:
        engine.dispose()


def row_counts(database_url: str) -> dict[str, int]:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        counts = {
            table.name: int(connection.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }
    engine.dispose()
    return counts


def columns(name: str) -> list[str]:
    return [column.name for column in Base.metadata.tables[name].columns]


def cli(database_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_bot(database_url, *args, home=cwd)


# -- The export ------------------------------------------------------------------------------------------


def test_every_table_is_exported_with_its_workspace_or_left_out_for_a_reason() -> None:
    exported = [table.name for table in workspace_tables()]

    assert exported == TABLES
    assert set(Base.metadata.tables) == {"workspaces", *exported, *LEFT_OUT}
    assert sorted(LEFT_OUT) == ["processed_requests", "rate_gates"]


def test_the_export_holds_one_workspace_in_the_documented_shape(source: str, tmp_path: Path) -> None:
    document = export_to(source, tmp_path / "export")

    assert list(document) == ["format", "version", "schema_revision", "exported_at", "workspace", "tables"]
    assert document["format"] == "nudgebot-export"
    assert (document["version"], document["schema_revision"]) == (1, head_revision())
    assert document["exported_at"] == "2026-12-02T08:30:00+00:00"
    workspace = document["workspace"]
    assert list(workspace) == columns("workspaces")
    assert {name: workspace[name] for name in ("id", "platform", "external_id", "digest_channel")} == {
        "id": 1,
        "platform": "slack",
        "external_id": "T0ACME",
        "digest_channel": "C0DIGEST",
    }
    tables = document["tables"]
    assert list(tables) == TABLES
    assert {name: len(rows) for name, rows in tables.items()} == COUNTS
    for name, rows in tables.items():
        assert [list(row) for row in rows] == [columns(name)] * len(rows)
        assert {row["workspace_id"] for row in rows} == {1}
        assert [row["id"] for row in rows] == sorted(row["id"] for row in rows)


def test_the_export_writes_each_value_as_documented(source: str, tmp_path: Path) -> None:
    tables = export_to(source, tmp_path / "export")["tables"]

    ana = tables["technicians"][0]
    settings = (
        "user_id",
        "member_id",
        "display_name",
        "email",
        "timezone",
        "profile_fetched_at",
        "created_at",
        "work_start_minute",
        "work_end_minute",
        "work_days",
        "paused_until",
        "timezone_override",
        "muted_kinds",
    )
    assert {name: ana[name] for name in settings} == {
        "user_id": "U0ANA",
        "member_id": None,
        "display_name": "Ana López",
        "email": "ana.lopez@acme.example",
        "timezone": "Europe/Madrid",
        "profile_fetched_at": "2026-11-30T15:00:00+00:00",
        "created_at": "2026-09-12T15:00:00+00:00",
        "work_start_minute": 450,
        "work_end_minute": 960,
        "work_days": "0123",
        "paused_until": "2026-12-24",
        "timezone_override": "Atlantic/Canary",
        "muted_kinds": "checkin,promise",
    }
    assert [t["display_name"] for t in tables["technicians"]] == ["Ana López", "Bo Ångström", "Zoë 中村"]
    assert [c["name"] for c in tables["clients"]] == [
        "Café Müller, GmbH",
        "東京オフィス",
        "Société d’Électricité « Lumière »",
    ]
    visit = tables["visits"][0]
    assert (visit["visited_at"], visit["followup_sent_at"], visit["remaining"]) == (
        "2026-11-26T15:00:00.123456+00:00",
        "2026-11-26T17:00:00.123456+00:00",
        "Firewall-Regeln prüfen",
    )
    assert [(t["kind"], t["outcome"], t["note"]) for t in tables["touches"]] == [
        ("visit", None, None),
        ("visit", None, None),
        ("call", "voicemail", "Rückruf erbeten"),
        ("email", None, None),
    ]
    assert [(a["status"], a["cancel_reason"]) for a in tables["appointments"]] == [
        ("planned", None),
        ("cancelled", "Client malade — reporté"),
    ]
    assert [(n["kind"], n["status"], n["technician_id"], n["parts_sent"]) for n in tables["nudges"]] == [
        ("followup", "sent", 1, 0),
        ("digest", "pending", None, 1),
    ]
    assert [(c["conversation_id"], c["technician_id"]) for c in tables["conversations"]] == [
        ("D0ANA", 1),
        ("C0DIGEST", None),
    ]
    text = (tmp_path / "export" / JSON_NAME).read_text(encoding="utf-8")
    assert "Fremde" not in text
    assert TENANT not in text
    assert "Ev0123" not in text


def test_each_table_has_a_csv_with_the_jsons_values(source: str, tmp_path: Path) -> None:
    document = export_to(source, tmp_path / "export")

    assert sorted(path.name for path in (tmp_path / "export").iterdir()) == sorted(
        [JSON_NAME, "workspaces.csv", *(f"{name}.csv" for name in TABLES)]
    )
    for name, rows in [("workspaces", [document["workspace"]]), *document["tables"].items()]:
        data = (tmp_path / "export" / f"{name}.csv").read_bytes()
        assert data.startswith(codecs.BOM_UTF8)
        read = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
        assert read[0] == columns(name)
        assert read[1:] == [["" if value is None else str(value) for value in row.values()] for row in rows]
    visits = (tmp_path / "export" / "visits.csv").read_bytes().decode("utf-8-sig")
    assert '"Replaced the ""core"" switch, patched 3 PCs;\nnext: the firewall"' in visits


# -- The restore -----------------------------------------------------------------------------------------


def test_a_restored_workspace_exports_to_the_same_bytes(source: str, empty_url: str, tmp_path: Path) -> None:
    first = export_to(source, tmp_path / "first")

    counts = restore_into(empty_url, first)
    export_to(empty_url, tmp_path / "second")

    assert counts == COUNTS
    names = sorted(path.name for path in (tmp_path / "first").iterdir())
    assert sorted(path.name for path in (tmp_path / "second").iterdir()) == names
    for name in names:
        assert (tmp_path / "second" / name).read_bytes() == (tmp_path / "first" / name).read_bytes(), name
    restored = row_counts(empty_url)
    assert restored == {"workspaces": 1, "processed_requests": 0, "rate_gates": 0} | COUNTS


def test_after_a_restore_new_rows_take_the_next_ids(source: str, empty_url: str, tmp_path: Path) -> None:
    document = export_to(source, tmp_path / "export")
    restore_into(empty_url, document)
    highest = {name: max(row["id"] for row in rows) for name, rows in document["tables"].items()}

    engine = make_engine(empty_url)
    with make_session_factory(engine).begin() as session:
        newcomer = repo.ensure_workspace(session, team_id="T0NEW", now=NOW)
        technician = repo.ensure_technician(session, workspace_id=1, user_id="U0NEW", now=NOW)
        client = repo.add_client(
            session, workspace_id=1, name="Neukunde AG", key="neukunde ag", owner_id=technician.id, now=NOW
        )
        visit = repo.add_visit(
            session,
            client=client,
            technician_id=technician.id,
            at=NOW,
            minutes=5,
            work_done="Hallo",
            remaining=None,
        )
        ids = (newcomer.id, technician.id, client.id, visit.id)
    engine.dispose()

    assert ids == (2, highest["technicians"] + 1, highest["clients"] + 1, highest["visits"] + 1)


def test_a_restore_refuses_a_database_that_holds_a_workspace_and_changes_nothing(
    source: str, tmp_path: Path
) -> None:
    document = export_to(source, tmp_path / "before")
    before = row_counts(source)

    with pytest.raises(BackupProblem) as refused:
        restore_into(source, document)

    names = f"T0ACME (slack), {TENANT} (teams)"
    assert str(refused.value) == ALREADY_HELD.format(count=2, names=names)
    assert row_counts(source) == before
    export_to(source, tmp_path / "after")
    assert (tmp_path / "after" / JSON_NAME).read_bytes() == (tmp_path / "before" / JSON_NAME).read_bytes()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"version": 2}, "the export is version 2 of the format; this Nudgebot reads version 1 only"),
        ({"version": "1"}, "the export is version '1' of the format; this Nudgebot reads version 1 only"),
        ({"format": "slack-export"}, 'not a Nudgebot export: its "format" is not "nudgebot-export"'),
        ({"tables": []}, 'the export has no "workspace" object or no "tables" object'),
    ],
)
def test_a_restore_refuses_a_file_of_another_format_or_version(
    source: str, empty_url: str, tmp_path: Path, change: dict[str, Any], problem: str
) -> None:
    document = export_to(source, tmp_path / "export") | change

    with pytest.raises(BackupProblem) as refused:
        restore_into(empty_url, document)

    assert str(refused.value) == problem
    assert row_counts(empty_url)["workspaces"] == 0


def test_a_restore_refuses_columns_and_tables_it_does_not_know(
    source: str, empty_url: str, tmp_path: Path
) -> None:
    document = export_to(source, tmp_path / "export")
    with_colour = json.loads(json.dumps(document))
    for row in with_colour["tables"]["clients"]:
        row["colour"] = "grün"
    with_notes = json.loads(json.dumps(document))
    with_notes["tables"]["notes"] = []

    with pytest.raises(BackupProblem) as colour:
        restore_into(empty_url, with_colour)
    with pytest.raises(BackupProblem) as notes:
        restore_into(empty_url, with_notes)

    assert str(colour.value) == (
        "clients has columns this Nudgebot doesn't know (colour): restore with the version of Nudgebot "
        "that wrote the export, or a newer one"
    )
    assert str(notes.value) == (
        "the export has tables this Nudgebot doesn't restore (notes): restore with the version of "
        "Nudgebot that wrote it, or a newer one"
    )
    assert row_counts(empty_url)["workspaces"] == 0


def test_a_file_written_before_a_column_existed_restores_with_its_default(
    source: str, empty_url: str, tmp_path: Path
) -> None:
    document = export_to(source, tmp_path / "export")
    for row in document["tables"]["technicians"]:
        del row["muted_kinds"], row["email"]

    restore_into(empty_url, document)

    restored = export_to(empty_url, tmp_path / "restored")["tables"]["technicians"]
    assert [(t["user_id"], t["muted_kinds"], t["email"]) for t in restored] == [
        ("U0ANA", "", None),
        ("U0BO", "", None),
        ("U0ZOE", "", None),
    ]


# -- The commands ----------------------------------------------------------------------------------------


def test_the_commands_export_and_restore_a_workspace(source: str, empty_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "backup"

    unsaid = cli(source, "export", str(folder), cwd=tmp_path)
    unknown = cli(source, "export", str(folder), "--workspace", "T0NOPE", cwd=tmp_path)
    exported = cli(source, "export", str(folder), "--workspace", "t0acme", cwd=tmp_path)
    restored = cli(empty_url, "import", "all", str(folder / JSON_NAME), cwd=tmp_path)
    again = cli(empty_url, "import", "all", str(folder / JSON_NAME), cwd=tmp_path)

    assert (unsaid.returncode, unsaid.stdout) == (2, "")
    assert unsaid.stderr == (
        f"nudgebot: Nudgebot serves 2 workspaces (T0ACME (slack), {TENANT} (teams)): "
        "say which, e.g. --workspace T0ACME\n"
    )
    assert (unknown.returncode, unknown.stdout) == (2, "")
    assert unknown.stderr == (
        f"nudgebot: Nudgebot has no workspace T0NOPE (it has: T0ACME (slack), {TENANT} (teams))\n"
    )
    assert row_counts(source)["workspaces"] == 2
    assert (exported.returncode, exported.stderr) == (0, "")
    assert exported.stdout == f"Exported workspace T0ACME to {folder}: {COUNTS_LINE}.\n"
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        [JSON_NAME, "workspaces.csv", *(f"{name}.csv" for name in TABLES)]
    )
    assert (restored.returncode, restored.stderr) == (0, "")
    assert restored.stdout == f"Restored workspace T0ACME: {COUNTS_LINE}.\n"
    assert (again.returncode, again.stdout) == (2, "")
    assert again.stderr == "nudgebot: " + ALREADY_HELD.format(count=1, names="T0ACME (slack)") + "\n"
    written = json.loads((folder / JSON_NAME).read_text(encoding="utf-8"))
    assert export_to(empty_url, tmp_path / "check") == written | {"exported_at": "2026-12-02T08:30:00+00:00"}


def test_the_restore_command_refuses_in_one_line_and_writes_nothing(
    source: str, empty_url: str, tmp_path: Path
) -> None:
    document = export_to(source, tmp_path / "export")
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(document | {"version": 2}), encoding="utf-8")
    broken = tmp_path / "broken.json"
    document["tables"]["touches"][-1]["client_id"] = 999
    broken.write_text(json.dumps(document), encoding="utf-8")

    versioned = cli(empty_url, "import", "all", str(newer), cwd=tmp_path)
    missing = cli(empty_url, "import", "all", str(tmp_path / "nope.json"), cwd=tmp_path)
    dangling = cli(empty_url, "import", "all", str(broken), cwd=tmp_path)

    assert (versioned.returncode, versioned.stdout) == (2, "")
    assert versioned.stderr == (
        "nudgebot: the export is version 2 of the format; this Nudgebot reads version 1 only\n"
    )
    assert (missing.returncode, missing.stdout) == (2, "")
    assert missing.stderr == f"nudgebot: {tmp_path / 'nope.json'} can't be read: No such file or directory\n"
    assert (dangling.returncode, dangling.stdout, dangling.stderr.count("\n")) == (2, "", 1)
    assert dangling.stderr.startswith("nudgebot: the export can't be restored, nothing was written: ")
    assert "foreign key" in dangling.stderr.casefold()
    assert row_counts(empty_url) == dict.fromkeys(Base.metadata.tables, 0)


def test_the_csvs_never_hand_a_spreadsheet_a_formula_but_keep_phone_numbers() -> None:
    rows = [
        {"id": 1, "name": '=HYPERLINK("http://evil.example","Acme")', "contact_phone": "+49 30 1234567"},
        {"id": 2, "name": "@SUM(A1)", "contact_phone": "-"},
        {"id": 3, "name": "Acme Dental", "contact_phone": "(312) 555-0100"},
    ]

    text = render_csv(Client.__table__, rows).decode("utf-8-sig")

    read = list(csv.DictReader(io.StringIO(text)))
    assert [(row["name"], row["contact_phone"]) for row in read] == [
        ('\'=HYPERLINK("http://evil.example","Acme")', "+49 30 1234567"),
        ("'@SUM(A1)", "-"),
        ("Acme Dental", "(312) 555-0100"),
    ]
