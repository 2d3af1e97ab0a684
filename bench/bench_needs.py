# This script's report is its console output, so print is the right tool here.
# ruff: noqa: T201
"""Measure spotting recurring problems in visit notes (`bot.needs.spot`), side by side with a floor of
reading every word of the same notes, in the same run.

Usage: python bench/bench_needs.py [--visits 10000] [--clients 500] [--rounds 5] [--seed 7] [--json out.json]

The notes are generated, deterministically from `--seed`: `--visits` visits spread over `--clients`
clients in the last 89 days (all inside the 90-day window, so every note is read), each a few
sentences of routine work ("Monthly patching of the server, all fine.", "Replaced toner in the
front-desk printer.") plus, now and then, a problem sentence. One client in ten has a problem that
recurs: a third of its visits mention it, each time in one of several wordings; the other visits
carry a chance problem of any kind one time in twenty-five. After one warm-up, each of `--rounds`
rounds times, in alternating order:
  floor    lower-case every note and run one precompiled `re.findall(r"\\w+", text)` over it (the least
           work that reads every word);
  spot     `spot(notes, now=...)`: window, vocabulary, trouble words, counting, sorting.
Medians are reported, with the needs found and how many of the seeded recurring problems are among
them. With `--db sqlite` or `--db postgres` (TEST_DATABASE_URL's server, or --postgres), the same notes
are also stored as visits in a throwaway migrated database and the whole path App Home and the digest
take is timed: `bot.proactive.spotted` (load the window's visits and the dismissals, then spot), beside a
floor that only selects the same visit rows. Informational only: the exit status is 0.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

# The repository root must be on sys.path before this import.
from bot.needs import VisitNote, spot  # noqa: E402

NOW = datetime(2026, 12, 1, 15, tzinfo=UTC)
WORD = re.compile(r"\w+")

ROUTINE = (
    "Monthly patching of the server, all fine.",
    "Checked backups, all green.",
    "Set up a new laptop for the receptionist.",
    "Replaced toner in the front-desk printer.",
    "Installed Windows updates on 4 PCs and rebooted.",
    "Added a new user to Microsoft 365 and set up MFA.",
    "Reviewed firewall rules with the office manager.",
    "Swapped the meeting-room webcam for a newer model.",
    "Ran a test restore from Veeam, completed in 12 minutes.",
    "Tidied the network cabinet and labelled the patch panel.",
    "Renewed the SSL certificate on the web server.",
    "Walked the new starter through Outlook and Teams.",
    "Upgraded the Wi-Fi access point firmware.",
    "Moved the shared mailbox permissions for accounts.",
    "Quarterly health check: disk space fine, antivirus up to date.",
    "Mapped the shared drive on two new PCs.",
    "Configured the new VoIP handset at reception.",
    "Documented the VPN settings for the new branch.",
    "Cleaned the dust out of the UPS and the switch cabinet.",
    "Met the owner to plan next year's hardware budget.",
)
LEFT = (
    "Order a second monitor for finance.",
    "Nothing left.",
    "Follow up on the quote for new laptops.",
    "Check the UPS self-test next visit.",
    "Send the client the updated asset list.",
    "",
)
PROBLEMS = {
    "printer": (
        "Printer jammed at the front desk.",
        "Cleared a paper jam, print queue stuck again.",
        "LaserJet toner smudges, replaced the fuser.",
        "Users can't print from the upstairs copier.",
        "Print spooler crashed twice this week.",
    ),
    "vpn": (
        "AnyConnect won't connect from home.",
        "Remote access dropped for the sales team.",
        "VPN tunnel down again.",
        "GlobalProtect keeps disconnecting.",
    ),
    "backup": (
        "Backup failed overnight.",
        "Veeam job failed again.",
        "Datto backups failing with a snapshot error.",
        "Restore from last night was missing files.",
    ),
    "email": (
        "Outlook crashing on open.",
        "Mailbox full for the director.",
        "Lots of spam getting through.",
        "E-mails to the bank bouncing.",
    ),
    "wifi": (
        "Wi-Fi dropping in the back office.",
        "Dead spot by the meeting room.",
        "Wireless keeps disconnecting laptops.",
    ),
    "network": (
        "Internet down for an hour this morning.",
        "Router rebooting by itself.",
        "DNS errors all morning.",
    ),
    "sign-in": (
        "Two users locked out again.",
        "Password reset for the accountant, third time.",
        "MFA prompts not arriving.",
    ),
    "storage": (
        "Disk full on the NAS.",
        "Low disk space warning on reception.",
        "Hard drive making grinding noises.",
    ),
    "computer": (
        "Blue screen on the reception PC.",
        "Laptop very slow to start.",
        "BSOD after sleep on the director's laptop.",
    ),
    "phones": (
        "Desk phones dropping calls.",
        "No dial tone on two handsets.",
        "VoIP call quality choppy.",
    ),
    "server": (
        "Server crashed overnight.",
        "Domain controller unresponsive after a power blip.",
        "Hyper-V host froze.",
    ),
    "power": (
        "UPS beeping, battery failing.",
        "Power cut took the office down.",
        "UPS battery replaced again.",
    ),
    "security": (
        "Defender quarantined malware on a laptop.",
        "Phishing email clicked by accounts.",
        "Ransomware alert from SentinelOne.",
    ),
}
RECURRING_SHARE = 0.1
RECURRING_RATE = 1 / 3
CHANCE_RATE = 1 / 25


@dataclass
class Result:
    visits: int
    clients: int
    floor_ms: float
    spot_ms: float
    needs: int
    seeded: int
    seeded_found: int

    @property
    def ratio(self) -> float:
        return self.spot_ms / self.floor_ms


def make_notes(visits: int, clients: int, seed: int) -> tuple[list[VisitNote], set[tuple[int, str]]]:
    """Visit notes of routine work with problems mixed in, and the (client, topic) pairs seeded to recur."""
    rng = random.Random(seed)
    topics = sorted(PROBLEMS)
    recurring = {
        client_id: rng.choice(topics) for client_id in range(1, clients + 1) if rng.random() < RECURRING_SHARE
    }
    notes: list[VisitNote] = []
    mentions: Counter[tuple[int, str]] = Counter()
    for visit_id in range(1, visits + 1):
        client_id = rng.randint(1, clients)
        done = rng.sample(ROUTINE, rng.randint(1, 3))
        topic = recurring.get(client_id)
        if topic is not None and rng.random() < RECURRING_RATE:
            mentions[(client_id, topic)] += 1
        elif rng.random() < CHANCE_RATE:
            topic = rng.choice(topics)
        else:
            topic = None
        if topic is not None:
            done.insert(rng.randrange(len(done) + 1), rng.choice(PROBLEMS[topic]))
        at = NOW - timedelta(seconds=rng.randrange(89 * 24 * 3600))
        text = " ".join(done) + "\n" + rng.choice(LEFT)
        notes.append(VisitNote(visit_id=visit_id, client_id=client_id, at=at, text=text))
    return notes, {pair for pair, count in mentions.items() if count >= 3}


def floor(notes: list[VisitNote]) -> int:
    """The least work that reads every word: lower-case each note and split it into words."""
    return sum(len(WORD.findall(note.text.lower())) for note in notes)


def timed_ms(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def run(visits: int, clients: int, rounds: int, seed: int) -> Result:
    notes, seeded = make_notes(visits, clients, seed)
    needs = spot(notes, now=NOW)  # the warm-up, and the needs to report
    floor(notes)
    floors: list[float] = []
    spots: list[float] = []
    for number in range(rounds):
        # Alternating the order spreads any drift on a shared machine over both.
        order = [(floors, lambda: floor(notes)), (spots, lambda: spot(notes, now=NOW))]
        for times, action in order if number % 2 == 0 else order[::-1]:
            times.append(timed_ms(action))
    found = {(need.client_id, need.topic) for need in needs}
    return Result(
        visits=visits,
        clients=clients,
        floor_ms=statistics.median(floors),
        spot_ms=statistics.median(spots),
        needs=len(needs),
        seeded=len(seeded),
        seeded_found=len(seeded & found),
    )


@dataclass(frozen=True)
class DatabaseResult:
    """The whole path on a database: loading the window's visits and spotting, against loading alone."""

    database: str
    select_ms: float
    spotted_ms: float
    needs: int

    @property
    def ratio(self) -> float:
        return self.spotted_ms / self.select_ms if self.select_ms else float("inf")


def run_database(
    kind: str, postgres: str, notes: list[VisitNote], clients: int, rounds: int
) -> DatabaseResult:
    """Store the notes as visits of one workspace, then time `proactive.spotted` against a bare select."""
    from sqlalchemy import insert, select

    from bench.drill_crash import throwaway_database
    from bot import proactive
    from storage.db import make_engine, make_session_factory
    from storage.models import Client, Technician, Visit, Workspace

    with throwaway_database(kind, postgres) as url:
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        with sessions.begin() as session:
            workspace = Workspace(
                platform="slack", external_id="TBENCH", created_at=NOW - timedelta(days=400)
            )
            session.add(workspace)
            session.flush()
            owner = Technician(workspace_id=workspace.id, user_id="UBENCH", created_at=NOW)
            session.add(owner)
            session.flush()
            session.execute(
                insert(Client),
                [
                    {
                        "id": number,
                        "workspace_id": workspace.id,
                        "name": f"Client {number}",
                        "match_key": f"client {number}",
                        "owner_id": owner.id,
                        "checkin_cadence_days": 30,
                        "created_at": NOW - timedelta(days=400),
                    }
                    for number in range(1, clients + 1)
                ],
            )
            session.execute(
                insert(Visit),
                [
                    {
                        "id": note.visit_id,
                        "workspace_id": workspace.id,
                        "client_id": note.client_id,
                        "technician_id": owner.id,
                        "visited_at": note.at,
                        "minutes": 60,
                        "work_done": note.text,
                        "remaining": None,
                        "created_at": note.at,
                    }
                    for note in notes
                ],
            )
            workspace_id = workspace.id
        if kind == "postgresql" or url.startswith("postgresql"):
            with engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")

        def bare() -> object:
            with sessions() as session:
                return session.execute(
                    select(
                        Visit.id, Visit.client_id, Visit.visited_at, Visit.work_done, Visit.remaining
                    ).where(Visit.workspace_id == workspace_id, Visit.visited_at >= NOW - timedelta(days=90))
                ).all()

        def whole() -> object:
            with sessions() as session:
                return proactive.spotted(session, now=NOW, workspace_id=workspace_id)

        with sessions() as session:
            found = len(proactive.spotted(session, now=NOW, workspace_id=workspace_id))
        bare()
        selects: list[float] = []
        spotted: list[float] = []
        for number in range(rounds):
            order = [(selects, bare), (spotted, whole)]
            for times, action in order if number % 2 == 0 else order[::-1]:
                times.append(timed_ms(action))
        engine.dispose()
    return DatabaseResult(kind, statistics.median(selects), statistics.median(spotted), found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--visits", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--db", choices=["sqlite", "postgres"], action="append", default=[])
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="server for --db postgres",
    )
    args = parser.parse_args(argv)
    print(
        f"needs: {args.visits} visits, {args.clients} clients, {args.rounds} rounds, seed {args.seed}, "
        f"python {platform.python_version()}, {os.cpu_count()} cpus"
    )
    result = run(args.visits, args.clients, args.rounds, args.seed)
    print(
        f"{'visits':>7} {'clients':>7} {'floor ms':>9} {'spot ms':>8} {'spot/floor':>10} {'needs':>6} "
        f"{'seeded found':>12}"
    )
    print(
        f"{result.visits:>7} {result.clients:>7} {result.floor_ms:>9.1f} {result.spot_ms:>8.1f} "
        f"{result.ratio:>10.2f} {result.needs:>6} {f'{result.seeded_found}/{result.seeded}':>12}"
    )
    databases = []
    if args.db:
        notes, _ = make_notes(args.visits, args.clients, args.seed)
        print(f"\n{'database':>10} {'select ms':>9} {'spotted ms':>10} {'ratio':>6} {'needs':>6}")
        for kind in args.db:
            found = run_database(kind, args.postgres, notes, args.clients, args.rounds)
            databases.append({**asdict(found), "ratio": found.ratio})
            print(
                f"{found.database:>10} {found.select_ms:>9.1f} {found.spotted_ms:>10.1f} {found.ratio:>6.2f} "
                f"{found.needs:>6}"
            )
    if args.json is not None:
        figures = {**asdict(result), "ratio": result.ratio, "databases": databases}
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
