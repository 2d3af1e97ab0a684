"""Importing a PSA's client list: check every row, then create, update or leave each client, all at once.

Matching is the commands' own: a row is an existing client when its name has the same `match_key`.
A new name within a typo of an existing client's ("Acme Dentl") is a problem on its row, never a
second client. All or nothing by default: one bad row and nothing is imported, every problem listed
with its line; `skip_bad_rows` imports the others.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from bot.clientlist.csvfile import Row, Table
from bot.clients import MAX_SUGGESTIONS, near_names
from bot.grammar.words import match_key, tidy_name
from storage.models import DEFAULT_CADENCE_DAYS, Client, Technician

# A new name this close to an existing client's (rapidfuzz ratio, 0-100) is taken for a typo of it.
# "Acme Dentl" is 95 from "Acme Dental"; "Smith Dental North" is 89 from "Smith Dental South".
NEAR = 90
MAX_NAME = 200
MAX_CADENCE = 365
CHUNK = 1000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ](.*))?$")
_NUMERIC = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{2}|\d{4})(?:[ T](.*))?$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([AaPp][Mm])?(?:Z|[+-]\d{2}:?\d{2})?$")
FIELDS = ("contact_name", "contact_email", "contact_phone", "owner_id", "checkin_cadence_days")


# Where the import was asked for, which says how to ask again: the command's options, or words in chat.
Asking = Literal["command", "chat"]


@dataclass(frozen=True)
class Problem:
    line: int
    text: str


@dataclass
class Summary:
    """What an import did (or, on a dry run or with problems, would do)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    skipped: bool = False  # whether the rows with problems were skipped (and the rest imported)
    written: bool = False

    @property
    def imported(self) -> bool:
        return self.written and (self.skipped or not self.problems)


@dataclass(frozen=True)
class _Planned:
    line: int
    name: str
    key: str
    values: dict[str, object]
    last_touch: datetime | None


class DateOrder:
    """Whether slash dates are month first (10/14/2026) or day first (14/10/2026), decided per file."""

    def __init__(self, rows: Sequence[Row], given: str | None) -> None:
        self.day_first: bool | None = None if given is None else given == "dmy"
        self.ambiguous_line: int | None = None
        if given is not None:
            return
        month_first = day_first = False
        for row in rows:
            found = _NUMERIC.match(row.values.get("last_contact", ""))
            if not found:
                continue
            first, second = int(found[1]), int(found[3])
            if found[2] == ".":
                day_first = True  # 14.10.2026: dots are day first wherever they are written
            elif first > 12:
                day_first = True
            elif second > 12:
                month_first = True
            elif first != second and self.ambiguous_line is None:
                self.ambiguous_line = row.line
        if day_first != month_first:
            self.day_first = day_first

    def problem(self, column: str, asking: Asking) -> str | None:
        """Why the file's dates can't be read, when their order can't be told."""
        if self.day_first is None and self.ambiguous_line is not None:
            said = f"The dates in “{column}” could be month/day or day/month (line {self.ambiguous_line}): "
            if asking == "chat":
                return said + "send the file again with “dates mdy” (10/14/2026) or “dates dmy” (14/10/2026)"
            return said + "run again with --dates mdy (10/14/2026) or --dates dmy (14/10/2026)"
        return None


def parse_when(text: str, order: DateOrder, zone: ZoneInfo) -> datetime | None:
    """A last-contact date as PSAs export it (2026-10-14, 10/14/2026 2:30 PM, 14.10.2026); None if not."""
    iso = _ISO.match(text)
    if iso:
        year, month, day, rest = int(iso[1]), int(iso[2]), int(iso[3]), iso[4]
    else:
        numeric = _NUMERIC.match(text)
        if not numeric:
            return None
        first, second, rest = int(numeric[1]), int(numeric[3]), numeric[5]
        year = int(numeric[4]) + (2000 if len(numeric[4]) == 2 else 0)
        day, month = (first, second) if order.day_first or numeric[2] == "." else (second, first)
    at = time(12)  # a date alone: midday, so no zone moves it to another day
    if rest:
        clock = _TIME.match(rest.strip())
        if not clock:
            return None
        hour, minute, second_ = int(clock[1]), int(clock[2]), int(clock[3] or 0)
        if clock[4]:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if clock[4].lower() == "pm" else 0)
        try:
            at = time(hour, minute, second_)
        except ValueError:
            return None
    try:
        local = datetime.combine(date(year, month, day), at, tzinfo=zone)
    except ValueError:
        return None
    return local.astimezone(UTC)


class Owners:
    """The workspace's technicians, found by display name, full name, user id or e-mail, without case."""

    def __init__(self, technicians: Sequence[Technician]) -> None:
        self.by: dict[str, set[int]] = {}
        for technician in technicians:
            for said in (technician.display_name, technician.full_name, technician.user_id, technician.email):
                if said:
                    self.by.setdefault(match_key(said.lstrip("@")), set()).add(technician.id)

    def find(self, said: str) -> int | str:
        """The technician's id, or why there is none."""
        found = self.by.get(match_key(said.lstrip("@")), set())
        if len(found) == 1:
            return next(iter(found))
        if found:
            return f"“{said}” is the name of {len(found)} technicians: write their e-mail or user id instead"
        return (
            f"no technician is called “{said}”: write their chat display name, e-mail or user id "
            "(they appear once they have used Nudgebot), or leave the owner empty"
        )


def _near(key: str, existing: dict[str, str]) -> str | None:
    """The existing client a new name is a typo of, if any ("Store 2" is not a typo of "Store 1")."""
    found = near_names(key, existing, cutoff=NEAR, limit=MAX_SUGGESTIONS)
    return found[0][0] if found else None


def check_rows(
    table: Table,
    *,
    existing_names: dict[str, str],
    owners: Owners,
    order: DateOrder,
    zone: ZoneInfo,
    now: datetime,
    progress: Callable[[int], None] = lambda done: None,
) -> tuple[list[_Planned], list[Problem]]:
    """Each row as a client's values, or the problems on it (several per row when it has several)."""
    planned: list[_Planned] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for done, row in enumerate(table.rows, 1):
        progress(done)
        found: list[str] = []
        values = row.values
        if row.extra_fields:
            found.append(
                f"{row.extra_fields} more field(s) than the header: a value with a "
                f"{table.delimiter} in it needs quotes around it"
            )
        name = tidy_name(values.get("name", ""))
        key = match_key(name)
        if not name:
            found.append(f"no client name in “{table.columns['name']}”")
        elif len(name) > MAX_NAME:
            found.append(f"the name is longer than {MAX_NAME} characters")
        elif key in seen:
            found.append(f"“{name}” is on line {seen[key]} too: keep one of the two lines")
        elif key not in existing_names and (typo_of := _near(key, existing_names)) is not None:
            found.append(
                f"“{name}” looks like the existing client “{typo_of}”: write “{typo_of}” to update it, "
                "or a name that tells them apart if it is another client"
            )
        seen.setdefault(key, row.line)
        contact = values.get("contact") or " ".join(
            part for part in (values.get("first_name"), values.get("last_name")) if part
        )
        email = values.get("email")
        if email and not _EMAIL.match(email):
            found.append(f"“{email}” is not an e-mail address (e.g. jane@acmedental.com)")
        owner_id: int | None = None
        if values.get("owner"):
            owner = owners.find(values["owner"])
            if isinstance(owner, str):
                found.append(owner)
            else:
                owner_id = owner
        cadence: int | None = None
        if values.get("cadence"):
            said = values["cadence"]
            if said.isdigit() and 1 <= int(said) <= MAX_CADENCE:
                cadence = int(said)
            else:
                found.append(
                    f"the cadence “{said}” is not a number of days from 1 to {MAX_CADENCE} (e.g. 30)"
                )
        last_touch: datetime | None = None
        if values.get("last_contact"):
            said = values["last_contact"]
            last_touch = parse_when(said, order, zone)
            if last_touch is None:
                found.append(f"“{said}” is not a date (e.g. 2026-10-14 or 10/14/2026)")
            elif last_touch > now:
                found.append(f"the last contact “{said}” is in the future")
        if found:
            problems.extend(Problem(row.line, text) for text in found)
            continue
        given: dict[str, object] = {
            "contact_name": contact or None,
            "contact_email": email,
            "contact_phone": values.get("phone"),
            "owner_id": owner_id,
            "checkin_cadence_days": cadence,
        }
        planned.append(
            _Planned(row.line, name, key, {k: v for k, v in given.items() if v is not None}, last_touch)
        )
    return planned, problems


def apply(
    session: Session,
    *,
    workspace_id: int,
    planned: Sequence[_Planned],
    now: datetime,
    summary: Summary,
    write: bool,
    progress: Callable[[int], None] = lambda done: None,
) -> None:
    """Create the new clients and update the changed ones (only the fields the file gives)."""
    keys = [row.key for row in planned]
    current = {
        row.match_key: row
        for start in range(0, len(keys), CHUNK)
        for row in session.execute(
            select(
                Client.id,
                Client.match_key,
                Client.last_touch_at,
                *(getattr(Client, name) for name in FIELDS),
            ).where(Client.workspace_id == workspace_id, Client.match_key.in_(keys[start : start + CHUNK]))
        )
    }
    new: list[dict[str, object]] = []
    changed: list[dict[str, object]] = []
    for row in planned:
        client = current.get(row.key)
        if client is None:
            new.append(
                {
                    "workspace_id": workspace_id,
                    "name": row.name,
                    "match_key": row.key,
                    "checkin_cadence_days": DEFAULT_CADENCE_DAYS,
                    "last_touch_at": row.last_touch,
                    "created_at": now,
                    **row.values,
                }
            )
            continue
        differs = {name: value for name, value in row.values.items() if getattr(client, name) != value}
        # A last contact only ever moves the check-in clock forward: the file can be older than the chat.
        if row.last_touch is not None and (
            client.last_touch_at is None or row.last_touch > client.last_touch_at
        ):
            differs["last_touch_at"] = row.last_touch
        if differs:
            changed.append({"id": client.id, **differs})
    summary.created, summary.updated = len(new), len(changed)
    summary.unchanged = len(planned) - len(new) - len(changed)
    if not write:
        return
    done = 0
    for start in range(0, len(new), CHUNK):
        session.execute(insert(Client), new[start : start + CHUNK])
        done += len(new[start : start + CHUNK])
        progress(done)
    # Rows differ in which fields changed: one executemany per set of fields.
    by_fields: dict[tuple[str, ...], list[dict[str, object]]] = {}
    for values in changed:
        by_fields.setdefault(tuple(sorted(values)), []).append(values)
    for group in by_fields.values():
        session.execute(update(Client), group)
        done += len(group)
        progress(done)
    summary.written = True


def import_table(
    session: Session,
    table: Table,
    *,
    workspace_id: int,
    now: datetime,
    zone: ZoneInfo,
    dates: str | None = None,
    skip_bad_rows: bool = False,
    dry_run: bool = False,
    asking: Asking = "command",
    progress: Callable[[str, int, int], None] = lambda phase, done, total: None,
) -> Summary:
    """Check every row, then (unless a dry run, or a problem without `skip_bad_rows`) write the clients."""
    summary = Summary(rows=len(table.rows), skipped=skip_bad_rows)
    order = DateOrder(table.rows, dates)
    unreadable = order.problem(table.columns.get("last_contact", ""), asking)
    if unreadable:
        summary.problems.append(Problem(0, unreadable))
        return summary
    technicians = session.scalars(select(Technician).where(Technician.workspace_id == workspace_id)).all()
    names = select(Client.match_key, Client.name).where(Client.workspace_id == workspace_id)
    existing = dict(session.execute(names).tuples().all())
    total = len(table.rows)
    planned, summary.problems = check_rows(
        table,
        existing_names=existing,
        owners=Owners(technicians),
        order=order,
        zone=zone,
        now=now,
        progress=lambda done: progress("checking", done, total),
    )
    write = not dry_run and (skip_bad_rows or not summary.problems)
    apply(
        session,
        workspace_id=workspace_id,
        planned=planned,
        now=now,
        summary=summary,
        write=write,
        progress=lambda done: progress("writing", done, len(planned)),
    )
    return summary


def describe(summary: Summary, *, dry_run: bool, asking: Asking = "command") -> list[str]:
    """What an import did, in a few lines after every problem with its line."""
    lines = [f"line {p.line}: {p.text}" if p.line else p.text for p in summary.problems]
    bad_lines = len({p.line for p in summary.problems if p.line})
    counts = f"{summary.created} created, {summary.updated} updated, {summary.unchanged} unchanged"
    skipped = f", {bad_lines} skipped (listed above)" if summary.problems else ""
    if summary.problems and not summary.skipped:
        again = (
            "send it again with “skip bad rows” in the message" if asking == "chat" else "add --skip-bad-rows"
        )
        lines.append(
            f"Nothing imported: {bad_lines} of {summary.rows} rows have problems (listed above). "
            f"Fix them and import again, or {again} to import the other rows."
        )
    elif dry_run:
        lines.append(f"Dry run, nothing written: {summary.rows} rows would give {counts}{skipped}.")
    else:
        lines.append(f"Imported {summary.rows} rows: {counts}{skipped}.")
    return lines
