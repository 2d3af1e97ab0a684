"""The core's front door: commands, button presses and forms in, neutral replies out."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import (
    calls,
    digest,
    feedback,
    forms,
    home,
    linkpage,
    listing,
    notices,
    nudge_actions,
    nudges,
    preferences,
    proactive,
    promises,
    report,
    roster,
    visits,
)
from bot.clientlist import chat as clientlist_chat
from bot.clients import CHOOSE, resolve, unresolved
from bot.context import Context, Refused, button_number
from bot.grammar import commands as grammar
from bot.help import usage
from bot.links import Links
from bot.people import Actor, Invocation, Press, Profile, Seen, Submission
from bot.replies import Form, FormOutcome, Reply, Section, error
from bot.services import Services
from storage import repositories as repo
from storage.models import Client, Technician

logger = logging.getLogger(__name__)

PROFILE_MAX_AGE = timedelta(days=7)

ALREADY_DONE = Reply(
    summary="Already done",
    blocks=(Section("I've already acted on that: it reached me twice, and I only do things once."),),
    tone="info",
)

T = TypeVar("T")


@dataclass(frozen=True)
class Handled:
    """A reply, and whether the adapter should refresh the person's profile (name, time zone) afterwards."""

    reply: Reply
    refresh_profile: bool = False


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _list_for(ctx: Context, _: grammar.ListOpen, client: Client) -> Reply:
    return listing.list_open(ctx, client)


# Commands that name a client: whether they may create it, their example, and what they do with it.
_NAMING_A_CLIENT: dict[type, tuple[bool, str, Callable[[Context, Any, Client], Reply]]] = {
    grammar.LogVisit: (True, grammar.LOG_EXAMPLE, visits.log_visit),
    grammar.PlanAppointment: (True, grammar.PLAN_EXAMPLE, visits.plan),
    grammar.CancelAppointment: (False, grammar.CANCEL_EXAMPLE, visits.cancel),
    grammar.LogCall: (False, grammar.CALL_EXAMPLE, visits.call),
    grammar.SetContact: (True, grammar.CONTACT_EXAMPLE, visits.set_contact),
    grammar.ListOpen: (False, grammar.LIST_EXAMPLE, _list_for),
    grammar.AddPromise: (True, grammar.PROMISE_EXAMPLE, promises.add),
    grammar.SetCadence: (False, grammar.CADENCE_EXAMPLE, preferences.set_cadence),
    grammar.ClientReport: (False, grammar.REPORT_EXAMPLE, report.client_report),
    grammar.SetOwner: (False, grammar.OWNER_EXAMPLE, roster.set_owner),
    grammar.RenameClient: (False, grammar.RENAME_EXAMPLE, roster.rename),
    grammar.ArchiveClient: (False, grammar.ARCHIVE_EXAMPLE, roster.archive),
    grammar.NotifyChange: (False, grammar.NOTIFY_EXAMPLE, notices.notify),
    grammar.RecordFeedback: (False, grammar.FEEDBACK_EXAMPLE, feedback.command),
}


class Core:
    """Nudgebot's logic behind one interface, for any chat platform."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.default_tz = ZoneInfo(services.settings.default_timezone)
        # Workspace rows are never changed or deleted, so their ids can be remembered per process.
        self.workspace_ids: dict[tuple[str, str], int] = {}
        given = services.settings.require_links()
        self.links = Links(*given) if given is not None else None

    def _workspace_id(self, session: Session, actor: Actor, now: datetime) -> int:
        workspace_id = self.workspace_ids.get((actor.platform, actor.workspace))
        if workspace_id is None:
            workspace = repo.ensure_workspace(
                session, team_id=actor.workspace, platform=actor.platform, now=now
            )
            workspace_id = workspace.id
        return workspace_id

    @contextmanager
    def _technician(
        self, actor: Actor, now: datetime, seen: Seen | None = None
    ) -> Iterator[tuple[Session, int, Technician]]:
        """A transaction with the asker's workspace and technician rows, created on first sight, and what
        the request shows about them stored with it."""
        with self.services.sessions.begin() as session:
            workspace_id = self._workspace_id(session, actor, now)
            technician = repo.ensure_technician(
                session, workspace_id=workspace_id, user_id=actor.user, now=now
            )
            if seen is not None:
                _note(session, workspace_id, technician, seen, now)
            yield session, workspace_id, technician
        # Remember the id only once committed: a refused first request rolls the new row back.
        self.workspace_ids[(actor.platform, actor.workspace)] = workspace_id

    @contextmanager
    def _context(self, actor: Actor, request_key: str | None, seen: Seen | None) -> Iterator[Context]:
        now = self.services.clock()
        with self._technician(actor, now, seen) as (session, workspace_id, technician):
            # Replay keys live by the wall clock, like their purge: Slack retries in real minutes.
            real_now = self.services.real_now()
            if request_key is not None and not repo.claim_request(session, key=request_key, now=real_now):
                raise Refused(ALREADY_DONE)
            # A zone chosen on App Home wins over the chat profile's.
            zone = nudges.technician_zone(technician)
            yield Context(
                session=session,
                workspace_id=workspace_id,
                technician=technician,
                tz=zone or self.default_tz,
                tz_known=zone is not None,
                now=now,
                is_manager=actor.user in self.services.settings.managers,
                platform=actor.platform,
                conversation=seen.conversation if seen is not None else None,
                links=self.links,
            )

    def _run(
        self, actor: Actor, request_key: str | None, work: Callable[[Context], T], seen: Seen | None = None
    ) -> tuple[T | None, Reply | None, bool]:
        stale = True
        try:
            with self._context(actor, request_key, seen) as ctx:
                fetched = ctx.technician.profile_fetched_at
                stale = fetched is None or ctx.now - fetched > PROFILE_MAX_AGE
                return work(ctx), None, stale
        except Refused as refused:
            # The transaction above has been rolled back: a refusal stores nothing.
            return None, refused.reply, stale

    def command(self, invocation: Invocation, *, force_new: bool = False) -> Handled:
        """Handle `/visit …` or `/promise …`."""
        run = self._visit if invocation.command == "visit" else self._promise
        reply, refusal, stale = self._run(
            invocation.actor,
            invocation.request_key,
            lambda ctx: run(ctx, invocation, force_new),
            invocation.seen,
        )
        return Handled(reply=refusal or reply or ALREADY_DONE, refresh_profile=stale)

    def _known(self, ctx: Context, text: str) -> set[str]:
        """Load the clients the text could start with; the grammar uses their keys to split names off."""
        ctx.clients.update(
            repo.clients_by_keys(
                ctx.session, workspace_id=ctx.workspace_id, keys=grammar.candidate_keys(text)
            )
        )
        return set(ctx.clients)

    def _need(self, ctx: Context, invocation: Invocation, need: grammar.NeedClient) -> Refused:
        examples = {
            "cancel": grammar.CANCEL_EXAMPLE,
            "call": grammar.CALL_EXAMPLE,
            "list": grammar.LIST_EXAMPLE,
            "contact": '/visit contact "Acme Dental" Jane Roe jane@acme.example +1 555 0100',
            "promise": '/promise "Acme Dental" send the revised quote by Friday',
            "cadence": grammar.CADENCE_EXAMPLE,
            "report": grammar.REPORT_EXAMPLE,
            "owner": grammar.OWNER_EXAMPLE,
            "rename": grammar.RENAME_EXAMPLE,
            "merge": grammar.MERGE_EXAMPLE,
            "archive": grammar.ARCHIVE_EXAMPLE,
            "unarchive": grammar.UNARCHIVE_EXAMPLE,
            "notify": grammar.NOTIFY_EXAMPLE,
            "feedback": grammar.FEEDBACK_EXAMPLE,
        }
        return unresolved(
            ctx,
            need,
            command=invocation.command,
            text=invocation.text,
            request_key=invocation.request_key,
            may_create=need.action in {"contact", "promise"},
            example=examples[need.action],
        )

    def _visit(self, ctx: Context, invocation: Invocation, force_new: bool) -> Reply:
        parsed = grammar.parse_visit(
            invocation.text, known=self._known(ctx, invocation.text), now=ctx.now, tz=ctx.tz
        )
        return self._dispatch(ctx, invocation, parsed, force_new)

    def _promise(self, ctx: Context, invocation: Invocation, force_new: bool) -> Reply:
        parsed = grammar.parse_promise(
            invocation.text, known=self._known(ctx, invocation.text), now=ctx.now, tz=ctx.tz
        )
        return self._dispatch(ctx, invocation, parsed, force_new)

    def _dispatch(
        self, ctx: Context, invocation: Invocation, parsed: grammar.Parsed, force_new: bool
    ) -> Reply:
        match parsed:
            case grammar.ParseError(message, example):
                raise Refused(error(message, example))
            case grammar.NeedClient():
                raise self._need(ctx, invocation, parsed)
            case grammar.Help(command):
                return usage(command, shares_files=ctx.shares_files)
            case grammar.ListOpen(client=None):
                return listing.list_open(ctx, None)
            case grammar.PromiseDone():
                return promises.done(ctx, parsed)
            case grammar.MovePromise():
                return promises.move(ctx, parsed)
            case grammar.ListPromises():
                return promises.list_open(ctx)
            case grammar.PauseNudges():
                return preferences.pause(ctx, parsed)
            case grammar.ResumeNudges():
                return preferences.resume(ctx)
            case grammar.SetHours():
                return preferences.set_hours(ctx, parsed)
            case grammar.ShowHours():
                return preferences.show_hours(ctx)
            case grammar.ShowDigest():
                return digest.on_demand(ctx)
            case grammar.DigestHere():
                return digest.choose_channel(ctx)
            case grammar.ListClients():
                return roster.list_clients(ctx, parsed)
            case grammar.ExportData():
                return roster.export(ctx)
            case grammar.ListNotices():
                return notices.list_open(ctx)
            case grammar.SetFeedbackEvery():
                return feedback.set_every(ctx, parsed)
            case grammar.MergeClients(client=duplicate, into=kept):
                found = [
                    resolve(
                        ctx,
                        ref,
                        command=invocation.command,
                        text=invocation.text,
                        request_key=invocation.request_key,
                        may_create=False,
                        force_new=False,
                        example=grammar.MERGE_EXAMPLE,
                    )
                    for ref in (duplicate, kept)
                ]
                return roster.merge_asked(ctx, parsed, *found)
        may_create, example, act = _NAMING_A_CLIENT[type(parsed)]
        ref = parsed.client
        assert ref is not None  # ListOpen without a client was answered above
        client = resolve(
            ctx,
            ref,
            command=invocation.command,
            text=invocation.text,
            request_key=invocation.request_key,
            may_create=may_create,
            force_new=force_new and may_create,
            example=example,
        )
        return act(ctx, parsed, client)

    def import_file(
        self, actor: Actor, request_key: str | None, *, filename: str, data: bytes, said: str
    ) -> Reply:
        """A client list someone sent the bot in a direct message."""
        reply, refusal, _ = self._run(
            actor,
            request_key,
            lambda ctx: clientlist_chat.import_sent_file(ctx, filename=filename, data=data, said=said),
        )
        return refusal or reply or ALREADY_DONE

    def press(self, press: Press) -> Reply:
        """Handle a button; every one is safe to press twice."""
        if press.action == CHOOSE:
            return self._choose(press)
        handlers: dict[str, Callable[[Context, str], Reply]] = {
            visits.FOLLOWUP_SENT: lambda ctx, value: visits.followup_sent(ctx, button_number(value)),
            visits.CALL_LOGGED: visits.call_pressed,
            visits.NARROW_WINDOW: lambda ctx, value: visits.narrow_window(ctx, button_number(value)),
            promises.KEPT: promises.kept_pressed,
            digest.REQUEST: lambda ctx, value: digest.on_demand(ctx),
            roster.MERGE: roster.merge_pressed,
            roster.ARCHIVE: roster.archive_pressed,
            roster.PAGE: roster.next_page,
            notices.ACKNOWLEDGED: notices.acknowledged_pressed,
            notices.CALLED: calls.notice_called_pressed,
            feedback.MOOD: feedback.mood_pressed,
            feedback.REPAIR_CALL: feedback.repair_call_pressed,
            feedback.ASKED: feedback.asked_pressed,
            proactive.RAISED: proactive.raised_pressed,
            proactive.NOT_USEFUL: proactive.not_useful_pressed,
            **nudge_actions.HANDLERS,
        }
        handler = handlers.get(press.action)
        if handler is None:
            return error("That button is out of date; type the command instead.")
        reply, refusal, _ = self._run(press.actor, None, lambda ctx: handler(ctx, press.value), press.seen)
        return refusal or reply or ALREADY_DONE

    def _choose(self, press: Press) -> Reply:
        """A "did you mean" answer: run the original command again with the chosen client."""
        try:
            choice = json.loads(press.value)
            command, text, key, new = str(choice["c"]), str(choice["t"]), str(choice["k"]), bool(choice["n"])
            user = str(choice["u"])
        except (ValueError, KeyError, TypeError):
            return error("That button is out of date; type the command again.")
        if command not in {"visit", "promise"}:
            return error("That button is out of date; type the command again.")
        if user != press.actor.user:
            # Someone else's question (replayed or edited): acting on it would also use up their answer.
            return error("That question was for someone else; type the command yourself.")
        invocation = Invocation(
            press.actor, command, text, request_key=f"choose:{key}" if key else None, seen=press.seen
        )
        return self.command(invocation, force_new=new).reply

    def link_page(self, token: str, *, mood: str | None) -> linkpage.Page:
        """A client opened a one-click link from an e-mail: the page, with nothing changed."""
        with self.services.sessions.begin() as session:
            return linkpage.show(
                session, self.links, token, now=self.services.clock(), default_tz=self.default_tz, mood=mood
            )

    def link_answer(self, token: str, *, mood: str | None, comment: str | None) -> linkpage.Page:
        """A client confirmed on a link's page: acknowledge, or record their word (again: change it)."""
        for attempt in (1, 2):
            try:
                with self.services.sessions.begin() as session:
                    return linkpage.answer(
                        session,
                        self.links,
                        token,
                        now=self.services.clock(),
                        default_tz=self.default_tz,
                        mood=mood,
                        comment=comment,
                    )
            except IntegrityError:
                # Two taps at once (the same link, or two links of one client): the second sees the first's
                # rows when tried again.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def home(self, actor: Actor, notice: Reply | None = None, seen: Seen | None = None) -> Reply:
        """App Home: the technician's open items, settings and (managers) the team; `notice` on top."""
        reply, refusal, _ = self._run(actor, None, lambda ctx: home.build(ctx, notice), seen)
        return refusal or reply or ALREADY_DONE

    def settings_form(self, actor: Actor, seen: Seen | None = None) -> Form:
        """The App Home settings form, filled in with the technician's current settings."""
        form, _, _ = self._run(actor, None, forms.settings_form, seen)
        assert form is not None  # building the form refuses nothing
        return form

    def form(self, command: str) -> Form:
        """The form shown for a command typed without text."""
        return forms.visit_form() if command == "visit" else forms.promise_form()

    def submit(self, submission: Submission) -> FormOutcome:
        """Validate a submitted form; on errors nothing is stored."""
        submit = forms.submit_visit if submission.kind == forms.VISIT_FORM else forms.submit_promise

        def work(ctx: Context) -> FormOutcome:
            if submission.kind == forms.SETTINGS_FORM:
                outcome = forms.submit_settings(ctx, submission.values, submission.chosen)
            else:
                outcome = submit(ctx, submission.values, submission.ticked, submission.chosen)
            if outcome.errors:
                raise _FormRefused(outcome)
            return outcome

        try:
            outcome, refusal, _ = self._run(submission.actor, submission.request_key, work, submission.seen)
        except _FormRefused as refused:
            return refused.outcome
        return outcome or FormOutcome(reply=refusal or ALREADY_DONE)

    def saw(self, actor: Actor, seen: Seen) -> None:
        """Store what an activity that asks nothing shows (the bot installed, a chat opened): the person,
        their profile and the conversation, so the bot can write there later."""
        with self._technician(actor, self.services.clock(), seen):
            pass

    def forget(self, actor: Actor, *, conversation_id: str, team_id: str | None = None) -> int:
        """The bot was removed from a conversation (or a whole team): stop writing there."""
        with self.services.sessions.begin() as session:
            workspace_id = self._workspace_id(session, actor, self.services.clock())
            return repo.forget_conversations(
                session, workspace_id=workspace_id, conversation_id=conversation_id, team_id=team_id
            )

    def needs_profile(self, actor: Actor) -> bool:
        """True when we have not fetched this person's profile lately."""
        with self.services.sessions.begin() as session:
            technician = repo.find_technician(
                session, team_id=actor.workspace, user_id=actor.user, platform=actor.platform
            )
            if technician is None or technician.profile_fetched_at is None:
                return True
            return self.services.clock() - technician.profile_fetched_at > PROFILE_MAX_AGE

    def update_profile(self, actor: Actor, profile: Profile) -> None:
        """Store a person's display name and time zone as the chat platform reports them."""
        with self._technician(actor, self.services.clock()) as (_, _, technician):
            technician.display_name = profile.display_name or technician.display_name
            technician.email = profile.email or technician.email
            technician.full_name = profile.full_name or technician.full_name
            if _zone(profile.timezone) is not None:
                technician.timezone = profile.timezone
            technician.profile_fetched_at = self.services.clock()


def _note(session: Session, workspace_id: int, technician: Technician, seen: Seen, now: datetime) -> None:
    """Store what a request shows about its sender: name, time zone, member id, the conversation.

    Rows are written only when something changed, so a request from a known chat costs one statement.
    """
    profile = seen.profile
    if profile is not None:
        changed = False
        if profile.display_name and technician.display_name != profile.display_name:
            technician.display_name = profile.display_name
            changed = True
        if _zone(profile.timezone) is not None and technician.timezone != profile.timezone:
            technician.timezone = profile.timezone
            changed = True
        if changed or technician.profile_fetched_at is None:
            technician.profile_fetched_at = now
    if seen.member and technician.member_id != seen.member:
        technician.member_id = seen.member
    conversation = seen.conversation
    if conversation is not None:
        repo.remember_conversation(
            session,
            workspace_id=workspace_id,
            conversation_id=conversation.id,
            kind=conversation.kind,
            service_url=conversation.endpoint,
            technician_id=technician.id if conversation.kind == "personal" else None,
            team_id=conversation.team,
            now=now,
        )


class _FormRefused(Exception):
    def __init__(self, outcome: FormOutcome) -> None:
        super().__init__("form has errors")
        self.outcome = outcome
