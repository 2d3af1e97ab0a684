"""`/visit report <client> [month]`: a client-facing summary of the month, to paste into an e-mail."""

from __future__ import annotations

from bot.context import Context
from bot.grammar import commands as grammar
from bot.replies import Reply
from storage.models import Client


def client_report(ctx: Context, command: grammar.ClientReport, client: Client) -> Reply:
    """The month's visits, open items and promises for the client, as text and as a file."""
    raise NotImplementedError
