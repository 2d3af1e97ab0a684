"""Teams activity handlers: each translates, calls the core and renders; `register` lists them all.

Teams waits about 15 s for an answer. A typed command is answered with HTTP 200 as soon as the core
has stored it, and the reply card follows through the Bot Connector; a button press (an invoke) is
answered with the updated card in the HTTP response itself. When the database is slow past the
budget, a press gets a "Working on it…" card that is replaced when the answer is ready.

Replies that show someone's own items go to their 1:1 chat with the bot, also when they typed the
command in a channel or group chat (Teams shows a reply there to everyone).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.core import Core
from bot.forms import PROMISE_FORM, SETTINGS_FORM, VISIT_FORM
from bot.help import usage
from bot.home import NOTICE_BLOCKS, SETTINGS
from bot.notify import Address, PermanentFailure, RateLimited, TemporaryFailure
from bot.people import TEAMS, Actor, Conversation, Invocation, Press, Seen, Submission
from bot.replies import Form, Note, Preformatted, Reply, Section, error
from handlers.runner import Background, CoreRunner
from handlers.teams import cards, translate
from handlers.teams.connector import Messenger, ServiceUrls

logger = logging.getLogger(__name__)

T = TypeVar("T")

# How long a request may wait for the core before Teams' ~15 s deadline makes us answer without it.
BUDGET_S = 10.0
CARD_RESPONSE = "application/vnd.microsoft.card.adaptive"
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"

WORKING = Reply(summary="Working on it…", blocks=(Section("Working on it… this card updates in a moment."),))
FAILED = Reply(
    summary="Something went wrong",
    blocks=(Section(":warning: Something went wrong on my side and nothing was saved. Please try again."),),
    tone="error",
)
OUT_OF_DATE = "That button is out of date; type the command instead."
BUSY = Reply(
    summary="I'm busy",
    blocks=(Section("I'm slow to answer right now: type that again in a moment."),),
    tone="info",
)
NOT_UNDERSTOOD = error(
    "I didn't catch that. I understand visit …, promise …, home, settings and help.",
    "visit Acme Dental 1h30 replaced fuser; todo: order toner",
)
TEAMS_HELP = (
    "*In Teams* type the commands to me in our chat, with or without the /; in a channel or group chat, "
    "@mention me first (@Nudgebot visit …), and I answer you in our chat.\n"
    "*home* shows what you owe, with the buttons to act on it; *settings* your working hours, days, "
    "time zone, pause and which reminders you get.\n"
    "*Managers*: type @Nudgebot digest here in the managers' channel to have the weekly digest posted "
    "there, and digest in our chat for the digest now."
)
ANSWERED_IN_CHAT = Reply(summary="Answered in our chat", blocks=(Note("I've answered you in our 1:1 chat."),))
NO_CHAT = error(
    "I couldn't open a 1:1 chat with you to send my answer. Add Nudgebot for yourself in Teams (Apps → "
    "Nudgebot → Add), then type home in our chat to see where things stand."
)
SETTINGS_SAVED = Reply(
    summary="Settings saved", blocks=(Section(":white_check_mark: Your settings are saved."),)
)


def help_reply() -> Reply:
    """Usage of both commands, and what is different in Teams."""
    visit, promise = usage("visit", shares_files=False), usage("promise", shares_files=False)
    blocks = (*visit.blocks[:-1], *promise.blocks[:-1], Section(TEAMS_HELP), *visit.blocks[-1:])
    return Reply(summary="How to use Nudgebot", blocks=blocks, tone="info")


def card_response(card: dict[str, Any]) -> dict[str, Any]:
    """An invoke's answer: the card to show in place of the one pressed."""
    return {"status": 200, "body": {"statusCode": 200, "type": CARD_RESPONSE, "value": card}}


def message_response(text: str) -> dict[str, Any]:
    """An invoke's answer that leaves the card as it was and shows a short message."""
    return {
        "status": 200,
        "body": {"statusCode": 200, "type": MESSAGE_RESPONSE, "value": cards.emojize(text)},
    }


def _said(reply: Reply) -> str:
    """A reply as the few lines of plain text an invoke's message answer shows."""
    lines = [
        block.text.replace("*", "")
        for block in reply.blocks
        if isinstance(block, Section | Note | Preformatted)
    ]
    return "\n".join(lines)[:1000] or reply.summary


def _here(activity: Any, seen: Seen) -> Address | None:
    """The conversation the activity came from, to answer in (None when it may not be written to)."""
    where = seen.conversation
    if where is None:
        return None
    full = str(getattr(getattr(activity, "conversation", None), "id", "") or where.id)
    return Address(TEAMS, full, endpoint=where.endpoint, tenant=translate.tenant(activity), kind=where.kind)


def _personal(activity: Any, seen: Seen) -> Address | None:
    """The sender's 1:1 chat with the bot: this one, or one to open for their member id."""
    here = _here(activity, seen)
    if here is None or here.kind == "personal":
        return here
    return Address(TEAMS, "", endpoint=here.endpoint, member=seen.member, tenant=here.tenant, kind="personal")


@dataclass
class TeamsListeners:
    """The handlers, holding what they share: the core, our thread pool, background sends."""

    core: Core
    runner: CoreRunner
    background: Background
    messenger: Messenger
    service_urls: ServiceUrls
    # The tenant of the bot's single-tenant registration; None with the local Playground.
    tenant_id: str | None = None
    budget_s: float = BUDGET_S

    def _actor(self, activity: Any) -> Actor | None:
        who = translate.actor(activity)
        if who is None:
            logger.info("ignored a %s activity that names nobody", getattr(activity, "type", "?"))
            return None
        if self.tenant_id and who.workspace != self.tenant_id:
            logger.warning("ignored an activity from another tenant (%s)", who.workspace)
            return None
        return who

    async def _core(self, work: Callable[..., T], *args: object) -> T | None:
        """Run the core off the loop; None when it outlasts the budget (it carries on regardless)."""
        return await self.runner.within_budget(self.runner.start(work, *args), self.budget_s)

    # -- Messages ------------------------------------------------------------------------------------

    async def message(self, ctx: Any) -> None:
        """A message typed to the bot: a command, or a word for a view (home, settings, help)."""
        activity = ctx.activity
        who = self._actor(activity)
        if who is None:
            return
        seen = translate.seen(activity, self.service_urls)
        if not getattr(activity, "text", None) and getattr(activity, "value", None):
            # Action.Submit: our cards use Action.Execute only, so this is an old or foreign card.
            logger.info("ignored a card submission sent as a message")
            return
        asked = translate.typed(translate.text(activity))
        here, personal = _here(activity, seen), _personal(activity, seen)
        answer = await self._answer(who, seen, asked, activity)
        if answer is None:
            return
        reply, card = answer
        # "digest here" is about the channel it is typed in, so it is answered there.
        in_place = asked.word == "digest" and asked.rest.lower() == "here"
        target = here if in_place else personal
        if target is None:
            return
        self.background.spawn(self._deliver(who, reply, card, target, here), what="Teams reply")

    async def _answer(
        self, who: Actor, seen: Seen, asked: translate.Typed, activity: Any
    ) -> tuple[Reply, dict[str, Any]] | None:
        """The reply and its card; None when the core is still at work (it answers itself later)."""
        word = asked.word
        if word in ("visit", "promise") and not asked.rest:
            form = self.core.form(word)
            return Reply(summary=form.title), cards.build_form(form, key=uuid.uuid4().hex)
        if word == "settings":
            settings = await self._core(self.core.settings_form, who, seen)
            if settings is None:
                return BUSY, cards.build_card(BUSY)
            return Reply(summary=settings.title), cards.build_form(settings, key=uuid.uuid4().hex)
        if word == "home":
            reply = await self._core(self.core.home, who, None, seen)
            if reply is None:
                return BUSY, cards.build_card(BUSY)
            return reply, cards.build_card(reply, home=True)
        if word == "help" or not translate.text(activity):
            return help_reply(), cards.build_card(help_reply())
        if word == "":
            return NOT_UNDERSTOOD, cards.build_card(NOT_UNDERSTOOD)
        command, text = (word, asked.rest) if word != "digest" else ("visit", f"digest {asked.rest}".strip())
        invocation = Invocation(who, command, text, request_key=translate.request_key(activity), seen=seen)
        future = self.runner.start(self.core.command, invocation)
        handled = await self.runner.within_budget(future, self.budget_s)
        if handled is None:
            # The database is slow: answer Teams now, and the person once the core is done.
            self.background.spawn(self._answer_late(future, who, activity, seen), what="late Teams reply")
            return None
        return handled.reply, cards.build_card(handled.reply)

    async def _answer_late(self, future: asyncio.Future[Any], who: Actor, activity: Any, seen: Seen) -> None:
        try:
            reply = (await future).reply
        except Exception:
            logger.exception("a Teams command failed after the answer")
            reply = FAILED
        target = _personal(activity, seen)
        if target is not None:
            await self._deliver(who, reply, cards.build_card(reply), target, _here(activity, seen))

    async def _deliver(
        self, who: Actor, reply: Reply, card: dict[str, Any], target: Address, here: Address | None
    ) -> None:
        """Send the answer; when it went to a 1:1 chat opened for it, remember the chat and say so where
        the command was typed."""
        try:
            sent = await self.messenger.send(target, card, summary=reply.summary)
        except (PermanentFailure, TemporaryFailure, RateLimited) as failure:
            logger.warning("could not answer %s in Teams: %s", who.user, failure)
            if here is not None and here != target:
                await self._send_quietly(here, NO_CHAT)
            return
        if sent.opened and target.endpoint:
            chat = Conversation(id=sent.conversation, kind="personal", endpoint=target.endpoint)
            await self.runner.start(self.core.saw, who, Seen(conversation=chat))
        if here is not None and here.kind != "personal" and target.kind == "personal":
            await self._send_quietly(here, ANSWERED_IN_CHAT)

    async def _send_quietly(self, address: Address, reply: Reply) -> None:
        try:
            await self.messenger.send(address, cards.build_card(reply), summary=reply.summary)
        except (PermanentFailure, TemporaryFailure, RateLimited) as failure:
            logger.warning("could not post in a Teams conversation: %s", failure)

    # -- Button presses (Action.Execute invokes) --------------------------------------------------------

    async def card_action(self, ctx: Any) -> dict[str, Any]:
        """A button on one of our cards: answered with the card that replaces it."""
        activity = ctx.activity
        who = self._actor(activity)
        action = getattr(getattr(activity, "value", None), "action", None)
        verb = str(getattr(action, "verb", None) or "")
        data = getattr(action, "data", None)
        data = data if isinstance(data, dict) else {}
        if who is None or not verb:
            return message_response(OUT_OF_DATE)
        seen = translate.seen(activity, self.service_urls)
        try:
            if verb == cards.FORM_VERB:
                return await self._submit(who, seen, data, activity)
            if verb == SETTINGS:
                form = await self._core(self.core.settings_form, who, seen)
                if form is None:
                    return card_response(cards.build_card(WORKING))
                return card_response(cards.build_form(form, key=uuid.uuid4().hex))
            return await self._press(who, seen, verb, data, activity)
        except Exception:
            logger.exception("a Teams button failed")
            return message_response(FAILED.summary + ": nothing was saved. Please try again.")

    async def _press(
        self, who: Actor, seen: Seen, verb: str, data: dict[str, Any], activity: Any
    ) -> dict[str, Any]:
        press = Press(who, verb, cards.button_value(data), seen)
        future = self.runner.start(self.core.press, press)
        reply = await self.runner.within_budget(future, self.budget_s)
        home = cards.is_home(data)
        if reply is None:
            self.background.spawn(
                self._update_late(future, who, activity, seen, home), what="late Teams card"
            )
            return card_response(cards.build_card(WORKING))
        if reply.tone == "error":
            # A refusal leaves the card as it was, with its buttons, and says why (with its example).
            return message_response(_said(reply))
        if home:
            return card_response(await self._home_after(who, seen, reply, activity))
        return card_response(cards.build_card(reply))

    async def _home_after(self, who: Actor, seen: Seen, reply: Reply, activity: Any) -> dict[str, Any]:
        """The refreshed home card with a button's answer on top (a long answer comes as its own message)."""
        notice: Reply | None = reply
        if reply.files or len(reply.blocks) > NOTICE_BLOCKS:
            target = _personal(activity, seen)
            if target is not None:
                card = cards.build_card(reply)
                self.background.spawn(self._deliver(who, reply, card, target, None), what="Teams reply")
            notice = None
        refreshed = await self.runner.start(self.core.home, who, notice, seen)
        return cards.build_card(refreshed, home=True)

    async def _update_late(
        self, future: asyncio.Future[Reply], who: Actor, activity: Any, seen: Seen, home: bool
    ) -> None:
        """Replace the "Working on it…" card once the core has answered."""
        try:
            reply = await future
        except Exception:
            logger.exception("a Teams button failed after the answer")
            reply = FAILED
        card = (
            await self._home_after(who, seen, reply, activity)
            if home and reply.tone != "error"
            else cards.build_card(reply)
        )
        here, message_id = _here(activity, seen), getattr(activity, "reply_to_id", None)
        if here is None or not message_id:
            return
        try:
            await self.messenger.update(here, str(message_id), card, summary=reply.summary)
        except (PermanentFailure, TemporaryFailure, RateLimited) as failure:
            logger.warning("could not update a Teams card: %s", failure)

    async def _submit(self, who: Actor, seen: Seen, data: dict[str, Any], activity: Any) -> dict[str, Any]:
        """A form card submitted: errors re-show it with what was typed; success shows the answer."""
        kind, key = str(data.get("kind") or ""), str(data.get("key") or "")[:64]
        form: Form | None
        if kind in (VISIT_FORM, PROMISE_FORM):
            form = self.core.form("visit" if kind == VISIT_FORM else "promise")
        elif kind == SETTINGS_FORM:
            form = await self._core(self.core.settings_form, who, seen)
        else:
            return message_response("That form is out of date; type visit, promise or settings again.")
        if form is None:
            return card_response(cards.build_card(WORKING))
        values, ticked, chosen = cards.form_inputs(form, data)
        submission = Submission(
            who,
            kind,
            values,
            ticked,
            request_key=f"teams-form:{who.user}:{key}" if key else None,
            chosen=chosen,
            seen=seen,
        )
        outcome = await self._core(self.core.submit, submission)
        if outcome is None:
            return card_response(cards.build_card(WORKING))
        if outcome.errors:
            card = cards.build_form(
                form, key=key, values=values, ticked=ticked, chosen=chosen, errors=outcome.errors
            )
            return card_response(card)
        if kind == SETTINGS_FORM:
            return card_response(await self._home_after(who, seen, SETTINGS_SAVED, activity))
        reply = outcome.reply or SETTINGS_SAVED
        return card_response(cards.build_card(reply))

    # -- Installs and conversations ------------------------------------------------------------------

    async def installation(self, ctx: Any) -> None:
        """The bot added (welcome, and remember where) or removed (forget the conversation or team)."""
        activity = ctx.activity
        who = self._actor(activity)
        if who is None:
            return
        action = str(getattr(activity, "action", "") or "")
        if action.startswith("remove"):
            await self._forget(who, activity)
            return
        seen = translate.seen(activity, self.service_urls)
        await self.runner.start(self.core.saw, who, seen)
        here = _here(activity, seen)
        if here is None or action != "add":
            return
        if here.kind == "personal":
            welcome = Reply(
                summary="Welcome to Nudgebot",
                blocks=(
                    Section(
                        ":wave: Hi! I remember the habits that keep clients for years: follow-up e-mails, "
                        "calls after cancellations, one-hour windows, promises and check-ins. Type help "
                        "to see how, or visit Acme Dental 1h30 replaced fuser to log your first visit."
                    ),
                ),
            )
            home = await self.runner.start(self.core.home, who, welcome, seen)
            self.background.spawn(
                self._deliver(who, home, cards.build_card(home, home=True), here, None), what="welcome"
            )
        else:
            welcome = Reply(
                summary="Nudgebot is here",
                blocks=(
                    Section(
                        ":wave: Hi, I'm Nudgebot. Technicians: chat with me 1:1 to log visits and promises. "
                        "Managers: type @Nudgebot digest here in your managers' channel for the weekly "
                        "digest."
                    ),
                ),
            )
            self.background.spawn(self._send_quietly(here, welcome), what="welcome")

    async def conversation_update(self, ctx: Any) -> None:
        """Members came or went: keep the conversation current, and forget it when the bot left."""
        activity = ctx.activity
        who = self._actor(activity)
        if who is None:
            return
        bot = getattr(getattr(activity, "recipient", None), "id", None)
        removed = [getattr(member, "id", None) for member in getattr(activity, "members_removed", None) or []]
        if bot and bot in removed:
            await self._forget(who, activity)
            return
        await self.runner.start(self.core.saw, who, translate.seen(activity, self.service_urls))

    async def _forget(self, who: Actor, activity: Any) -> None:
        team = getattr(getattr(getattr(activity, "channel_data", None), "team", None), "id", None)
        conversation = translate.conversation_id(activity)
        forgotten = await self.runner.start(
            lambda: self.core.forget(who, conversation_id=conversation, team_id=team and str(team))
        )
        logger.info("Nudgebot was removed: forgot %s conversation(s)", forgotten)


def register(app: Any, listeners: TeamsListeners) -> None:
    """Every kind of activity Nudgebot answers in Teams."""
    app.on_message(listeners.message)
    app.on_card_action(listeners.card_action)
    app.on_installation_update(listeners.installation)
    app.on_conversation_update(listeners.conversation_update)
