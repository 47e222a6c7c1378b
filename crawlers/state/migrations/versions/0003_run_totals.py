"""Run totals for /metrics (runs by status, durations, HTTP errors by status), filled from the stored runs.

From here on the store keeps them in step with each run (crawlers/state/run_totals.py); this revision counts the
runs a database already holds in the same way, so an upgraded database reports the figures it reported before.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# As they were when this revision was written (crawlers.state.schema.DURATION_EDGES): seconds, one column each.
EDGES = (1, 5, 15, 60, 300, 900, 1800, 3600, 7200)
BUCKETS = tuple(f"le_{edge}" for edge in EDGES)


def _source_fk() -> sa.ForeignKey:
    return sa.ForeignKey("sources.id", ondelete="CASCADE")


# A finished run's duration in whole microseconds (NULL while it runs), in each database's date arithmetic:
# SQLite stores `YYYY-MM-DD HH:MM:SS.ffffff` text: whole seconds from the first 19 characters (strftime('%s') of
# the whole text rounds to the millisecond first, so .9995 s and over became the next second), plus microseconds;
# PostgreSQL subtracts to an exact interval.
_MICROS = {
    "sqlite": """CASE WHEN finished_at IS NOT NULL THEN
        (CAST(strftime('%s', substr(finished_at, 1, 19)) AS INTEGER)
         - CAST(strftime('%s', substr(started_at, 1, 19)) AS INTEGER)) * 1000000
        + CAST(substr(finished_at, 21, 6) AS INTEGER) - CAST(substr(started_at, 21, 6) AS INTEGER) END""",
    "postgresql": "CAST(EXTRACT(EPOCH FROM finished_at - started_at) * 1000000 AS BIGINT)",
}

# Keeps each database from merging the subquery into the aggregate, which would work each duration out once per
# bucket instead of once (1M runs on SQLite: 32 s without, 6 s with).
_FENCE = {"sqlite": "LIMIT -1", "postgresql": "OFFSET 0"}

# Whole-number counts under 10**18 only, as crawlers.state.run_totals.http_error_counts takes them.
_HTTP_ERRORS = {
    "sqlite": """
        INSERT INTO run_http_errors (source_id, http_status, errors)
        SELECT runs.source_id, errors.key, SUM(errors.value)
        FROM runs, json_each(runs.http, '$.errors_by_status') AS errors
        WHERE json_type(runs.http, '$.errors_by_status') = 'object' AND errors.type = 'integer'
          AND abs(errors.value) < 1000000000000000000
        GROUP BY runs.source_id, errors.key
    """,
    "postgresql": """
        INSERT INTO run_http_errors (source_id, http_status, errors)
        SELECT runs.source_id, errors.key, SUM(errors.value::text::bigint)
        FROM runs CROSS JOIN LATERAL json_each(CASE WHEN json_typeof(runs.http -> 'errors_by_status') = 'object'
                                                    THEN runs.http -> 'errors_by_status' ELSE '{}'::json END) AS errors
        WHERE json_typeof(errors.value) = 'number' AND errors.value::text ~ '^-?[0-9]{1,18}$'
        GROUP BY runs.source_id, errors.key
    """,
}


def upgrade() -> None:
    op.create_table(
        "run_totals",
        sa.Column("source_id", sa.String(63), _source_fk(), primary_key=True),
        sa.Column("status", sa.String(16), primary_key=True),
        sa.Column("runs", sa.BigInteger, nullable=False),
        sa.Column("finished", sa.BigInteger, nullable=False),
        sa.Column("duration_us", sa.BigInteger, nullable=False),
        *(sa.Column(name, sa.BigInteger, nullable=False) for name in BUCKETS),
    )
    op.create_table(
        "run_http_errors",
        sa.Column("source_id", sa.String(63), _source_fk(), primary_key=True),
        sa.Column("http_status", sa.Text, primary_key=True),
        sa.Column("errors", sa.BigInteger, nullable=False),
    )
    dialect = op.get_bind().dialect.name
    # A bucket counts a duration within its edge as the old scrape compared them: seconds as a float.
    buckets = ", ".join(f"COALESCE(SUM(CASE WHEN us / 1000000.0 <= {edge} THEN 1 ELSE 0 END), 0)" for edge in EDGES)
    op.execute(
        f"""
        INSERT INTO run_totals (source_id, status, runs, finished, duration_us, {", ".join(BUCKETS)})
        SELECT source_id, status, COUNT(*), COUNT(us), COALESCE(SUM(us), 0), {buckets}
        FROM (SELECT source_id, status, {_MICROS[dialect]} AS us FROM runs {_FENCE[dialect]}) AS timed
        GROUP BY source_id, status
        """
    )
    op.execute(_HTTP_ERRORS[dialect])


def downgrade() -> None:
    op.drop_table("run_http_errors")
    op.drop_table("run_totals")
