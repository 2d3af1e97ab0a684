"""A workspace's data, exported to JSON and CSV files and restored from the JSON into an empty database.

`python -m bot export DIR [--workspace ID]` and `python -m bot import all FILE.json`; the format is
described in docs/export.md. The tables and their columns come from the models' metadata, so a column or
a workspace table added later is exported and restored without a change here.
"""

from __future__ import annotations

import argparse
import csv
import enum
import io
import json
import re
import sys
import zipfile
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Column, Table, func, insert, select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from bot.services import Services
from bot.settings import SettingsError, load_settings
from bot.wiring import build_services
from storage.migrate import current_revision, head_revision
from storage.models import Base, Workspace

FORMAT = "nudgebot-export"
VERSION = 1
JSON_NAME = "nudgebot-export.json"
# Tables that belong to no one's data: written again by the bot as it runs, and wrong to carry elsewhere.
LEFT_OUT = {
    "processed_requests": "replay keys of chat requests already handled; the platforms stop retrying "
    "within minutes, and the bot purges them itself",
    "rate_gates": "how long a chat platform asked the bot to slow down (HTTP 429); it lapses in seconds",
}
WORKSPACES = Base.metadata.tables["workspaces"]

JsonValue = str | int | float | bool | None


class BackupProblem(Exception):
    """A file, folder or database an export can't be written to or restored from, said in one line."""


def workspace_tables() -> list[Table]:
    """The tables exported with a workspace besides its own row, parents before children."""
    tables: list[Table] = []
    for table in Base.metadata.sorted_tables:
        if table is WORKSPACES or table.name in LEFT_OUT:
            continue
        if "workspace_id" not in table.columns:
            # Leaving a table out of a backup silently loses data: a new one must be placed on purpose.
            raise RuntimeError(
                f"table {table.name} has no workspace_id: export it by its parent or list it in LEFT_OUT"
            )
        tables.append(table)
    return tables


def _encode(value: Any) -> JsonValue:
    """A column's value as JSON writes it: datetimes in ISO-8601 at UTC, dates ISO, enums by their value."""
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in the database; every timestamp column is UTC")
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"the export can't write a {type(value).__name__}: teach bot/clientlist/backup.py")


def _rows(session: Session, table: Table, condition: Any) -> list[dict[str, JsonValue]]:
    query = select(table).where(condition).order_by(*table.primary_key.columns)
    return [
        {column.name: _encode(row[column]) for column in table.columns}
        for row in session.execute(query).mappings()
    ]


def export_workspace(session: Session, *, workspace_id: int, now: datetime) -> dict[str, Any]:
    """The export document of one workspace: its row and every row of its tables, by primary key."""
    (workspace,) = _rows(session, WORKSPACES, WORKSPACES.c.id == workspace_id)
    return {
        "format": FORMAT,
        "version": VERSION,
        "schema_revision": head_revision(),
        "exported_at": _encode(now),
        "workspace": workspace,
        "tables": {
            table.name: _rows(session, table, table.c.workspace_id == workspace_id)
            for table in workspace_tables()
        },
    }


# What a spreadsheet reads as a formula, and what starts like one but is a phone number or amount.
_FORMULA = re.compile(r"^[=+\-@\t\r]")
_NUMBER = re.compile(r"^[+-][\d\s().\-/]*$")


def render_json(document: Mapping[str, Any]) -> bytes:
    """The JSON file's bytes: keys in column order, accents as they are, the same bytes for the same data."""
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _cell(value: JsonValue) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if isinstance(value, str) and _FORMULA.match(text) and not _NUMBER.match(text):
        # A name typed in chat as =HYPERLINK(…) must not run as a formula when a manager opens the CSV
        # in a spreadsheet; the JSON, which restores, keeps it exactly.
        return "'" + text
    return text


def render_csv(table: Table, rows: Iterable[Mapping[str, JsonValue]]) -> bytes:
    """A table as CSV with the JSON's values (null empty), in UTF-8 with a BOM so Excel shows accents."""
    text = io.StringIO()
    writer = csv.writer(text)
    names = [column.name for column in table.columns]
    writer.writerow(names)
    writer.writerows([_cell(row.get(name)) for name in names] for row in rows)
    return text.getvalue().encode("utf-8-sig")


def export_files(document: Mapping[str, Any]) -> dict[str, bytes]:
    """The export's files by name: the JSON, and one CSV per table (the workspace's row in workspaces.csv)."""
    files = {JSON_NAME: render_json(document)}
    files[f"{WORKSPACES.name}.csv"] = render_csv(WORKSPACES, [document["workspace"]])
    for table in workspace_tables():
        files[f"{table.name}.csv"] = render_csv(table, document["tables"][table.name])
    return files


def zip_export(document: Mapping[str, Any]) -> bytes:
    """The export's files in one zip (what a manager's `/visit export` sends), dated as exported."""
    stamp = datetime.fromisoformat(document["exported_at"]).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in export_files(document).items():
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def write_export(directory: Path, document: Mapping[str, Any]) -> list[Path]:
    """Write the export's files into `directory`."""
    files = {directory / name: data for name, data in export_files(document).items()}
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for path, data in files.items():
            path.write_bytes(data)
    except OSError as failure:
        raise BackupProblem(f"{failure.filename or directory} can't be written: {failure.strerror}") from None
    return list(files)


def read_document(path: Path) -> dict[str, Any]:
    """An export file, read and checked to be one this version of Nudgebot restores."""
    try:
        document = json.loads(path.read_bytes().decode("utf-8-sig"))
    except OSError as failure:
        raise BackupProblem(f"{path} can't be read: {failure.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as failure:
        raise BackupProblem(f"{path} is not a Nudgebot export (not JSON: {failure})") from None
    check_document(document)
    return document  # type: ignore[no-any-return]


def check_document(document: Any) -> None:
    """Refuse a document that is not an export, or of a format version this Nudgebot does not read."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BackupProblem(f'not a Nudgebot export: its "format" is not "{FORMAT}"')
    if document.get("version") != VERSION:
        raise BackupProblem(
            f"the export is version {document.get('version')!r} of the format; this Nudgebot reads "
            f"version {VERSION} only"
        )
    if not isinstance(document.get("workspace"), dict) or not isinstance(document.get("tables"), dict):
        raise BackupProblem('the export has no "workspace" object or no "tables" object')


def _python_type(column: Column[Any]) -> type | None:
    kind = column.type.impl_instance if isinstance(column.type, TypeDecorator) else column.type
    try:
        python_type: type = kind.python_type
    except NotImplementedError:
        return None
    return python_type


def _decode(table: Table, column: Column[Any], value: Any, row_id: Any) -> Any:
    """A JSON value back into what the column takes; a wrong one names its table, row and column."""
    if value is None:
        return None
    python_type = _python_type(column)
    where = f"{table.name} row {row_id}, column {column.name}"
    try:
        if python_type is datetime:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                raise ValueError("no UTC offset")
            return moment.astimezone(UTC)
        if python_type is date:
            return date.fromisoformat(value)
        if python_type is not None and issubclass(python_type, enum.Enum):
            return python_type(value)
    except (TypeError, ValueError) as failure:
        raise BackupProblem(f"{where}: {value!r} can't be read ({failure})") from None
    if python_type is not None and python_type in (int, str, bool) and not isinstance(value, python_type):
        raise BackupProblem(f"{where}: {value!r} is not a {python_type.__name__}")
    return value


def _decode_rows(table: Table, rows: Any, workspace_id: Any) -> list[dict[str, Any]]:
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise BackupProblem(f'"{table.name}" in the export is not a list of rows')
    names = list(rows[0]) if rows else []
    # Columns the file lacks (written before they existed) take their defaults; unknown ones would be lost.
    unknown = [name for name in names if name not in table.columns]
    if unknown:
        raise BackupProblem(
            f"{table.name} has columns this Nudgebot doesn't know ({', '.join(unknown)}): restore with the "
            "version of Nudgebot that wrote the export, or a newer one"
        )
    decoded = []
    for row in rows:
        if list(row) != names:
            raise BackupProblem(f"{table.name} row {row.get('id')} has other columns than its first row")
        if "workspace_id" in row and row["workspace_id"] != workspace_id:
            raise BackupProblem(f"{table.name} row {row.get('id')} belongs to another workspace")
        decoded.append({name: _decode(table, table.c[name], row[name], row.get("id")) for name in names})
    return decoded


def restore(session: Session, document: Any) -> dict[str, int]:
    """Insert an export into an empty database with its ids kept; how many rows each table got."""
    check_document(document)
    held = session.scalars(select(Workspace).order_by(Workspace.id)).all()
    if held:
        names = ", ".join(f"{workspace.external_id} ({workspace.platform})" for workspace in held)
        raise BackupProblem(
            f"the database already holds {len(held)} workspace(s) ({names}): restore only into an empty "
            "database (a new one; python -m bot migrate prepares it)"
        )
    workspace_id = document["workspace"].get("id")
    (workspace,) = _decode_rows(WORKSPACES, [document["workspace"]], None)
    tables = workspace_tables()
    unknown = sorted(set(document["tables"]) - {table.name for table in tables})
    if unknown:
        raise BackupProblem(
            f"the export has tables this Nudgebot doesn't restore ({', '.join(unknown)}): restore with the "
            "version of Nudgebot that wrote it, or a newer one"
        )
    rows = {
        table.name: _decode_rows(table, document["tables"].get(table.name, []), workspace_id)
        for table in tables
    }
    session.execute(insert(WORKSPACES), [workspace])
    for table in tables:
        if rows[table.name]:
            session.execute(insert(table), rows[table.name])
    if session.get_bind().dialect.name == "postgresql":
        _reset_sequences(session, [WORKSPACES, *tables])
    return {table.name: len(rows[table.name]) for table in tables}


def _reset_sequences(session: Session, tables: list[Table]) -> None:
    # Rows inserted with their ids leave PostgreSQL's sequences at 1: the next insert would take id 1 again.
    # The next value is set to MAX(id) + 1 (1 for an empty table); SQLite takes MAX(rowid) + 1 by itself.
    for table in tables:
        column = table.autoincrement_column
        if column is None:
            continue
        highest = select(func.max(column)).scalar_subquery()
        sequence = func.pg_get_serial_sequence(table.name, column.name)
        session.execute(select(func.setval(sequence, func.coalesce(highest, 0) + 1, False)))


def counts_line(counts: Mapping[str, int]) -> str:
    """ "2 technicians, 8 clients, …": how many rows of each table."""
    return ", ".join(f"{count} {name}" for name, count in counts.items())


def _require_head(services: Services) -> None:
    engine = services.sessions.kw["bind"]
    have, want = current_revision(engine), head_revision()
    if have != want:
        raise BackupProblem(
            f"the database's schema is at revision {have or 'none'} and this Nudgebot's at {want}: "
            "run python -m bot migrate first"
        )


def run_export(services: Services, directory: Path, given: str | None, out: TextIO) -> int:
    """Export the workspace named (or the only one) into `directory`; 0 when written."""
    from bot.clientlist.cli import find_workspace

    _require_head(services)
    with services.sessions.begin() as session:
        if session.get_bind().dialect.name == "postgresql":
            # One snapshot of every table: a touch written between reading visits and touches would
            # otherwise point at a visit missing from the export, and the restore would refuse it.
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        workspace = find_workspace(session, given, services.clock(), create=False)
        document = export_workspace(session, workspace_id=workspace.id, now=services.clock())
    write_export(directory, document)
    counts = {name: len(rows) for name, rows in document["tables"].items()}
    out.write(f"Exported workspace {workspace.external_id} to {directory}: {counts_line(counts)}.\n")
    return 0


def run_restore(services: Services, document: dict[str, Any], out: TextIO) -> int:
    """Restore a checked export document into the (empty) database; 0 when restored."""
    _require_head(services)
    try:
        with services.sessions.begin() as session:
            counts = restore(session, document)
    except StatementError as failure:
        # A hand-edited file whose rows don't fit the schema or each other; nothing was written.
        reason = str(getattr(failure, "orig", None) or failure).strip().splitlines()[0]
        raise BackupProblem(f"the export can't be restored, nothing was written: {reason}") from None
    external_id = document["workspace"].get("external_id")
    out.write(f"Restored workspace {external_id}: {counts_line(counts)}.\n")
    return 0


def _fail(problem: Exception) -> int:
    sys.stderr.write(f"nudgebot: {problem}\n")
    return 2


def export_main(argv: list[str]) -> int:
    """`python -m bot export DIR [--workspace ID]`: 0 written, 2 a folder, setting or database unusable."""
    parser = argparse.ArgumentParser(
        prog="python -m bot export",
        description="Write everything of one workspace into a folder: nudgebot-export.json (restored by "
        "python -m bot import all) and one CSV file per table for spreadsheets. See docs/export.md.",
    )
    parser.add_argument("directory", type=Path, help="the folder to write into (made when missing)")
    parser.add_argument(
        "--workspace", help="your Slack team id or Teams tenant id (needed when there are several)"
    )
    args = parser.parse_args(argv)
    try:
        return run_export(build_services(load_settings()), args.directory, args.workspace, sys.stdout)
    except (SettingsError, BackupProblem) as problem:
        return _fail(problem)


def restore_main(argv: list[str]) -> int:
    """`python -m bot import all FILE.json`: 0 restored, 2 a file, setting or database unusable."""
    parser = argparse.ArgumentParser(
        prog="python -m bot import all",
        description="Restore a workspace from python -m bot export's nudgebot-export.json into an empty "
        "database, keeping its ids. See docs/export.md.",
    )
    parser.add_argument("file", type=Path, help="the nudgebot-export.json file")
    args = parser.parse_args(argv)
    try:
        # The file is checked before the database is opened (and perhaps migrated).
        document = read_document(args.file)
        return run_restore(build_services(load_settings()), document, sys.stdout)
    except (SettingsError, BackupProblem) as problem:
        return _fail(problem)
