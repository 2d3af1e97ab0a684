"""`python -m bot import clients FILE.csv [--workspace ID] [--dry-run] [--skip-bad-rows] [--dates mdy|dmy]`,
and `python -m bot import all FILE.json` (a whole workspace from `python -m bot export`, in backup.py).

Exit status: 0 imported (or, on a dry run, importable), 1 rows with problems, 2 a file or setting unusable.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clientlist.csvfile import FileProblem, read_table
from bot.clientlist.importer import Summary, describe, import_table
from bot.services import Services
from bot.settings import SettingsError, load_settings
from bot.wiring import build_services
from storage import repositories as repo
from storage.models import Workspace

# A Teams tenant id is a GUID; anything else given to --workspace is taken for a Slack team id.
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
PROGRESS_FROM = 2000  # rows: shorter files finish before a bar would be worth drawing


def find_workspace(session: Session, given: str | None, now: datetime, *, create: bool = True) -> Workspace:
    """The workspace named by its Slack team id or Teams tenant id, or the only one there is; an id not seen
    yet makes a new workspace unless `create` is false."""
    workspaces = session.scalars(select(Workspace).order_by(Workspace.id)).all()
    if given:
        for workspace in workspaces:
            if workspace.external_id.casefold() == given.casefold():
                return workspace
        if not create:
            known = ", ".join(f"{w.external_id} ({w.platform})" for w in workspaces) or "none yet"
            raise SettingsError(f"Nudgebot has no workspace {given} (it has: {known})")
        # Not seen yet (nobody has used the bot): the import may come first. Tenant ids are in lower case.
        if _GUID.match(given):
            return repo.ensure_workspace(session, team_id=given.lower(), now=now, platform="teams")
        return repo.ensure_workspace(session, team_id=given, now=now)
    if len(workspaces) == 1:
        return workspaces[0]
    if not workspaces and not create:
        raise SettingsError("Nudgebot has no workspace yet")
    if not workspaces:
        raise SettingsError(
            "Nudgebot has no workspace yet: give yours, e.g. --workspace T0123ABCD (your Slack team id) "
            "or --workspace 72f988bf-86f1-41af-91ab-2d7cd011db47 (your Teams tenant id)"
        )
    known = ", ".join(f"{w.external_id} ({w.platform})" for w in workspaces)
    raise SettingsError(
        f"Nudgebot serves {len(workspaces)} workspaces ({known}): "
        f"say which, e.g. --workspace {workspaces[0].external_id}"
    )


class Bar:
    """A progress bar on a terminal, redrawn at most ten times a second; silent elsewhere."""

    def __init__(self, out: TextIO, total: int) -> None:
        self.out = out
        self.on = out.isatty() and total >= PROGRESS_FROM
        self.last = 0.0

    def __call__(self, phase: str, done: int, total: int) -> None:
        if not self.on or (done < total and time.monotonic() - self.last < 0.1):
            return
        self.last = time.monotonic()
        width = 30
        filled = width * done // max(total, 1)
        self.out.write(f"\r{phase:<9} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            self.out.write("\n")
        self.out.flush()


def report(summary: Summary, *, dry_run: bool) -> str:
    """What the import did, as the command prints it."""
    return "\n".join(describe(summary, dry_run=dry_run))


def run(services: Services, path: Path, args: argparse.Namespace, out: TextIO) -> int:
    """Import the file; 0 when it was imported (or would be), 1 when its rows have problems."""
    try:
        data = path.read_bytes()
    except OSError as failure:
        raise SettingsError(f"{path} can't be read: {failure.strerror}") from None
    table = read_table(data)
    zone = ZoneInfo(services.settings.default_timezone)
    bar = Bar(out, len(table.rows))
    with services.sessions.begin() as session:
        workspace = find_workspace(session, args.workspace, services.clock())
        summary = import_table(
            session,
            table,
            workspace_id=workspace.id,
            now=services.clock(),
            zone=zone,
            dates=args.dates,
            skip_bad_rows=args.skip_bad_rows,
            dry_run=args.dry_run,
            progress=bar,
        )
    out.write(report(summary, dry_run=args.dry_run) + "\n")
    return 1 if summary.problems and not summary.skipped else 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["all"]:
        from bot.clientlist.backup import restore_main

        return restore_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m bot import",
        description="Import your clients from a PSA's CSV export (ConnectWise PSA, Autotask, HaloPSA, "
        "Syncro, Kaseya BMS, or any spreadsheet with a Company column).",
    )
    parser.add_argument(
        "what",
        choices=["clients", "all"],
        help="what the file holds: clients (a CSV file), or all (python -m bot export's "
        "nudgebot-export.json, restored into an empty database: python -m bot import all -h)",
    )
    parser.add_argument("file", type=Path, help="the CSV file (or the JSON file)")
    parser.add_argument(
        "--workspace", help="your Slack team id or Teams tenant id (needed when there are several)"
    )
    parser.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
    parser.add_argument("--skip-bad-rows", action="store_true", help="import the good rows when some are bad")
    parser.add_argument(
        "--dates",
        choices=["mdy", "dmy"],
        help="the order of slash dates when the file can't tell (10/14 or 14/10)",
    )
    args = parser.parse_args(argv)
    try:
        services = build_services(load_settings())
        return run(services, args.file, args, sys.stdout)
    except (SettingsError, FileProblem) as problem:
        sys.stderr.write(f"nudgebot: {problem}\n")
        return 2
