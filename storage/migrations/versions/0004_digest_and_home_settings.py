"""The managers' digest in the outbox, and the settings technicians set on App Home.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

A digest is an outbox row with no technician, posted in parts (the summary, its thread, the chart), so
`parts_sent` records how far a delivery got and a retry after a crash resumes there. Technicians may
override their profile's time zone and turn kinds of nudge off.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("nudges", schema=None) as batch_op:
        batch_op.alter_column("technician_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("parts_sent", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("technicians", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone_override", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("muted_kinds", sa.String(length=200), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("technicians", schema=None) as batch_op:
        batch_op.drop_column("muted_kinds")
        batch_op.drop_column("timezone_override")
    op.execute("DELETE FROM nudges WHERE technician_id IS NULL")
    with op.batch_alter_table("nudges", schema=None) as batch_op:
        batch_op.drop_column("parts_sent")
        batch_op.alter_column("technician_id", existing_type=sa.Integer(), nullable=False)
