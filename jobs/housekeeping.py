"""Tidying that keeps tables small: forgetting request keys once no replay can arrive."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from storage.models import ProcessedRequest

# Slack rejects signatures older than five minutes, so a day is ample for catching replays.
KEEP_REQUEST_KEYS = timedelta(days=1)


def purge_request_keys(session: Session, *, now: datetime) -> int:
    """Delete replay-protection keys older than a day; returns how many went."""
    result = session.execute(
        delete(ProcessedRequest).where(ProcessedRequest.received_at < now - KEEP_REQUEST_KEYS)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
