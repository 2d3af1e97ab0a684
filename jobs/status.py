"""`python -m jobs status`: the outbox at a glance, and why undeliverable nudges died."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.services import Services
from storage.models import Nudge, NudgeStatus, Technician

MAX_DEAD_LISTED = 20


def outbox_status(services: Services) -> str:
    """A short plain-text report: counts by kind and status, then the latest dead nudges with reasons."""
    with services.sessions.begin() as session:
        counts = session.execute(
            select(Nudge.kind, Nudge.status, func.count()).group_by(Nudge.kind, Nudge.status)
        ).all()
        dead = session.execute(
            # An outer join: a digest has no technician, only the channel it was for.
            select(
                Nudge.id,
                Nudge.kind,
                Nudge.subject,
                func.coalesce(Technician.user_id, Nudge.channel),
                Nudge.last_error,
            )
            .outerjoin(Technician, Technician.id == Nudge.technician_id)
            .where(Nudge.status == NudgeStatus.DEAD)
            .order_by(Nudge.id.desc())
            .limit(MAX_DEAD_LISTED)
        ).all()
    statuses = [status.value for status in NudgeStatus]
    table: dict[str, dict[str, int]] = {}
    for kind, status, count in counts:
        table.setdefault(kind, dict.fromkeys(statuses, 0))[NudgeStatus(status).value] = count
    lines = ["kind".ljust(12) + "".join(status.rjust(9) for status in statuses)]
    for kind in sorted(table):
        lines.append(kind.ljust(12) + "".join(str(table[kind][status]).rjust(9) for status in statuses))
    if not table:
        lines.append("(the outbox is empty)")
    if dead:
        lines.append("")
        lines.append("Could not be delivered:")
        lines += [f"  #{row[0]} {row[1]} {row[2]} to {row[3]}: {row[4]}" for row in dead]
    return "\n".join(lines) + "\n"
