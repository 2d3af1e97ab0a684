"""Technicians' e-mail addresses, from their chat profile, so an imported client list can name owners by them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

A PSA's export names each client's account manager by name or e-mail; Slack's users.info gives the
e-mail (with the users:read.email scope), and it is stored beside the display name.
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


def downgrade() -> None:
    with op.batch_alter_table("technicians", schema=None) as batch_op:
        batch_op.drop_column("email")
