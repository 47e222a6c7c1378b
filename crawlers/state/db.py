"""Engines and transactions for the state database: SQLite pragmas and locking, PostgreSQL pooling."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from indexer.sqlite_wal import enable_wal

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
CHUNK = 500  # ids per IN (...) list: below SQLite's variable limit, kind to PostgreSQL's planner

T = TypeVar("T")


def utcnow() -> datetime:
    """The current time, aware, in UTC: every timestamp the store writes comes from here."""
    return datetime.now(UTC)


def _json_dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE itself (pysqlite's implicit BEGIN is deferred
    # and skips DDL): every transaction then holds the write lock from its start, so read-then-write
    # sequences such as a lease take-over cannot interleave between processes.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        enable_wal(cursor, timeout_seconds=SQLITE_BUSY_TIMEOUT_MS / 1000)
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_state_engine(url: str) -> Engine:
    """An engine for a state-database URL: a SQLite file (its directory is created) or PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, json_serializer=_json_dumps)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, json_serializer=_json_dumps, pool_pre_ping=True)


def upsert_insert(connection: Connection, table: Table) -> Any:
    """The dialect's INSERT construct, which offers on_conflict_do_update / on_conflict_do_nothing."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    if connection.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"state database dialect {connection.dialect.name!r} is not supported")


def chunked(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Database:
    """Hands out a connection in a transaction: the one `StateStore.transaction()` bound, else a new one."""

    def __init__(self, engine: Engine, *, connection: Connection | None = None) -> None:
        self.engine = engine
        self.connection = connection

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection inside a transaction; commits at the end unless an outer transaction owns it."""
        if self.connection is not None:
            yield self.connection
            return
        with self.engine.begin() as connection:
            yield connection

    def bound(self, connection: Connection) -> Database:
        """The same database, with every call joining the given connection's transaction."""
        return Database(self.engine, connection=connection)
