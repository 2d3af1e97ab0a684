# This script's report is its console output, so print is the right tool here.
# ruff: noqa: T201
"""Measure importing a PSA's client list of 10,000 rows, side by side with a plain bulk insert of the
same rows, in the same run.

Usage: python bench/bench_import.py [--db sqlite|postgres] [--rows 10000] [--typed 200] [--rounds 3]
                                    [--json out.json]

The file is a ConnectWise-shaped CSV (company, contact, e-mail, phone, account manager, last contact
date) of `--rows` clients owned by 20 technicians. Each round runs in a new migrated database (a
throwaway SQLite file, or a PostgreSQL database dropped after) holding one workspace, its 20
technicians and `--typed` clients typed from chat (each new name is checked against them for typos),
and times, in alternating order:
  floor    `csv.DictReader` on the decoded text, then one executemany INSERT of the rows into
           `clients` (no checks, no matching, no owners looked up), committed;
  import   `bot.clientlist` as `python -m bot import clients` runs it: decode and sniff, read the
           columns, check every row (names, e-mails, owners, dates, typos of the existing
           clients), then insert, committed;
  again    the same import a second time: every row found unchanged (the "import twice" case).
Medians are reported. Informational only: the exit status is 0.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

# The repository root must be on sys.path before these imports.
from sqlalchemy import insert  # noqa: E402

from bench.drill_crash import DEFAULT_POSTGRES, throwaway_database  # noqa: E402
from bot.clientlist.csvfile import read_table  # noqa: E402
from bot.clientlist.importer import import_table  # noqa: E402
from bot.grammar.words import match_key  # noqa: E402
from storage import repositories as repo  # noqa: E402
from storage.db import make_engine, make_session_factory  # noqa: E402
from storage.models import Client  # noqa: E402

NOW = datetime(2026, 12, 1, 15, tzinfo=UTC)
TECHNICIANS = 20
HEADER = ["Company Name", "Default Contact", "Email", "Phone Number", "Account Manager", "Last Contact Date"]


@dataclass
class Result:
    db: str
    rows: int
    floor_s: float
    import_s: float
    again_s: float

    @property
    def ratio(self) -> float:
        return self.import_s / self.floor_s


def make_file(rows: int) -> bytes:
    """A ConnectWise-shaped export, as Excel saves it (UTF-8 with BOM, CRLF)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for n in range(rows):
        writer.writerow(
            [
                f"Client {n:05} Dental, LLC",
                f"Contact {n}",
                f"contact{n}@client{n}.example",
                f"+1 312 555 {n % 10000:04}",
                f"Tech {n % TECHNICIANS:02}",
                f"{n % 9 + 1}/{n % 27 + 1}/2026",
            ]
        )
    return out.getvalue().encode("utf-8-sig")


def seed(url: str, typed: int) -> None:
    """One workspace, its technicians, and clients typed from chat before the import."""
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        workspace = repo.ensure_workspace(session, team_id="T0BENCH", now=NOW)
        for n in range(TECHNICIANS):
            technician = repo.ensure_technician(
                session, workspace_id=workspace.id, user_id=f"U{n:04}", now=NOW
            )
            technician.display_name = f"Tech {n:02}"
        session.execute(
            insert(Client),
            [
                {
                    "workspace_id": workspace.id,
                    "name": f"Typed Client {n}",
                    "match_key": match_key(f"Typed Client {n}"),
                    "checkin_cadence_days": 30,
                    "created_at": NOW,
                }
                for n in range(typed)
            ],
        )
    engine.dispose()


def floor(url: str, data: bytes) -> float:
    """The least work: parse the CSV and insert its rows as they are."""
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    started = time.perf_counter()
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    with sessions.begin() as session:
        workspace_id = repo.ensure_workspace(session, team_id="T0BENCH", now=NOW).id
        session.execute(
            insert(Client),
            [
                {
                    "workspace_id": workspace_id,
                    "name": row["Company Name"],
                    "match_key": row["Company Name"].casefold(),
                    "contact_name": row["Default Contact"],
                    "contact_email": row["Email"],
                    "contact_phone": row["Phone Number"],
                    "checkin_cadence_days": 30,
                    "created_at": NOW,
                }
                for row in rows
            ],
        )
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def run_import(url: str, data: bytes, expect_created: int) -> float:
    """The import as the command runs it, in one transaction."""
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    started = time.perf_counter()
    table = read_table(data)
    with sessions.begin() as session:
        workspace_id = repo.ensure_workspace(session, team_id="T0BENCH", now=NOW).id
        summary = import_table(session, table, workspace_id=workspace_id, now=NOW, zone=ZoneInfo("UTC"))
    elapsed = time.perf_counter() - started
    engine.dispose()
    assert not summary.problems, summary.problems[:3]
    assert summary.created == expect_created, summary
    return elapsed


def run(backend: str, postgres_url: str, rows: int, typed: int, rounds: int) -> Result:
    data = make_file(rows)
    floors: list[float] = []
    imports: list[float] = []
    agains: list[float] = []

    def measure_floor() -> None:
        with throwaway_database(backend, postgres_url) as url:
            seed(url, typed)
            floors.append(floor(url, data))

    def measure_import() -> None:
        with throwaway_database(backend, postgres_url) as url:
            seed(url, typed)
            imports.append(run_import(url, data, rows))
            agains.append(run_import(url, data, 0))

    for round_ in range(rounds):
        # Alternating order, so neither side always runs on a warmer machine.
        for measure in (
            (measure_floor, measure_import) if round_ % 2 == 0 else (measure_import, measure_floor)
        ):
            measure()
    return Result(
        db="postgresql" if backend == "postgres" else "sqlite",
        rows=rows,
        floor_s=statistics.median(floors),
        import_s=statistics.median(imports),
        again_s=statistics.median(agains),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("TEST_DATABASE_URL", DEFAULT_POSTGRES))
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--typed", type=int, default=200, help="clients already typed from chat")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    print(
        f"import: {args.rows} rows, {args.typed} clients typed before, {args.rounds} rounds, db {args.db}, "
        f"python {platform.python_version()}, {os.cpu_count()} cpus"
    )
    result = run(args.db, args.postgres_url, args.rows, args.typed, args.rounds)
    print(f"{'db':<11} {'rows':>6} {'floor s':>8} {'import s':>9} {'again s':>8} {'import/floor':>13}")
    print(
        f"{result.db:<11} {result.rows:>6} {result.floor_s:>8.2f} {result.import_s:>9.2f} "
        f"{result.again_s:>8.2f} {result.ratio:>13.2f}"
    )
    if args.json is not None:
        args.json.write_text(json.dumps({**asdict(result), "ratio": result.ratio}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
