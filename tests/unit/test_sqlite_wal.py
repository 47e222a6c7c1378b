"""Switching to WAL while another connection holds the file: waited for, up to a limit."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from indexer.sqlite_wal import enable_wal


def locked_file(path: Path) -> sqlite3.Connection:
    """A connection holding an exclusive lock on a new database file."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("CREATE TABLE t (x)")
    return holder


def test_the_switch_waits_for_a_lock_another_connection_releases(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    holder = locked_file(path)
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)  # no busy handler: "locked" comes at once
    release = threading.Timer(0.2, holder.execute, args=("COMMIT",))
    release.start()
    try:
        enable_wal(conn, timeout_seconds=10)
    finally:
        release.join()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0
    conn.close()
    holder.close()


def test_a_lock_held_past_the_timeout_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    holder = locked_file(path)
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        enable_wal(conn, timeout_seconds=0.1)
    conn.close()
    holder.close()
