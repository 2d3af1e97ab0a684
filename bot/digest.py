"""The managers' weekly digest: what the team did, what went well, and what to do about the gaps."""

from __future__ import annotations

from bot.context import Context
from bot.replies import Reply


def on_demand(ctx: Context) -> Reply:
    """A manager asks for the digest now: it is queued for delivery to their DM."""
    raise NotImplementedError
