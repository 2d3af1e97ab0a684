"""The nudge outbox and rate gate; working hours, pauses and snoozes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "rate_gates",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_rate_gates_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_rate_gates")),
    )
    op.create_table(
        "nudges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sending",
                "sent",
                "dead",
                "skipped",
                name="nudge_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_nudges_technician_id_technicians"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_nudges_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nudges")),
        sa.UniqueConstraint(
            "workspace_id",
            "subject",
            "kind",
            "period",
            name=op.f("uq_nudges_workspace_id_subject_kind_period"),
        ),
    )
    with op.batch_alter_table("nudges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_nudges_status"), ["status", "next_attempt_at"], unique=False)

    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checkin_snoozed_until", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("technicians", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("work_start_minute", sa.Integer(), server_default="480", nullable=False)
        )
        batch_op.add_column(sa.Column("work_end_minute", sa.Integer(), server_default="1080", nullable=False))
        batch_op.add_column(
            sa.Column("work_days", sa.String(length=7), server_default="01234", nullable=False)
        )
        batch_op.add_column(sa.Column("paused_until", sa.Date(), nullable=True))

    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("followup_snoozed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_column("followup_snoozed_until")

    with op.batch_alter_table("technicians", schema=None) as batch_op:
        batch_op.drop_column("paused_until")
        batch_op.drop_column("work_days")
        batch_op.drop_column("work_end_minute")
        batch_op.drop_column("work_start_minute")

    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_column("checkin_snoozed_until")

    with op.batch_alter_table("nudges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nudges_status"))

    op.drop_table("nudges")
    op.drop_table("rate_gates")
