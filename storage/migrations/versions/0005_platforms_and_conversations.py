"""Workspaces and technicians keyed by platform, and the conversations Teams needs to write to.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

A workspace was a Slack team; now it is a team on a platform ("slack" or "teams") with that platform's
id for it, so every existing row becomes platform "slack" with its team id kept. Technicians keep their
user ids (a Teams one is an Entra object id, 36 characters) and gain the member id Teams gives each bot.
Teams conversation and activity ids are longer than Slack's channel ids and timestamps, so the outbox's
columns for them widen. `conversations` holds where the bot can write on Teams without being asked.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The old unique constraints go before their columns are renamed, the new ones after: in one batch,
    # SQLite's table copy would lose both.
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.drop_constraint("uq_workspaces_slack_team_id", type_="unique")
        batch_op.alter_column(
            "slack_team_id",
            new_column_name="external_id",
            existing_type=sa.String(length=32),
            type_=sa.String(64),
        )
        batch_op.add_column(
            sa.Column("platform", sa.String(length=16), server_default="slack", nullable=False)
        )
        batch_op.add_column(sa.Column("digest_channel", sa.String(length=300), nullable=True))
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_workspaces_platform_external_id"), ["platform", "external_id"]
        )
    with op.batch_alter_table("technicians", schema=None) as batch_op:
        batch_op.drop_constraint("uq_technicians_workspace_id_slack_user_id", type_="unique")
        batch_op.alter_column(
            "slack_user_id",
            new_column_name="user_id",
            existing_type=sa.String(length=32),
            type_=sa.String(64),
        )
        batch_op.add_column(sa.Column("member_id", sa.String(length=300), nullable=True))
    with op.batch_alter_table("technicians", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_technicians_workspace_id_user_id"), ["workspace_id", "user_id"]
        )
    with op.batch_alter_table("nudges", schema=None) as batch_op:
        batch_op.alter_column("channel", existing_type=sa.String(length=32), type_=sa.String(length=300))
        batch_op.alter_column("message_ts", existing_type=sa.String(length=32), type_=sa.String(length=300))
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("service_url", sa.String(length=500), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.String(length=300), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_conversations_technician_id_technicians"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_conversations_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
        sa.UniqueConstraint(
            "workspace_id", "conversation_id", name=op.f("uq_conversations_workspace_id_conversation_id")
        ),
    )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conversations_technician_id"), ["technician_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversations_technician_id"))
    op.drop_table("conversations")
    # Rows of other platforms can't be described by the old schema.
    op.execute("DELETE FROM workspaces WHERE platform != 'slack'")
    with op.batch_alter_table("nudges", schema=None) as batch_op:
        batch_op.alter_column("message_ts", existing_type=sa.String(length=300), type_=sa.String(length=32))
        batch_op.alter_column("channel", existing_type=sa.String(length=300), type_=sa.String(length=32))
    with op.batch_alter_table("technicians", schema=None) as batch_op:
        batch_op.drop_constraint("uq_technicians_workspace_id_user_id", type_="unique")
        batch_op.drop_column("member_id")
        batch_op.alter_column(
            "user_id",
            new_column_name="slack_user_id",
            existing_type=sa.String(length=64),
            type_=sa.String(32),
        )
    with op.batch_alter_table("technicians", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            "uq_technicians_workspace_id_slack_user_id", ["workspace_id", "slack_user_id"]
        )
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.drop_constraint("uq_workspaces_platform_external_id", type_="unique")
        batch_op.drop_column("digest_channel")
        batch_op.drop_column("platform")
        batch_op.alter_column(
            "external_id",
            new_column_name="slack_team_id",
            existing_type=sa.String(length=64),
            type_=sa.String(32),
        )
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_workspaces_slack_team_id", ["slack_team_id"])
