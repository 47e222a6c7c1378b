"""The state tables as SQLAlchemy Core objects (the migrations create them; queries use these)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator

ID = 64  # run ids, key ids
SOURCE_ID = 63  # config/source_models.py: ^[a-z][a-z0-9_]{1,62}$
UID = 300  # "{source}:{platform id}"
ACTOR = 200  # "key:<id>", "config", "cli:<user>", a holder id


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the state database stores aware (UTC) times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite keeps no offset; we only ever wrote UTC
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData()


def _source_fk() -> ForeignKey:
    return ForeignKey("sources.id", ondelete="CASCADE")


sources = Table(
    "sources",
    metadata,
    Column("id", String(SOURCE_ID), primary_key=True),
    Column("platform", String(SOURCE_ID), nullable=False, index=True),
    Column("kind", String(40), nullable=False),
    Column("name", String(200), nullable=False),
    Column("config", JSON, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("paused", Boolean, nullable=False),
    Column("created_by", String(ACTOR), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("source_id", String(SOURCE_ID), _source_fk(), nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("holder", String(ACTOR), nullable=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("fetched", Integer, nullable=False),
    Column("new", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("withdrawn", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("http", JSON, nullable=True),
    Column("error_type", String(200), nullable=True),
    Column("error_message", Text, nullable=True),
    Column("report", JSON, nullable=True),
    Index("ix_runs_source_started", "source_id", "started_at"),
    Index("ix_runs_status_started", "status", "started_at"),
    # The sources' health (crawlers.state.health): a source's newest start and finish in a status, one seek each.
    Index("ix_runs_source_status_started", "source_id", "status", "started_at"),
    Index("ix_runs_source_status_finished", "source_id", "status", "finished_at"),
)

# Totals over the run history, kept in step with `runs` in the transaction that changes a run (crawlers.state
# .run_totals), so that /metrics reads a few rows per source however many runs are stored. One row per source and
# status: how many runs have it, and of those that finished, how many, their summed duration (in whole
# microseconds, exact) and, per edge of DURATION_EDGES, how many took at most that many seconds.
DURATION_EDGES = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0)


def bucket_column(edge: float) -> str:
    """The run_totals column counting finished runs of at most `edge` seconds: le_60 for 60.0."""
    return f"le_{edge:g}"


run_totals = Table(
    "run_totals",
    metadata,
    Column("source_id", String(SOURCE_ID), _source_fk(), primary_key=True),
    Column("status", String(16), primary_key=True),
    Column("runs", BigInteger, nullable=False),
    Column("finished", BigInteger, nullable=False),
    Column("duration_us", BigInteger, nullable=False),
    *(Column(bucket_column(edge), BigInteger, nullable=False) for edge in DURATION_EDGES),
)

# Failed harvest requests by source and HTTP status, summed from each run's `http.errors_by_status`.
run_http_errors = Table(
    "run_http_errors",
    metadata,
    Column("source_id", String(SOURCE_ID), _source_fk(), primary_key=True),
    Column("http_status", Text, primary_key=True),  # a key of the JSON object, whatever its length
    Column("errors", BigInteger, nullable=False),
)

cursors = Table(
    "cursors",
    metadata,
    Column("source_id", String(SOURCE_ID), _source_fk(), primary_key=True),
    Column("key", String(500), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

record_state = Table(
    "record_state",
    metadata,
    Column("source_id", String(SOURCE_ID), _source_fk(), primary_key=True),
    Column("uid", String(UID), primary_key=True),
    Column("content_hash", String(128), nullable=False),
    Column("first_seen", UtcDateTime, nullable=False),
    Column("last_changed_run", String(ID), nullable=True),
    Column("missed_complete_runs", Integer, nullable=False),
    Column("withdrawn_at", UtcDateTime, nullable=True),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(ID), ForeignKey("runs.id", ondelete="CASCADE"), nullable=True, index=True),
    Column("source_id", String(SOURCE_ID), _source_fk(), nullable=False, index=True),
    Column("item_id", String(UID), nullable=True),
    Column("reason", Text, nullable=False),
    Column("payload", JSON, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)

held_deletions = Table(
    "held_deletions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(ID), ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("source_id", String(SOURCE_ID), _source_fk(), nullable=False, index=True),
    Column("uids", JSON, nullable=False),
    Column("uid_count", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("decided_by", String(ACTOR), nullable=True),
    Column("decided_at", UtcDateTime, nullable=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("salt", String(64), nullable=False),
    Column("secret_hash", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("platform", String(SOURCE_ID), nullable=True, index=True),
    Column("label", String(200), nullable=True),
    Column("created_by", String(ACTOR), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("last_used_at", UtcDateTime, nullable=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(ACTOR), nullable=False),
    Column("action", String(100), nullable=False),
    Column("target", String(UID), nullable=True, index=True),
    Column("details", JSON, nullable=True),
)

# Admins' link decisions (crawlers.state.links): one per unordered pair of record uids, uid_a < uid_b.
# Not tied to sources or record_state: a decision outlives a source's re-registration and names records of
# two sources.
link_decisions = Table(
    "link_decisions",
    metadata,
    Column("uid_a", String(UID), primary_key=True),
    Column("uid_b", String(UID), primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("decided_by", String(ACTOR), nullable=False),
    Column("decided_at", UtcDateTime, nullable=False),
    Column("note", Text, nullable=True),
    Index("ix_link_decisions_uid_b", "uid_b"),
)

# Not tied to the sources table: a lease name is any string, so the scheduler can also lock
# jobs that are not one source (e.g. a periodic clean-up).
leases = Table(
    "leases",
    metadata,
    Column("source_id", String(UID), primary_key=True),
    Column("holder", String(ACTOR), nullable=False),
    Column("acquired_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)
