"""A PSA's client list as people really have it: any of Excel's encodings and delimiters, read into rows.

The columns are found by their headers, as ConnectWise PSA, Autotask, HaloPSA, Syncro and Kaseya BMS
name them in their exports; each row keeps the line it started on, so every problem can say where it is.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field

# The fields we read, and the headers (compared without case, spaces or punctuation) that hold them.
# The first header found for a field wins; a header not listed is ignored.
HEADERS: dict[str, tuple[str, ...]] = {
    "name": (
        "company",
        "companyname",
        "client",
        "clientname",
        "account",
        "accountname",
        "customer",
        "customername",
        "businessname",
        "organization",
        "organisation",
        "organizationname",
    ),
    "contact": (
        "contact",
        "contactname",
        "primarycontact",
        "primarycontactname",
        "defaultcontact",
        "defaultcontactname",
        "maincontact",
    ),
    "first_name": ("firstname", "contactfirstname", "primarycontactfirstname", "givenname"),
    "last_name": ("lastname", "contactlastname", "primarycontactlastname", "surname", "familyname"),
    "email": (
        "email",
        "emailaddress",
        "contactemail",
        "primarycontactemail",
        "primaryemail",
        "defaultcontactemail",
        "maincontactemail",
        "mainemail",
    ),
    "phone": (
        "phone",
        "phonenumber",
        "mainphone",
        "contactphone",
        "primarycontactphone",
        "maincontactphone",
        "companyphone",
        "accountphone",
        "telephone",
        "officephone",
        "mobile",
        "mobilephone",
    ),
    "owner": (
        "accountmanager",
        "owner",
        "accountowner",
        "clientowner",
        "territorylead",
        "territorymanager",
        "accountmanagername",
        "primaryresource",
        "salesrep",
    ),
    "last_contact": (
        "lastcontact",
        "lastcontactdate",
        "lastcontacted",
        "lastactivity",
        "lastactivitydate",
        "lasttouch",
        "lastvisit",
        "lastcontacton",
    ),
    "cadence": (
        "cadence",
        "cadencedays",
        "checkincadence",
        "checkincadencedays",
        "checkindays",
        "checkinevery",
    ),
}
NAME_HEADERS = ("Company", "Company Name", "Account Name", "Client Name", "Business Name")
DELIMITERS = ",;\t"
_NOT_LETTERS = re.compile(r"[\W_]+")


class FileProblem(ValueError):
    """The file as a whole cannot be read (nothing in it is imported); says what to do."""


@dataclass(frozen=True)
class Row:
    """One data row: the line it starts on, and our fields (trimmed; missing ones absent)."""

    line: int
    values: dict[str, str]
    # Set when the row has more fields than the header: a separator inside an unquoted value.
    extra_fields: int = 0


@dataclass
class Table:
    """The rows, with what was found about the file, for the summary."""

    encoding: str
    delimiter: str
    columns: dict[str, str]  # our field -> the header it came from
    rows: list[Row] = field(default_factory=list)


def header_key(header: str) -> str:
    """A header without case, spaces, punctuation or a stray BOM: "E-mail Address" -> "emailaddress"."""
    return _NOT_LETTERS.sub("", header.replace("\ufeff", "").casefold())


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was in: a BOM's (UTF-8, UTF-16), else UTF-8, else Windows-1252."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding), encoding
    if len(data) >= 4 and data[1] == 0 and data[3] == 0:
        # UTF-16 without its BOM (little-endian, as Windows writes it): ASCII letters with zero bytes between.
        return data.decode("utf-16-le"), "utf-16-le"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        # Excel's "CSV" on Windows; every byte decodes, so a file is never refused for its encoding.
        return data.decode("cp1252", errors="replace"), "windows-1252"


def sniff_delimiter(text: str) -> str:
    """Comma, semicolon or tab: the one the header line splits on most (Excel in Europe writes ';')."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {delimiter: first.count(delimiter) for delimiter in DELIMITERS}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def columns_of(header: list[str]) -> dict[str, int]:
    """Our field -> the index of the first header that holds it."""
    found: dict[str, int] = {}
    keys = [header_key(name) for name in header]
    for name, aliases in HEADERS.items():
        for alias in aliases:
            if alias in keys:
                found[name] = keys.index(alias)
                break
    return found


def read_table(data: bytes) -> Table:
    """Read a CSV file's bytes into rows of our fields; raises FileProblem when nothing can be read."""
    text, encoding = decode(data)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    header_line = 0
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                header, header_line = record, reader.line_num
                break
    except csv.Error as broken:
        raise FileProblem(f"The first line can't be read as CSV ({broken}).") from None
    if header is None:
        raise FileProblem("The file is empty: it needs a header line, then a line for each client.")
    found = columns_of(header)
    if "name" not in found:
        named = ", ".join(f"“{cell.strip()}”" for cell in header if cell.strip())[:300]
        raise FileProblem(
            f"No column for the client's name on line {header_line} (it has {named}). "
            f"Name that column {' or '.join(NAME_HEADERS[:3])}, "
            "e.g. Company,Contact,Email,Phone,Account Manager"
        )
    table = Table(
        encoding=encoding,
        delimiter={"\t": "tab", ",": "comma", ";": "semicolon"}[delimiter],
        columns={name: header[index].strip() for name, index in found.items()},
    )
    width = len(header)
    while True:
        line = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as broken:
            raise FileProblem(f"Line {line} can't be read as CSV ({broken}): check its quotes.") from None
        if not any(cell.strip() for cell in record):
            continue  # blank rows, and the empty rows Excel leaves at the end
        values = {name: record[index].strip() for name, index in found.items() if index < len(record)}
        extra = len(record) - width if len(record) > width and any(c.strip() for c in record[width:]) else 0
        table.rows.append(Row(line=line, values={k: v for k, v in values.items() if v}, extra_fields=extra))
    return table
