"""Importing a PSA's client list: the files people really have, the problems in them, on both databases."""

from __future__ import annotations

import csv
import io
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clientlist.cli import Bar
from bot.clientlist.csvfile import FileProblem, read_table
from bot.clientlist.importer import Summary, import_table
from jobs.planners import plan
from storage import repositories as repo
from storage.db import make_engine, make_session_factory
from storage.models import Client, Nudge, Technician
from tests.harness import run_bot

ROOT = Path(__file__).resolve().parents[2]
PSA = ROOT / "tests" / "fixtures" / "psa"
NOW = datetime(2026, 12, 1, 15, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")
HEADER = "Company,Contact,Email,Phone,Account Manager,Last Contact Date\n"
ROWS = (
    '"Café Müller, GmbH",Jürgen Groß,jg@cafe-mueller.example,+49 30 1234567,Ana Lopez,2026-11-02\n'
    "Acme Dental,Jane Roe,jane@acmedental.example,+1 312 555 0100,Bo Berg,2026-10-14\n"
)


@pytest.fixture
def db(database_url: str) -> Iterator[Session]:
    """A session on a database with one workspace and two technicians, Ana and Bo."""
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        workspace = repo.ensure_workspace(session, team_id="T0ACME", now=NOW)
        for user, name, email in (
            ("U0ANA", "Ana Lopez", "ana.lopez@nudgebot.example"),
            ("U0BO", "Bo Berg", "bo@nudgebot.example"),
        ):
            technician = repo.ensure_technician(session, workspace_id=workspace.id, user_id=user, now=NOW)
            technician.display_name, technician.email = name, email
    session = sessions()
    yield session
    session.close()
    engine.dispose()


def workspace_id(session: Session) -> int:
    return repo.ensure_workspace(session, team_id="T0ACME", now=NOW).id


def run_import(session: Session, data: bytes, **options: Any) -> Summary:
    options.setdefault("zone", UTC_ZONE)
    summary = import_table(session, read_table(data), workspace_id=workspace_id(session), now=NOW, **options)
    session.commit()
    return summary


def clients(session: Session) -> dict[str, Client]:
    session.expire_all()
    return {client.name: client for client in session.scalars(select(Client))}


def owner_of(session: Session, client: Client) -> str | None:
    return session.get(Technician, client.owner_id).display_name if client.owner_id else None


# -- The PSAs' exports -----------------------------------------------------------------------------------


@pytest.mark.parametrize("product", ["connectwise", "autotask", "halopsa", "syncro", "kaseya_bms"])
def test_each_psas_export_imports_with_owners_contacts_and_last_contacts(db: Session, product: str) -> None:
    path = PSA / f"{product}.csv"
    expected = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))

    summary = run_import(db, path.read_bytes())

    assert (summary.problems, summary.created, summary.rows) == ([], len(expected), len(expected))
    stored = clients(db)
    assert len(stored) == len(expected)
    table = read_table(path.read_bytes())
    for row in table.rows:
        client = stored[" ".join(row.values["name"].split())]
        assert client.contact_email == row.values.get("email")
        assert client.contact_name
        assert client.contact_phone
        said = row.values.get("owner", "")
        assert owner_of(db, client) == ("Ana Lopez" if said.startswith("ana") else said or None)
        assert (client.last_touch_at is None) == (not row.values.get("last_contact"))


def test_syncros_first_and_last_name_make_the_contact(db: Session) -> None:
    run_import(db, (PSA / "syncro.csv").read_bytes())

    assert clients(db)["Pinecrest Pediatrics, PC"].contact_name == "Laura Mendez"


def test_a_last_contact_becomes_the_last_touch_read_in_the_workspaces_zone(db: Session) -> None:
    data = "Company,Last Contact\nAcme,10/14/2026 2:30 PM\nBeta,2026-10-15\nGamma,2026-10-16T07:05:09\n"

    run_import(db, data.encode(), zone=ZoneInfo("America/Chicago"))

    stored = clients(db)
    assert stored["Acme"].last_touch_at == datetime(2026, 10, 14, 19, 30, tzinfo=UTC)
    # A date alone is taken at midday, so no zone moves it to another day.
    assert stored["Beta"].last_touch_at == datetime(2026, 10, 15, 17, tzinfo=UTC)
    assert stored["Gamma"].last_touch_at == datetime(2026, 10, 16, 12, 5, 9, tzinfo=UTC)


def test_importing_the_same_file_twice_changes_nothing(db: Session) -> None:
    data = (PSA / "connectwise.csv").read_bytes()
    run_import(db, data)
    before = {name: (c.id, c.owner_id, c.contact_email, c.last_touch_at) for name, c in clients(db).items()}

    again = run_import(db, data)

    assert (again.created, again.updated, again.unchanged) == (0, 0, len(before))
    after = {name: (c.id, c.owner_id, c.contact_email, c.last_touch_at) for name, c in clients(db).items()}
    assert after == before


def test_a_changed_row_updates_only_what_the_file_gives_and_never_moves_the_last_touch_back(
    db: Session,
) -> None:
    run_import(db, (HEADER + ROWS).encode())
    changed = HEADER + "Acme Dental,,jane.roe@acmedental.example,,Ana Lopez,2026-09-01\n"

    summary = run_import(db, changed.encode())

    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 0)
    acme = clients(db)["Acme Dental"]
    assert (acme.contact_name, acme.contact_email) == ("Jane Roe", "jane.roe@acmedental.example")
    assert owner_of(db, acme) == "Ana Lopez"
    assert acme.last_touch_at == datetime(2026, 10, 14, 12, tzinfo=UTC)


# -- Files as people have them ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [
        ("utf-8", ","),
        ("utf-8-sig", ","),
        ("utf-16", ","),
        ("utf-16-le", "\t"),
        ("cp1252", ";"),
        ("utf-8", "\t"),
        ("utf-8-sig", ";"),
    ],
)
def test_excels_encodings_and_delimiters_give_the_same_clients(
    db: Session, encoding: str, delimiter: str
) -> None:
    rows = list(csv.reader(io.StringIO(HEADER + ROWS)))
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows([*rows, [], [""] * 6])

    summary = run_import(db, buffer.getvalue().encode(encoding))

    assert (summary.problems, summary.created) == ([], 2)
    cafe = clients(db)["Café Müller, GmbH"]
    assert (cafe.contact_name, owner_of(db, cafe)) == ("Jürgen Groß", "Ana Lopez")


def test_a_quoted_field_may_hold_a_newline_and_the_lines_after_it_keep_their_numbers(db: Session) -> None:
    data = HEADER + '"Acme\nDental",Jane,,,,\nBeta Law,Joe,not-an-email,,,\n'

    summary = run_import(db, data.encode())

    assert [(p.line, p.text) for p in summary.problems] == [
        (4, "“not-an-email” is not an e-mail address (e.g. jane@acmedental.com)")
    ]
    assert clients(db) == {}


# -- Broken files ----------------------------------------------------------------------------------------


def test_a_file_without_a_name_column_says_which_columns_it_has_and_what_to_call_it() -> None:
    with pytest.raises(FileProblem) as problem:
        read_table(b"Contact,Email\nJane,jane@x.example\n")

    assert "No column for the client's name on line 1" in str(problem.value)
    assert "“Contact”, “Email”" in str(problem.value)
    assert "Company" in str(problem.value)


def test_an_empty_file_says_what_it_needs() -> None:
    with pytest.raises(FileProblem, match="empty"):
        read_table(b"\r\n\r\n")


def test_every_bad_row_is_listed_with_its_line_and_nothing_is_imported(db: Session) -> None:
    data = (
        HEADER
        + "Good Client,Ann,ann@good.example,,Ana Lopez,2026-11-01\n"
        + "Too Many,Bob,bob@x.example,555,Bo Berg,2026-11-01,extra,fields\n"
        + "Good Client,Ann,ann@good.example,,Ana Lopez,2026-11-01\n"
        + "Nobody's,Cy,cy@x.example,,Sam Unknown,2026-11-01\n"
        + "Future Inc,Di,di@x.example,,,2027-01-01\n"
        + "Bad Date Ltd,Ed,ed@x.example,,,next tuesday\n"
        + ",no name,,,,\n"
    )

    summary = run_import(db, data.encode())

    said = {(p.line, p.text.split(":")[0]) for p in summary.problems}
    assert said == {
        (3, "2 more field(s) than the header"),
        (4, "“Good Client” is on line 2 too"),
        (5, "no technician is called “Sam Unknown”"),
        (6, "the last contact “2027-01-01” is in the future"),
        (7, "“next tuesday” is not a date (e.g. 2026-10-14 or 10/14/2026)"),
        (8, "no client name in “Company”"),
    }
    assert not summary.written
    assert clients(db) == {}


def test_skip_bad_rows_imports_the_others(db: Session) -> None:
    data = HEADER + ROWS + "Nobody's,Cy,cy@x.example,,Sam Unknown,2026-11-01\n"

    summary = run_import(db, data.encode(), skip_bad_rows=True)

    assert [p.line for p in summary.problems] == [4]
    assert summary.created == 2
    assert set(clients(db)) == {"Café Müller, GmbH", "Acme Dental"}


def test_a_dry_run_counts_and_writes_nothing(db: Session) -> None:
    summary = run_import(db, (HEADER + ROWS).encode(), dry_run=True)

    assert (summary.created, summary.written) == (2, False)
    assert clients(db) == {}


def test_a_near_duplicate_of_an_existing_client_is_reported_not_created(db: Session) -> None:
    run_import(db, (HEADER + ROWS).encode())
    data = HEADER + "Acme Dentl,Jane Roe,,,,\nAcme Dental 2,Joe,,,,\n"

    summary = run_import(db, data.encode())

    assert [(p.line, p.text) for p in summary.problems] == [
        (
            2,
            "“Acme Dentl” looks like the existing client “Acme Dental”: write “Acme Dental” to update it, "
            "or a name that tells them apart if it is another client",
        )
    ]
    assert set(clients(db)) == {"Café Müller, GmbH", "Acme Dental"}


def test_names_match_as_the_commands_match_them(db: Session) -> None:
    run_import(db, (HEADER + ROWS).encode())

    summary = run_import(db, (HEADER + "  ACME   dental ,Jane Roe,,,,\n").encode())

    assert (summary.created, summary.unchanged) == (0, 1)


def test_owners_are_found_by_display_name_email_or_user_id_in_any_case(db: Session) -> None:
    data = HEADER + "A,,,,ana lopez,\nB,,,,BO@NUDGEBOT.EXAMPLE,\nC,,,,@U0ANA,\nD,,,,,\n"

    run_import(db, data.encode())

    stored = clients(db)
    assert [owner_of(db, stored[name]) for name in "ABCD"] == ["Ana Lopez", "Bo Berg", "Ana Lopez", None]


def test_slash_dates_whose_order_cannot_be_told_ask_for_it(db: Session) -> None:
    data = HEADER + "A,,,,,03/04/2026\nB,,,,,05/06/2026\n"

    summary = run_import(db, data.encode())

    assert [p.text for p in summary.problems] == [
        "The dates in “Last Contact Date” could be month/day or day/month (line 2): "
        "run again with --dates mdy (10/14/2026) or --dates dmy (14/10/2026)"
    ]
    run_import(db, data.encode(), dates="dmy")
    assert clients(db)["A"].last_touch_at == datetime(2026, 4, 3, 12, tzinfo=UTC)


def test_one_unambiguous_date_decides_the_order_for_the_file(db: Session) -> None:
    run_import(db, (HEADER + "A,,,,,03/04/2026\nB,,,,,25/06/2026\n").encode())

    assert clients(db)["A"].last_touch_at == datetime(2026, 4, 3, 12, tzinfo=UTC)


def test_a_cadence_column_sets_each_clients_check_in_cadence(db: Session) -> None:
    data = "Company,Cadence Days\nA,14\nB,\nC,forever\n"

    summary = run_import(db, data.encode(), skip_bad_rows=True)

    assert [p.line for p in summary.problems] == [4]
    stored = clients(db)
    assert (stored["A"].checkin_cadence_days, stored["B"].checkin_cadence_days) == (14, 30)


# -- What the import is for ------------------------------------------------------------------------------


def test_a_month_on_the_owners_get_check_in_reminders_for_clients_nobody_typed(db: Session) -> None:
    run_import(db, (PSA / "connectwise.csv").read_bytes())
    owned = {c.name for c in clients(db).values() if c.owner_id}

    monday = datetime(2027, 1, 4, 15, tzinfo=UTC)  # 09:00 in Chicago, working hours in UTC too
    plan(db, now=monday, default_tz=ZoneInfo("America/Chicago"))
    db.commit()

    reminded = {int(n.subject.split(":")[1]) for n in db.scalars(select(Nudge)) if n.kind == "checkin"}
    assert {c.name for c in clients(db).values() if c.id in reminded} == owned


# -- The command -----------------------------------------------------------------------------------------


def cli(database_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_bot(database_url, "import", *args, home=cwd)


def test_the_command_imports_then_finds_nothing_to_change(
    db: Session, database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "clients.csv"
    path.write_bytes((PSA / "kaseya_bms.csv").read_bytes())

    first = cli(database_url, "clients", str(path), cwd=tmp_path)
    second = cli(database_url, "clients", str(path), "--workspace", "T0ACME", cwd=tmp_path)

    assert (first.returncode, first.stdout) == (0, "Imported 6 rows: 6 created, 0 updated, 0 unchanged.\n")
    assert (second.returncode, second.stdout) == (0, "Imported 6 rows: 0 created, 0 updated, 6 unchanged.\n")
    assert len(clients(db)) == 6


def test_the_command_lists_the_problems_and_exits_1(db: Session, database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text(HEADER + ROWS + "Nobody's,Cy,,,Sam Unknown,\n")

    result = cli(database_url, "clients", str(path), cwd=tmp_path)

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "line 4: no technician is called “Sam Unknown”: write their chat display name, e-mail or user id "
        "(they appear once they have used Nudgebot), or leave the owner empty",
        "Nothing imported: 1 of 3 rows have problems (listed above). Fix them and import again, "
        "or add --skip-bad-rows to import the other rows.",
    ]
    assert clients(db) == {}


def test_the_command_says_in_one_line_what_is_wrong_with_the_file(database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text("Contact,Email\nJane,jane@x.example\n")

    missing = cli(database_url, "clients", str(tmp_path / "nope.csv"), cwd=tmp_path)
    nameless = cli(database_url, "clients", str(path), "--workspace", "T0NEW", cwd=tmp_path)

    assert (missing.returncode, missing.stderr.count("\n")) == (2, 1)
    assert "nope.csv can't be read" in missing.stderr
    assert (nameless.returncode, nameless.stderr.count("\n")) == (2, 1)
    assert "No column for the client's name" in nameless.stderr


def test_with_no_workspace_yet_the_command_asks_for_one_then_creates_it(
    database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "clients.csv"
    path.write_text(HEADER + "Acme Dental,Jane Roe,,,,\n")

    asked = cli(database_url, "clients", str(path), cwd=tmp_path)
    given = cli(database_url, "clients", str(path), "--workspace", "T0FIRST", cwd=tmp_path)

    assert asked.returncode == 2
    assert "--workspace T0123ABCD" in asked.stderr
    assert (given.returncode, given.stdout) == (0, "Imported 1 rows: 1 created, 0 updated, 0 unchanged.\n")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_long_file_on_a_terminal_gets_a_progress_bar() -> None:
    screen = _Terminal()
    bar = Bar(screen, 5000)

    for done in (1, 2500, 5000):
        bar("writing", done, 5000)

    assert screen.getvalue().endswith("\rwriting   [##############################] 5000/5000\n")
    assert Bar(io.StringIO(), 5000).on is False
    assert Bar(_Terminal(), 10).on is False


def test_ten_thousand_rows_import_in_one_go(db: Session) -> None:
    lines = [HEADER] + [
        f"Client {n:05},Contact {n},c{n}@x.example,,Ana Lopez,2026-11-01\n" for n in range(10_000)
    ]

    summary = run_import(db, "".join(lines).encode())

    assert (summary.created, summary.problems) == (10_000, [])
    assert len(clients(db)) == 10_000
    assert NOW - clients(db)["Client 00042"].last_touch_at < timedelta(days=31)


def test_an_owner_is_found_by_the_full_name_where_the_display_name_is_a_first_name(db: Session) -> None:
    kai = repo.ensure_technician(db, workspace_id=workspace_id(db), user_id="U0KAI", now=NOW)
    kai.display_name, kai.full_name = "Kai", "Kai Tanaka"
    db.commit()

    summary = run_import(db, (HEADER + "Sunrise Bakery,,,,Kai Tanaka,\n").encode())

    assert summary.problems == []
    assert owner_of(db, clients(db)["Sunrise Bakery"]) == "Kai"
