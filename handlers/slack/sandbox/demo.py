"""Demo data: a small IT service company's last three weeks, typed through the real commands.

Every step is a signed slash command or a button press sent to the bot as Slack would send it, at a
moment of the sandbox's clock; then the clock comes back to where it was and the jobs run, so the
reminders, App Home and the digest show something at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

from handlers.slack.sandbox.workspace import Message
from storage.models import Visit
from storage.repositories import count_rows

if TYPE_CHECKING:
    from handlers.slack.sandbox.app import Sandbox

ANA, BO, KAI, MORGAN = "U0ANA", "U0BO", "U0KAI", "U0MO"
# A minute after the working day opens (08:00), in each person's zone: when the morning's reminders go.
MORNING = 8 + 1 / 60
_PROMISE = re.compile(r"Promise #(\d+)")
ALREADY = (
    "This sandbox already has visits in it: the demo company goes into an empty one. "
    "Stop the sandbox and delete sandbox.db (or start it with --db sqlite:///another.db) to begin afresh."
)


@dataclass(frozen=True)
class Step:
    """One thing someone does: on day `day` of the three weeks (0 = the first Monday), at `hour` in
    their zone, they type `text` (a command) or press the button labelled `press` on their latest
    message that has it."""

    day: int
    hour: float
    user: str
    text: str = ""
    press: str = ""


CONTACTS = (
    (ANA, '/visit contact "Acme Dental" Jane Roe jane@acmedental.example +1 312 555 0100'),
    (ANA, '/visit contact "Northwind Clinic" Omar Haddad omar@northwind.example +1 312 555 0142'),
    (ANA, '/visit contact "Pine & Co Accounting" Lisa Pine lisa@pineco.example +1 312 555 0177'),
    (BO, '/visit contact "Blue Harbor Law" Frida Holm frida@blueharbor.example +49 30 5550 1210'),
    (BO, '/visit contact "Café Müller GmbH" Jonas Müller jonas@cafe-mueller.example +49 30 5550 3344'),
    (BO, '/visit contact "Riverside Vet" Ines Brandt ines@riverside-vet.example +49 30 5550 8800'),
    (KAI, '/visit contact "Oakridge Pharmacy" Yui Sato yui@oakridge.example +81 3 5550 2020'),
    (KAI, '/visit contact "Sunrise Bakery" Ren Ito ren@sunrise-bakery.example +81 3 5550 4545'),
)

STEPS = (
    *(Step(0, 8.5, user, text) for user, text in CONTACTS),
    Step(
        0, 10, ANA, "/visit Acme Dental 1h30 replaced the fuser in the front-desk printer; todo: order toner"
    ),
    Step(0, 10.1, ANA, "", press="Mark follow-up sent"),
    Step(0, 14, BO, '/visit "Blue Harbor Law" 2h migrated three mailboxes; todo: retire the old NAS'),
    Step(0, 14.1, BO, "", press="Mark follow-up sent"),
    Step(1, 9, KAI, "/visit Sunrise Bakery 45m reset the till's network card"),
    Step(1, 9.1, KAI, "", press="Mark follow-up sent"),
    Step(1, 11, KAI, "/visit cadence Sunrise Bakery 14"),
    Step(2, 9, ANA, '/promise "Northwind Clinic" send the revised backup quote by Friday'),
    Step(3, 15, ANA, "/promise done {last_promise}"),
    Step(3, 16, BO, '/promise "Café Müller GmbH" set up the new card reader by Thursday'),
    Step(7, 9, ANA, "/visit Northwind Clinic 2h patched the firewall and tested the VPN"),
    Step(7, 9.1, ANA, "", press="Mark follow-up sent"),
    Step(
        7, 13, BO, "/visit Riverside Vet 1h swapped a failing SSD in reception; todo: check the UPS battery"
    ),
    Step(8, 10, KAI, "/visit Oakridge Pharmacy 1h15 configured MFA for all staff"),
    Step(8, 10.1, KAI, "", press="Mark follow-up sent"),
    Step(9, 9, ANA, "/visit plan Pine & Co Accounting Friday 8-12"),
    Step(9, 9.1, ANA, "", press="Make it 8–9am"),
    Step(10, 8.5, ANA, "/visit cancel Pine & Co Accounting technician ill"),
    Step(14, 9, BO, "/visit Café Müller GmbH 1h30 set up the new card reader; todo: train the weekend staff"),
    Step(14, 9.1, BO, "", press="Mark follow-up sent"),
    Step(14, 10, KAI, '/promise "Oakridge Pharmacy" send the MFA how-to for new staff by Wednesday'),
    Step(15, 11, ANA, "/visit Acme Dental 45m fitted the new toner; nothing left"),
    Step(16, 9, BO, '/promise "Blue Harbor Law" quote for a new NAS by next Tuesday'),
    Step(17, 14, ANA, '/promise "Acme Dental" check the X-ray PC\'s backups by tomorrow'),
)


def _start(now: datetime) -> datetime:
    """Day 0 of the story: a Monday far enough back that its last step (day 17, a Thursday) is past."""
    first = (now - timedelta(days=18)).date()
    return datetime.combine(first - timedelta(days=first.weekday()), time(), tzinfo=UTC)


def _moment(sandbox: Sandbox, start: datetime, step: Step) -> datetime:
    tz = sandbox.workspace.tz(step.user)
    day = (start + timedelta(days=step.day)).date()
    local = datetime.combine(day, time(), tzinfo=tz) + timedelta(hours=step.hour)
    return local.astimezone(start.tzinfo)


def _latest_with(sandbox: Sandbox, user: str, label: str) -> tuple[Message, dict[str, str]] | None:
    """The person's latest message in their DM with a button labelled `label`, and that button."""
    for message in reversed(sandbox.workspace.conversation(sandbox.workspace.dm(user), user)):
        for block in message.blocks:
            elements = block.get("elements") or ([block["accessory"]] if "accessory" in block else [])
            for element in elements:
                if element.get("type") == "button" and element.get("text", {}).get("text") == label:
                    action = {
                        "action_id": str(element.get("action_id", "")),
                        "value": str(element.get("value", "")),
                        "block_id": str(block.get("block_id", "")),
                        "text": label,
                    }
                    return message, action
    return None


def _last_promise(sandbox: Sandbox, user: str) -> str:
    for message in reversed(sandbox.workspace.conversation(sandbox.workspace.dm(user), user)):
        found = _PROMISE.search(message.text)
        if found:
            return found[1]
    return "1"


def _timeline(sandbox: Sandbox, start: datetime, now: datetime) -> list[tuple[datetime, Step | None]]:
    """The steps, and each working morning when the jobs would have sent their reminders, up to now."""
    moments: list[tuple[datetime, Step | None]] = [(_moment(sandbox, start, step), step) for step in STEPS]
    for day in range((now - start).days + 1):
        if (start + timedelta(days=day)).weekday() < 5:
            for person in sandbox.workspace.people.values():
                moments.append((_moment(sandbox, start, Step(day, MORNING, person.id)), None))
    return sorted(
        (entry for entry in moments if entry[0] < now), key=lambda entry: (entry[0], entry[1] is not None)
    )


async def _act(sandbox: Sandbox, step: Step) -> None:
    assert sandbox.slack is not None
    if step.press:
        found = _latest_with(sandbox, step.user, step.press)
        if found is not None:
            message, action = found
            await sandbox.slack.press(step.user, action, message_id=message.id, surface="message")
        return
    text = step.text.format(last_promise=_last_promise(sandbox, step.user))
    await sandbox.slack.command(step.user, sandbox.workspace.dm(step.user), text)


async def load_demo(sandbox: Sandbox) -> str:
    """Play the three weeks through the bot, the jobs running as of each moment, and come back to now.

    Refused when the sandbox's database already has visits: the demo company goes into an empty one.
    """
    assert sandbox.slack is not None
    with sandbox.services.sessions() as session:
        if count_rows(session, Visit):
            return ALREADY
    now, real_start = sandbox.clock(), sandbox.services.real_now()
    start, sent = _start(now), 0
    async with sandbox.holding_jobs():
        if sandbox.scheduler is not None:
            # The story is told at past moments; the scheduler's own runs would come in between.
            sandbox.scheduler.pause()
        try:
            for moment, step in _timeline(sandbox, start, now):
                # What the bot would have sent by then: reminders, digests, as they fell due.
                sent += (await sandbox.run_jobs_at(moment)).sent
                if step is not None:
                    await _act(sandbox, step)
            back = now + (sandbox.services.real_now() - real_start)
            sent += (await sandbox.run_jobs_at(back)).sent
            await sandbox.slack.command(MORGAN, sandbox.workspace.dm(MORGAN), "/visit digest")
            sent += (await sandbox.run_jobs_at(sandbox.clock())).sent
        finally:
            if sandbox.scheduler is not None:
                sandbox.scheduler.resume()
    return (
        f"Demo company loaded: 8 clients and three weeks of visits and promises; the bot sent {sent} "
        "messages along the way. Some reminders wait for their people's working hours."
    )
