"""An index that lets the question planner read only the clients quiet for long enough, not every client.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

A client is due the question "how are we doing?" no sooner than the workspace's interval after the
latest of when they were added, last gave feedback and were last asked. No index on the three columns
serves "the latest of them is older than the cut-off", so the planner read every client on every pass.
This indexes that latest moment itself, for the owned clients still looked after: the same expression
the planner filters on (`storage.models.CLIENT_QUIET_SINCE`), spelt `max()` on SQLite and `greatest()`
on PostgreSQL. The database keeps it current on every write; nothing is stored beside it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    latest = "greatest" if op.get_bind().dialect.name == "postgresql" else "max"
    quiet_since = sa.text(
        f"{latest}(created_at, coalesce(last_feedback_at, created_at), "
        "coalesce(feedback_asked_at, created_at))"
    )
    looked_after = sa.text("owner_id IS NOT NULL AND archived_at IS NULL")
    op.create_index(
        "ix_clients_quiet_since",
        "clients",
        [quiet_since],
        postgresql_where=looked_after,
        sqlite_where=looked_after,
    )


def downgrade() -> None:
    op.drop_index("ix_clients_quiet_since", table_name="clients")
