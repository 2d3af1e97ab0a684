"""The Slack Notifier: a nudge becomes a DM (chat.postMessage to the user), and Slack's errors become ours."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.notify import Delivered, PermanentFailure, RateLimited, TemporaryFailure
from bot.replies import Reply
from handlers.slack import render

logger = logging.getLogger(__name__)

# Errors that no retry can fix; the row is marked dead with the reason, for managers to see.
PERMANENT = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "user_not_found",
    "user_disabled",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "invalid_auth",
    "not_authed",
    "missing_scope",
    "cannot_dm_bot",
    "msg_too_long",
    "invalid_blocks",
}


class SlackNotifier:
    """Sends nudges as direct messages with the bot token."""

    def __init__(self, *, token: str, base_url: str, timeout: int = 10) -> None:
        # No retry handlers: a retried chat.postMessage can post twice; the outbox decides about retries.
        self.client = WebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=[])

    def send(self, *, recipient: str, reply: Reply, key: str) -> Delivered:
        """Post the reply to the user's DM with Nudgebot."""
        try:
            response = self.client.chat_postMessage(
                channel=recipient,
                metadata={"event_type": "nudgebot_nudge", "event_payload": {"key": key}},
                **render.build_message(reply),
            )
        except SlackApiError as failure:
            status = failure.response.status_code
            error = str(failure.response.get("error") or f"http_{status}")
            if status == 429:
                retry_after = failure.response.headers.get("Retry-After") or failure.response.headers.get(
                    "retry-after"
                )
                raise RateLimited(float(retry_after or 1)) from None
            if error in PERMANENT:
                raise PermanentFailure(error) from None
            raise TemporaryFailure(error) from None
        except OSError as failure:
            # Refused, reset or timed out: the message may or may not have arrived.
            raise TemporaryFailure(f"network: {type(failure).__name__}") from None
        return Delivered(channel=str(response.get("channel", recipient)), ts=str(response.get("ts", "")))
