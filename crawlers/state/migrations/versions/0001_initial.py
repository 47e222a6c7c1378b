"""Initial state schema: sources, runs, cursors, record state, quarantine, holds, keys, audit, leases.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crawlers.state.schema import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _source_fk() -> sa.ForeignKey:
    return sa.ForeignKey("sources.id", ondelete="CASCADE")


def _counts() -> list[sa.Column]:
    names = ("fetched", "new", "updated", "unchanged", "withdrawn", "rejected")
    return [sa.Column(name, sa.Integer, nullable=False) for name in names]


def _create_sources_and_runs() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.String(63), primary_key=True),
        sa.Column("platform", sa.String(63), nullable=False, index=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("paused", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("source_id", sa.String(63), _source_fk(), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("holder", sa.String(200), nullable=True),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("finished_at", UtcDateTime, nullable=True),
        *_counts(),
        sa.Column("http", sa.JSON, nullable=True),
        sa.Column("error_type", sa.String(200), nullable=True),
        sa.Column("error_message", sa.Text, nullable=True),
        sa.Column("report", sa.JSON, nullable=True),
    )
    op.create_index("ix_runs_source_started", "runs", ["source_id", "started_at"])
    op.create_index("ix_runs_status_started", "runs", ["status", "started_at"])


def _create_record_tables() -> None:
    op.create_table(
        "cursors",
        sa.Column("source_id", sa.String(63), _source_fk(), primary_key=True),
        sa.Column("key", sa.String(500), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "record_state",
        sa.Column("source_id", sa.String(63), _source_fk(), primary_key=True),
        sa.Column("uid", sa.String(300), primary_key=True),
        sa.Column("content_hash", sa.String(128), nullable=False),
        sa.Column("first_seen", UtcDateTime, nullable=False),
        sa.Column("last_changed_run", sa.String(64), nullable=True),
        sa.Column("missed_complete_runs", sa.Integer, nullable=False),
        sa.Column("withdrawn_at", UtcDateTime, nullable=True),
    )


def _create_review_tables() -> None:
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=True, index=True),
        sa.Column("source_id", sa.String(63), _source_fk(), nullable=False, index=True),
        sa.Column("item_id", sa.String(300), nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("payload", sa.JSON, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "held_deletions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("source_id", sa.String(63), _source_fk(), nullable=False, index=True),
        sa.Column("uids", sa.JSON, nullable=False),
        sa.Column("uid_count", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_at", UtcDateTime, nullable=True),
    )


def _create_access_tables() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("secret_hash", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("platform", sa.String(63), nullable=True, index=True),
        sa.Column("label", sa.String(200), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("revoked_at", UtcDateTime, nullable=True),
        sa.Column("last_used_at", UtcDateTime, nullable=True),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("target", sa.String(300), nullable=True, index=True),
        sa.Column("details", sa.JSON, nullable=True),
    )
    op.create_table(
        "leases",
        sa.Column("source_id", sa.String(300), primary_key=True),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("acquired_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
    )


def upgrade() -> None:
    _create_sources_and_runs()
    _create_record_tables()
    _create_review_tables()
    _create_access_tables()


def downgrade() -> None:
    for table in (
        "leases",
        "audit_log",
        "api_keys",
        "held_deletions",
        "quarantine",
        "record_state",
        "cursors",
        "runs",
        "sources",
    ):
        op.drop_table(table)
