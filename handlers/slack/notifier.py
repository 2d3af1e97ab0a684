"""The Slack Notifier: a nudge becomes a DM (chat.postMessage to the user), and Slack's errors become ours."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.notify import Address, Delivered, PermanentFailure, RateLimited, TemporaryFailure
from bot.replies import Attachment, Reply
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
    "file_upload_size_restricted",
}


class SlackNotifier:
    """Sends nudges as direct messages with the bot token."""

    def __init__(self, *, token: str, base_url: str, timeout: int = 10) -> None:
        # No retry handlers: a retried chat.postMessage can post twice; the outbox decides about retries.
        self.client = WebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=[])

    def send(self, *, recipient: Address, reply: Reply, key: str) -> Delivered:
        """Post the reply to the user's DM with Nudgebot."""
        return self.post(channel=recipient, reply=reply, key=key)

    def post(self, *, channel: Address, reply: Reply, key: str, thread: str | None = None) -> Delivered:
        """Post the reply in a channel, or a user's DM when the address is a user id; in `thread` if given."""
        with _translated_failures():
            response = self.client.chat_postMessage(
                channel=channel.target,
                thread_ts=thread,
                metadata={"event_type": "nudgebot_nudge", "event_payload": {"key": key}},
                **render.build_message(reply),
            )
        return Delivered(channel=str(response.get("channel", channel.target)), ts=str(response.get("ts", "")))

    def upload(self, *, channel: Address, file: Attachment, thread: str | None = None) -> None:
        """Share a file through files.getUploadURLExternal / files.completeUploadExternal."""
        with _translated_failures():
            target = channel.target
            if target.startswith(("U", "W")):
                # Files are shared into a conversation, so a user's DM is opened (found) first.
                opened = self.client.conversations_open(users=target)
                target = str(opened["channel"]["id"])
            self.client.files_upload_v2(
                channel=target,
                thread_ts=thread,
                content=file.content,
                filename=file.filename,
                title=file.title,
            )


@contextmanager
def _translated_failures() -> Iterator[None]:
    """Slack's errors as the Notifier's three failures."""
    try:
        yield
    except SlackApiError as failure:
        status = failure.response.status_code
        # A 5xx body is often not JSON at all; slack_sdk then puts its own long sentence in `error`.
        error = f"http_{status}" if status >= 500 else str(failure.response.get("error") or f"http_{status}")
        if status == 429:
            headers = failure.response.headers
            retry_after = headers.get("Retry-After") or headers.get("retry-after")
            raise RateLimited(float(retry_after or 1)) from None
        if error in PERMANENT:
            raise PermanentFailure(error) from None
        raise TemporaryFailure(error) from None
    except SlackRequestError as failure:
        # The file itself did not reach Slack's upload URL; nothing was shared.
        raise TemporaryFailure(f"upload: {failure}"[:200]) from None
    except OSError as failure:
        # Refused, reset or timed out: the message may or may not have arrived.
        raise TemporaryFailure(f"network: {type(failure).__name__}") from None
