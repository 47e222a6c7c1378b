"""Kill a child process at some point of its SQLite write transaction, for the tests holding that a write killed
anywhere leaves the file as it was or wholly written."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from pathlib import Path


def kill_inside_its_write(path: Path, process: subprocess.Popen[str], delay: float) -> None:
    """Wait until `process` holds the write lock of the SQLite file at `path` (or has ended), let it run `delay`
    seconds more, then SIGKILL it and reap it."""
    watcher = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        while process.poll() is None:  # until the child holds the write lock
            try:
                watcher.execute("BEGIN IMMEDIATE")
                watcher.execute("ROLLBACK")
            except sqlite3.OperationalError:  # locked
                break
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline:  # kill at different points of the write
            pass
        process.kill()
        process.wait(timeout=30)
    finally:
        watcher.close()
