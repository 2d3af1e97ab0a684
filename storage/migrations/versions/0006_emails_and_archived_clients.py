"""Technicians' e-mail addresses, and archived clients: what a client list managed from a PSA needs.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

A PSA's export names each client's account manager by full name or e-mail, where a chat display name is
often a first name; Slack's users.info gives both (the e-mail with the users:read.email scope), and they
are stored beside the display name. A client who left
is archived, not deleted: no more reminders, out of the digest's figures, its history kept.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("technicians", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("full_name", sa.String(length=200), nullable=True))
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_column("archived_at")
    with op.batch_alter_table("technicians", schema=None) as batch_op:
        batch_op.drop_column("full_name")
        batch_op.drop_column("email")
