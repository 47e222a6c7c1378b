"""Admins' link decisions: two records split apart or joined into one course, whatever the matcher says.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crawlers.state.schema import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "link_decisions",
        sa.Column("uid_a", sa.String(300), primary_key=True),
        sa.Column("uid_b", sa.String(300), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=False),
        sa.Column("decided_at", UtcDateTime, nullable=False),
        sa.Column("note", sa.Text, nullable=True),
    )
    op.create_index("ix_link_decisions_uid_b", "link_decisions", ["uid_b"])


def downgrade() -> None:
    op.drop_index("ix_link_decisions_uid_b", table_name="link_decisions")
    op.drop_table("link_decisions")
