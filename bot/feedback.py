"""The client's own voice: what they tell us, unhappy clients at risk until repaired, and asking them.

A client's word is a score from 1 (unhappy) to 5 (happy) and what they said: from a one-click link in an
e-mail, `/visit … mood: unhappy`, `/visit feedback` or a button. A score of 2 or less puts the client *at
risk*: the owner (and the technician it is about) is told at once what to do, and the client stays at
risk until a repair is logged (a call or a visit with `repair:`) and their next word is not negative.
A client who has said nothing for the workspace's interval (90 days) earns its owner a nudge to ask.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import calls, drafts, texts
from bot.context import Context, Refused, button_number, require_manager
from bot.due import Due
from bot.grammar import commands as grammar
from bot.hours import WorkingHours
from bot.links import MOOD_FACES, Links, Mood, Purpose
from bot.replies import Actions, Block, Button, Note, Reply, Section, error
from storage import repositories as repo
from storage.models import CallOutcome, Client, Feedback, Risk, Technician, TouchKind, Visit, Workspace

MOOD = "feedback.mood"
REPAIR_CALL = "risk.repaircall"
ASKED = "feedback.asked"
# Nudge kinds: the owner told of an unhappy client, the technician it is about, and the question to ask.
RISK = "risk"
RISK_TECHNICIAN = "risk-technician"
ASK = "ask"
# After the first DM, once a working day until a repair is logged: an unhappy client can't wait a week.
RISK_EVERY_WORKING_DAYS = 1
ASK_EVERY_WORKING_DAYS = 5
# The first question to each client is spread over a month by its id, so an install with many clients
# doesn't get every one of them on the same morning.
FIRST_ASK_SPREAD_DAYS = 30

GONE = "That client isn't one of yours here, or is gone (merged, perhaps)."
HAPPY_AGAIN = "happy again"
ANSWER_CHANGED = "answer changed"
# The buttons that record what a client said, by score; the faces are the links'.
_MOOD_BUTTONS = (
    (5, f"Happy {MOOD_FACES[Mood.HAPPY]}"),
    (3, f"OK {MOOD_FACES[Mood.NEUTRAL]}"),
    (1, f"Unhappy {MOOD_FACES[Mood.UNHAPPY]}"),
)


def face(score: int) -> str:
    """😀 for 4-5, 😐 for 3, 🙁 for 1-2."""
    if score >= 4:
        return MOOD_FACES[Mood.HAPPY]
    return MOOD_FACES[Mood.NEUTRAL] if score == 3 else MOOD_FACES[Mood.UNHAPPY]


@dataclass(frozen=True)
class Recorded:
    """A client's word as stored, and what it did to their risk: opened, flagged again, closed, or nothing."""

    feedback: Feedback
    risk: Risk | None
    change: str  # "opened", "reflagged", "closed", "withdrawn", "waiting" or "none"


def open_risk(session: Session, client_id: int) -> Risk | None:
    """The client's open risk, if they are at risk."""
    return session.scalars(select(Risk).where(Risk.client_id == client_id, Risk.closed_at.is_(None))).first()


def record(
    session: Session,
    *,
    client: Client,
    score: int,
    comment: str | None,
    source: str,
    now: datetime,
    visit_id: int | None = None,
    technician_id: int | None = None,
    link_key: str | None = None,
) -> Recorded:
    """Store a client's word (one per link: a second click changes it) and settle their risk."""
    feedback = None
    if link_key is not None:
        feedback = session.scalars(
            select(Feedback).where(
                Feedback.workspace_id == client.workspace_id, Feedback.link_key == link_key
            )
        ).first()
    if feedback is None:
        feedback = Feedback(
            workspace_id=client.workspace_id,
            client_id=client.id,
            visit_id=visit_id,
            technician_id=technician_id,
            score=score,
            comment=comment,
            source=source,
            link_key=link_key,
            given_at=now,
        )
        session.add(feedback)
    else:
        feedback.score, feedback.updated_at = score, now
        feedback.comment = comment or feedback.comment
    session.flush()
    if client.last_feedback_at is None or client.last_feedback_at < now:
        client.last_feedback_at = now
    return _settle(session, client, feedback, now)


def _settle(session: Session, client: Client, feedback: Feedback, now: datetime) -> Recorded:
    risk = open_risk(session, client.id)
    if feedback.score <= grammar.NEGATIVE_AT_MOST:
        if risk is None:
            risk = Risk(
                workspace_id=client.workspace_id,
                client_id=client.id,
                opened_at=now,
                flagged_at=now,
                feedback_id=feedback.id,
                technician_id=feedback.technician_id,
            )
            session.add(risk)
            session.flush()
            return Recorded(feedback, risk, "opened")
        # Unhappy again: an earlier repair did not settle it, and the reminders start afresh.
        risk.flagged_at, risk.repaired_at, risk.feedback_id = now, None, feedback.id
        risk.technician_id = feedback.technician_id or risk.technician_id
        return Recorded(feedback, risk, "reflagged")
    if risk is None:
        return Recorded(feedback, None, "none")
    if risk.repaired_at is not None and now >= risk.repaired_at:
        risk.closed_at, risk.closed_how = now, HAPPY_AGAIN
        return Recorded(feedback, risk, "closed")
    if risk.feedback_id == feedback.id and risk.repaired_at is None:
        # The very answer that raised it was changed (a misclick put right): nothing left to repair.
        risk.closed_at, risk.closed_how = now, ANSWER_CHANGED
        return Recorded(feedback, risk, "withdrawn")
    return Recorded(feedback, risk, "waiting")


def _name(technician: Technician | None) -> str:
    if technician is None:
        return "nobody"
    return technician.display_name or technician.full_name or f"a technician ({technician.user_id})"


def what_to_do(client: Client) -> str:
    """Call, own it, fix it: the repair, step by step."""
    phone = f" on {client.contact_phone}" if client.contact_phone else ""
    who = client.contact_name or "them"
    return (
        f"1. *Call* {who}{phone} today: a call, not an e-mail.\n"
        "2. *Own it*: listen, say sorry for what went wrong, no excuses.\n"
        "3. *Fix it*, and tell them when it will be fixed.\n"
        f"Then log the repair: /visit call {client.name} spoke what you did; repair: what was put right"
    )


def repair_button(risk_id: int) -> Button:
    """ "Log a repair call" for a client at risk."""
    return Button("Log a repair call", REPAIR_CALL, str(risk_id), "primary")


def mood_buttons(client_id: int) -> Actions:
    """What the client said, recorded by the technician: happy, OK or unhappy."""
    return Actions(tuple(Button(label, MOOD, f"c:{client_id}:{score}") for score, label in _MOOD_BUTTONS))


def outcome_blocks(ctx: Context, client: Client, recorded: Recorded) -> list[Block]:
    """What a client's word did to their risk, said to whoever recorded it."""
    risk = recorded.risk
    if recorded.change in {"opened", "reflagged"} and risk is not None:
        owner = client.owner
        told = (
            "I'm telling you and their owner now"
            if owner is not None and owner.id != ctx.technician.id
            else "I'll remind you each working day until a repair is logged"
        )
        again = " again" if recorded.change == "reflagged" else ""
        return [
            Section(
                f":rotating_light: *{client.name}* is unhappy{again}, so they're *at risk*: one unresolved "
                f"bad experience outweighs a dozen good ones. {told}.\n{what_to_do(client)}"
            ),
            Actions((repair_button(risk.id),)),
        ]
    if recorded.change == "closed" and risk is not None:
        days = (ctx.now - risk.opened_at).days
        return [Section(f":tada: *{client.name}* is happy again: off the at-risk list after {_days(days)}.")]
    if recorded.change == "withdrawn":
        return [Section(f"*{client.name}* changed their unhappy answer: off the at-risk list.")]
    if recorded.change == "waiting" and risk is not None:
        return [
            Section(
                f":hourglass_flowing_sand: *{client.name}* stays at risk until a repair is logged: "
                f"/visit call {client.name} spoke what you did; repair: what was put right"
            )
        ]
    return []


def _days(days: int) -> str:
    return "1 day" if days == 1 else f"{days} days"


def _said(recorded: Recorded) -> str:
    feedback = recorded.feedback
    words = f": “{feedback.comment}”" if feedback.comment else ""
    return f"{face(feedback.score)} {feedback.score}/5{words}"


def _recorded(ctx: Context, client: Client, mood: grammar.Mood, source: str) -> Reply:
    """Record what the client said, as the technician tells it, and say what it did to their risk."""
    recorded = record(
        ctx.session,
        client=client,
        score=mood.score,
        comment=mood.comment,
        source=source,
        now=ctx.now,
        technician_id=ctx.technician.id,
    )
    return Reply(
        summary=f"Recorded {client.name}'s feedback",
        blocks=(
            Section(f":speech_balloon: Recorded what *{client.name}* said: {_said(recorded)}."),
            *outcome_blocks(ctx, client, recorded),
        ),
    )


def command(ctx: Context, parsed: grammar.RecordFeedback, client: Client) -> Reply:
    """`/visit feedback Acme Dental 2 waited a week`."""
    return _recorded(ctx, client, parsed.mood, "command")


def mood_of_visit(ctx: Context, visit: Visit, mood: grammar.Mood) -> list[Block]:
    """`/visit … mood: unhappy`: the client's mood at the visit, recorded as their word about it."""
    recorded = record(
        ctx.session,
        client=visit.client,
        score=mood.score,
        comment=mood.comment,
        source="visit",
        now=ctx.now,
        visit_id=visit.id,
        technician_id=ctx.technician.id,
    )
    return [Note(f"Their mood: {_said(recorded)}"), *outcome_blocks(ctx, visit.client, recorded)]


def mood_of_call(ctx: Context, client: Client, mood: grammar.Mood) -> list[Block]:
    """`/visit call … mood: happy`: what the client said on the phone."""
    recorded = record(
        ctx.session,
        client=client,
        score=mood.score,
        comment=mood.comment,
        source="call",
        now=ctx.now,
        technician_id=ctx.technician.id,
    )
    return [Note(f"What they said: {_said(recorded)}"), *outcome_blocks(ctx, client, recorded)]


def log_repair(ctx: Context, client: Client, note: str | None) -> list[Block]:
    """A call or visit marked `repair:`: the repair of an unhappy client's trust is logged."""
    risk = open_risk(ctx.session, client.id)
    if risk is None:
        return [Note(f"*{client.name}* isn't at risk, so there was nothing to repair; the rest is logged.")]
    risk.repaired_at, risk.repaired_by_id = ctx.now, ctx.technician.id
    risk.repair_note = note or risk.repair_note
    return [
        Section(
            f":wrench: Logged the repair for *{client.name}*. They stay at risk until their next word isn't "
            "negative: ask how things are now, and record what they say."
        ),
        mood_buttons(client.id),
    ]


def _risk_of(ctx: Context, value: str) -> Risk:
    risk = ctx.session.get(Risk, button_number(value))
    if risk is None or risk.workspace_id != ctx.workspace_id:
        raise Refused(error("That client isn't one of yours here, or the button is out of date."))
    return risk


def repair_call_pressed(ctx: Context, value: str) -> Reply:
    """*Log a repair call*: a call in which the technician spoke to them, marked as the repair."""
    risk = _risk_of(ctx, value)
    client = risk.client
    if risk.closed_at is not None:
        return Reply(
            summary=f"{client.name} is no longer at risk",
            blocks=(Section(f"*{client.name}* is no longer at risk: nothing to repair. Thank you."),),
            tone="info",
        )
    if risk.repaired_at is not None:
        return Reply(
            summary=f"The repair for {client.name} is logged",
            blocks=(
                Section(
                    f"The repair for *{client.name}* was logged on {texts.day(risk.repaired_at, ctx.tz)}: "
                    "record what they say now."
                ),
                mood_buttons(client.id),
            ),
            tone="info",
        )
    calls.log_call(ctx, client, CallOutcome.SPOKE, "Repair call")
    return Reply(
        summary=f"Logged a repair call to {client.name}",
        blocks=(
            Section(f":telephone_receiver: Logged a call to *{client.name}*."),
            *log_repair(ctx, client, "Repair call"),
        ),
    )


def mood_pressed(ctx: Context, value: str) -> Reply:
    """*Happy* / *OK* / *Unhappy*: what the client said, recorded by the technician."""
    kind, _, rest = value.partition(":")
    number, _, score_text = rest.partition(":")
    if kind != "c" or score_text not in {"1", "2", "3", "4", "5"}:
        raise Refused(
            error("That button is out of date; use /visit feedback instead.", grammar.FEEDBACK_EXAMPLE)
        )
    client = ctx.session.get(Client, button_number(number))
    if client is None or client.workspace_id != ctx.workspace_id:
        raise Refused(error(GONE))
    return _recorded(ctx, client, grammar.Mood(int(score_text)), "button")


def asked_pressed(ctx: Context, value: str) -> Reply:
    """*Sent it*: the owner asked the client how we are doing (an e-mail touch)."""
    client = ctx.session.get(Client, button_number(value))
    if client is None or client.workspace_id != ctx.workspace_id:
        raise Refused(error(GONE))
    if client.owner_id != ctx.technician.id and not ctx.is_manager:
        raise Refused(
            error("That client is looked after by someone else: their owner asks them how we're doing.")
        )
    asked = client.feedback_asked_at
    if asked is not None and ctx.now - asked < timedelta(days=1):
        return Reply(
            summary=f"Already noted: you asked {client.name}",
            blocks=(Section(f"Already noted: you asked *{client.name}* on {texts.day(asked, ctx.tz)}."),),
            tone="info",
        )
    client.feedback_asked_at = ctx.now
    repo.add_touch(
        ctx.session,
        client=client,
        technician_id=ctx.technician.id,
        kind=TouchKind.EMAIL,
        at=ctx.now,
        note="Asked how we are doing",
    )
    every = client.workspace.feedback_every_days
    return Reply(
        summary=f"Asked {client.name} how we're doing",
        blocks=(
            Section(
                f":speech_balloon: Thank you: asking keeps *{client.name}* talking to us. I'll ask you "
                f"again in {every} days unless they tell us sooner."
            ),
        ),
    )


def set_every(ctx: Context, parsed: grammar.SetFeedbackEvery) -> Reply:
    """`/visit feedback every 120 days`: managers say how often clients are asked."""
    require_manager(ctx, "change how often clients are asked for feedback")
    workspace = ctx.session.get(Workspace, ctx.workspace_id)
    assert workspace is not None
    workspace.feedback_every_days = parsed.days
    return Reply(
        summary=f"Clients are asked every {parsed.days} days",
        blocks=(
            Section(
                f":speech_balloon: From now on, a client who hasn't told us how we're doing in "
                f"{parsed.days} days earns its owner a reminder to ask."
            ),
        ),
    )


# -- Reminders -------------------------------------------------------------------------------------------


def risk_due(risk: Risk, hours: WorkingHours, now: datetime) -> Due | None:
    """At once, then every working day, until a repair is logged (or the risk is closed)."""
    if risk.closed_at is not None or risk.repaired_at is not None or risk.client.archived_at is not None:
        return None
    day = hours.local_day(hours.first_working_moment(risk.flagged_at))
    rounds = hours.working_days_between(day, hours.local_day(now)) // RISK_EVERY_WORKING_DAYS
    # The flag's instant is in the period: an unhappy word after a repair starts the reminders afresh.
    return Due(
        f"risk:{risk.id}", RISK, f"{int(risk.flagged_at.timestamp())}:{rounds}", max(risk.flagged_at, now)
    )


def ask_due_at(client: Client) -> datetime:
    """When the client is next due the question: the interval after their last word, or our last asking."""
    every = timedelta(days=client.workspace.feedback_every_days)
    heard = [moment for moment in (client.last_feedback_at, client.feedback_asked_at) if moment is not None]
    if heard:
        return max(heard) + every
    return client.created_at + every + timedelta(days=client.id % FIRST_ASK_SPREAD_DAYS)


def ask_due(client: Client, hours: WorkingHours, now: datetime) -> Due | None:
    """When the client has said nothing for the interval, then every few working days until asked."""
    if client.archived_at is not None or client.owner_id is None:
        return None
    due_at = ask_due_at(client)
    if now < due_at:
        return None
    day = hours.local_day(hours.first_working_moment(due_at))
    rounds = hours.working_days_between(day, hours.local_day(now)) // ASK_EVERY_WORKING_DAYS
    return Due(f"client:{client.id}", ASK, f"{day.isoformat()}:{rounds}", max(due_at, now))


def compose_risk(risk: Risk, tz: ZoneInfo, now: datetime) -> Reply:
    """The DM about an unhappy client: what they said, and call, own it, fix it."""
    client = risk.client
    feedback = risk.feedback
    said = ""
    if feedback is not None:
        words = f" “{feedback.comment}”" if feedback.comment else ""
        visit = feedback.visit
        about = f" about the visit of {texts.day(visit.visited_at, tz, now=now)}" if visit is not None else ""
        said = (
            f" On {texts.day(feedback.given_at, tz, now=now)} they said {face(feedback.score)} "
            f"{feedback.score}/5{about}{':' if words else ''}{words}."
        )
    days = (now - risk.opened_at).days
    since = f" (at risk for {_days(days)})" if days else ""
    return Reply(
        summary=f"{client.name} is unhappy: call them",
        blocks=(
            Section(f":rotating_light: *{client.name}* is unhappy{since}.{said}\n{what_to_do(client)}"),
            Actions((repair_button(risk.id),)),
        ),
    )


def ask_blocks(
    client: Client, technician: Technician | None, tz: ZoneInfo, links: Links | None, now: datetime
) -> list[Block]:
    """The short e-mail asking how we are doing, with one-click answers when links are on."""
    rate = None
    if links is not None:
        rate = links.by_face(Purpose.ASK, workspace_id=client.workspace_id, subject_id=client.id, now=now)
    written = drafts.ask(
        client_name=client.name,
        contact_name=client.contact_name,
        contact_email=client.contact_email,
        technician_name=(technician.full_name or technician.display_name) if technician else None,
        rate=rate,
    )
    return drafts.shown(written)


def ask_buttons(client_id: int) -> Actions:
    """ "Sent it", and what they said when asked by phone."""
    return Actions(
        (
            Button("Sent it", ASKED, str(client_id), "primary"),
            *(Button(label, MOOD, f"c:{client_id}:{score}") for score, label in _MOOD_BUTTONS),
        )
    )


def compose_ask(client: Client, tz: ZoneInfo, now: datetime, links: Links | None) -> Reply:
    """The nudge to ask a quiet client how we are doing."""
    every = client.workspace.feedback_every_days
    heard = client.last_feedback_at
    since = (
        f"they last told us on {texts.day(heard, tz, now=now)}"
        if heard is not None
        else "they haven't told us yet"
    )
    return Reply(
        summary=f"Ask {client.name} how we're doing",
        blocks=(
            Section(
                f":speech_balloon: Time to ask *{client.name}* how we're doing: {since} (we ask every "
                f"{every} days). For every client who complains, many more stay silent. A short e-mail:"
            ),
            *ask_blocks(client, client.owner, tz, links, now),
            ask_buttons(client.id),
        ),
    )
