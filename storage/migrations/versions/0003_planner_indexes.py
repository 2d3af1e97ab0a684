"""Indexes that let each planner read only what may be due, not every visit, promise and client.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

Partial indexes hold only the open rows (a follow-up not sent, a promise not kept, a call not made), so
a planning pass costs what is due, however long the history grows; the check-in index is on the
cadence and the expression the planner filters on (the last touch, or when the client was added).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    followup_open = sa.text("followup_sent_at IS NULL")
    op.create_index(
        "ix_visits_followup_open",
        "visits",
        ["visited_at"],
        postgresql_where=followup_open,
        sqlite_where=followup_open,
    )
    promise_open = sa.text("done_at IS NULL")
    op.create_index(
        "ix_promises_open", "promises", ["due_at"], postgresql_where=promise_open, sqlite_where=promise_open
    )
    call_open = sa.text("status = 'cancelled' AND call_logged_at IS NULL")
    op.create_index(
        "ix_appointments_call_open",
        "appointments",
        ["technician_id"],
        postgresql_where=call_open,
        sqlite_where=call_open,
    )
    op.create_index("ix_appointments_status_window_start", "appointments", ["status", "window_start"])
    # Check-ins are due `cadence` days after the last touch, or after the client was added if never
    # touched: one index for each case, both led by the cadence the planner groups by.
    op.create_index("ix_clients_cadence_last_touch", "clients", ["checkin_cadence_days", "last_touch_at"])
    untouched = sa.text("last_touch_at IS NULL")
    op.create_index(
        "ix_clients_cadence_untouched",
        "clients",
        ["checkin_cadence_days", "created_at"],
        postgresql_where=untouched,
        sqlite_where=untouched,
    )


def downgrade() -> None:
    op.drop_index("ix_clients_cadence_untouched", table_name="clients")
    op.drop_index("ix_clients_cadence_last_touch", table_name="clients")
    op.drop_index("ix_appointments_status_window_start", table_name="appointments")
    op.drop_index("ix_appointments_call_open", table_name="appointments")
    op.drop_index("ix_promises_open", table_name="promises")
    op.drop_index("ix_visits_followup_open", table_name="visits")
