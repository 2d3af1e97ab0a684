"""Usage for `/visit help` and `/promise help`."""

from __future__ import annotations

from bot.replies import Note, Reply, Section

VISIT_USAGE = """*Log a visit* (and get the follow-up e-mail drafted):
/visit Acme Dental 1h30 replaced fuser; todo: order toner
*Plan an appointment* with a one-hour arrival window:
/visit plan Acme Dental Friday 8-9am
*Cancel* the next appointment (then phone the client):
/visit cancel Acme Dental technician ill
*Log a call* (closes the "call the client" task):
/visit call Acme Dental spoke moved to Tuesday  ·  /visit call Acme Dental voicemail
*Set the contact*:
/visit contact Acme Dental Jane Roe jane@acme.example +1 555 0100
*See what's open*: /visit list  ·  /visit list Acme Dental
*Check-in cadence* of a client, in days (default 30; anyone on the team can set it):
/visit cadence Acme Dental 14
*Pause reminders* (a vacation) until a day, or end the pause:
/visit pause until 2026-12-07  ·  /visit pause until Monday  ·  /visit resume
*Working hours* (reminders arrive only then; default Mon–Fri 8am–6pm):
/visit hours 7:30-16  ·  /visit hours 8-18 mon-sat  ·  /visit hours (shows them)
*Monthly report* for a client, to paste into an e-mail (and as a file):
/visit report Acme Dental  ·  /visit report Acme Dental October  ·  /visit report Acme Dental 2026-10
*Team digest* now (managers): /visit digest
*Your clients*, most overdue first: /visit clients  ·  /visit clients overdue  ·  /visit clients me
*Change a client*: /visit owner Acme Dental @ana  ·  /visit rename Acme Dentl to Acme Dental
/visit merge Acme Dentl into Acme Dental  ·  /visit archive Acme Dental  ·  /visit unarchive Acme Dental
*Tell a client before changing their systems* (they acknowledge it with one click):
/visit notify Acme Dental "reboot the mail server" Saturday 22:00-23:00  ·  /visit notify list
*What the client said* (1 unhappy to 5 happy): /visit feedback Acme Dental 2 waited a week
/visit Acme Dental 1h fixed the printer; mood: happy  ·  /visit feedback every 120 days (managers)
*Repair an unhappy client*: /visit call Acme Dental spoke apologised; repair: replaced the dock
*Export* everything of the team (managers, as a zip file): /visit export
Type /visit alone for a form."""

PROMISE_USAGE = """*Record a promise* (it needs a due date):
/promise Acme Dental send the revised quote by Friday
*Keep it*: /promise done 12
*Move it* (and tell the client): /promise move 12 to next Tuesday
*See them*: /promise list
Type /promise alone for a form."""

DETAILS = (
    "Times: 1h30, 90m, 1.5h or 1:30. Days: Friday, tomorrow 5pm, in 3 days, 2026-12-03 (your time zone). "
    'Client names match whatever the case; put a new or unusual name in quotes: "Café Müller GmbH".'
)


def usage(command: str, *, shares_files: bool = True) -> Reply:
    """The help for one command (where the platform shares no files, the report is said to come without)."""
    text = VISIT_USAGE if command == "visit" else PROMISE_USAGE
    if not shares_files:
        text = text.replace(" (and as a file)", "").replace(" (managers, as a zip file)", " (managers)")
    return Reply(summary=f"How to use /{command}", blocks=(Section(text), Note(DETAILS)), tone="info")
