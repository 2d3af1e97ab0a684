"""A client list sent to the bot in a direct message: the command's import, for managers, answered in chat.

The words sent with the file choose as the command's options do: "dry run", "skip bad rows",
"dates mdy" or "dates dmy". Dates without a zone are read in the sender's.
"""

from __future__ import annotations

from bot.clientlist.csvfile import FileProblem, read_table
from bot.clientlist.importer import describe, import_table
from bot.context import Context, Refused, require_manager
from bot.replies import Note, Preformatted, Reply, Section, error

MAX_BYTES = 10 * 1024 * 1024
SUFFIXES = (".csv", ".tsv", ".txt")
# A chat message is no place for a thousand problems: the first ones, and how many more.
SHOWN_PROBLEMS = 20
EXAMPLE = "Company,Contact,Email,Phone,Account Manager,Last Contact Date"


def import_sent_file(ctx: Context, *, filename: str, data: bytes, said: str) -> Reply:
    """Import the file's clients (all or nothing, unless asked to skip bad rows), or say why not."""
    require_manager(ctx, "import the client list")
    if not filename.lower().endswith(SUFFIXES):
        raise Refused(
            error(
                f"“{filename}” isn't a CSV file: export the client list from your PSA as CSV and send that."
            )
        )
    if len(data) > MAX_BYTES:
        raise Refused(
            error(f"“{filename}” is over 10 MB: import it on the server with `python -m bot import`.")
        )
    words = " ".join(said.lower().split())
    dry_run, skip = "dry run" in words, "skip bad rows" in words
    dates = "dmy" if "dates dmy" in words else "mdy" if "dates mdy" in words else None
    try:
        table = read_table(data)
    except FileProblem as problem:
        raise Refused(error(str(problem), EXAMPLE)) from None
    summary = import_table(
        ctx.session,
        table,
        workspace_id=ctx.workspace_id,
        now=ctx.now,
        zone=ctx.tz,
        dates=dates,
        skip_bad_rows=skip,
        dry_run=dry_run,
        asking="chat",
    )
    lines = describe(summary, dry_run=dry_run, asking="chat")
    *problems, outcome = lines
    blocks: list[Section | Preformatted | Note] = [Section(f":clipboard: *{filename}*: {outcome}")]
    if problems:
        shown = problems[:SHOWN_PROBLEMS]
        blocks.append(Preformatted("\n".join(shown)))
        if len(problems) > SHOWN_PROBLEMS:
            blocks.append(
                Note(f"…and {len(problems) - SHOWN_PROBLEMS} more; `--dry-run` on the server lists all.")
            )
    reply = Reply(summary=outcome, blocks=tuple(blocks), tone="info" if summary.written else "error")
    if not summary.written:
        # Nothing may stay of a dry run, or of a file refused for its problems.
        raise Refused(reply)
    return reply
