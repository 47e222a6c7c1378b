"""Indexes for the sources' health: the newest start and finish of a source's runs in each status are one seek.

`StateStore.health()` (crawlers/state/health.py) reads, per source, the newest run that delivered data (by start,
for the failure streak; by finish, for freshness), counts the failed runs started after it, and asks whether a
run is running: with these indexes each is a seek or a range as long as the answer, not a scan of the history.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_runs_source_status_started", "runs", ["source_id", "status", "started_at"])
    op.create_index("ix_runs_source_status_finished", "runs", ["source_id", "status", "finished_at"])


def downgrade() -> None:
    op.drop_index("ix_runs_source_status_finished", table_name="runs")
    op.drop_index("ix_runs_source_status_started", table_name="runs")
