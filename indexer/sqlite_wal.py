"""Switching a SQLite file to write-ahead logging, safely when several connections open a new file at once."""

from __future__ import annotations

import sqlite3
import time
from typing import Protocol

_RETRY_PAUSE_SECONDS = 0.01


class _Executes(Protocol):
    def execute(self, sql: str, /) -> object: ...


def enable_wal(connection: _Executes, *, timeout_seconds: float) -> None:
    """`PRAGMA journal_mode=WAL`, tried again while another connection holds the lock, up to the timeout.

    When two connections switch the same new file at the same moment, SQLite answers the loser "database is
    locked" at once, without waiting in its busy handler; once the file is in WAL mode the pragma changes
    nothing and always succeeds.
    """
    deadline = time.monotonic() + timeout_seconds
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(_RETRY_PAUSE_SECONDS)
