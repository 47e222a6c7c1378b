"""The SQLite backend's connections: one per thread, kept for the next thread when one ends.

Every thread gets its own connection (on first use, all closed by `close`), so FastAPI's worker threads search
in parallel while a harvest writes; WAL lets readers see the last committed state without waiting. A server's
worker threads come and go (an idle one ends after seconds): the connection of a thread that ended goes back to
an idle pool, its page cache freed, and the next new thread takes it, so the process holds as many connections
as it ever had threads at once, not one for every thread it ever had. Memory a thread's searches freed is given
back to the system when the thread ends (glibc's malloc keeps it otherwise).
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import sqlite3
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import cast

from indexer.errors import IndexBackendError
from indexer.sqlite_wal import enable_wal

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_SECONDS = 30.0
READ_CACHE = "PRAGMA cache_size = -65536"
"""A reading connection of the fts5 engine caches 64 MiB of pages: its text queries scan FTS5's postings."""
ROWID_READ_CACHE = "PRAGMA cache_size = -4096"
"""A reading connection of the tantivy engine caches 4 MiB: its searches read rows by rowid only (hits' payloads,
their clusters), and a page not cached is read from the system's file cache. Every busy worker thread holds one
connection, so a serving process's page caches are this times the threads at once (9 in the 8-client mix: 36 MiB
instead of up to 576 MiB at 64 MiB each; bench/RESULTS.md, issue 17: a memory budget for readers)."""
_MALLOC_ARENAS = 2
"""glibc malloc arenas a serving process keeps (M_ARENA_MAX; default 8 per core): every search thread would get
an arena of its own, and memory freed in one (a connection's page cache, a search's numpy arrays) is never
reused by the others. At 100k records after two rounds of the query mix on 8 threads: RSS 383 MB with the
default, 329 MB with 2, searches no slower (bench/RESULTS.md, issue 17 memory)."""
_M_ARENA_MAX = -8
_PRAGMAS = (
    "PRAGMA synchronous = NORMAL",
    READ_CACHE,
    "PRAGMA mmap_size = 1073741824",
    "PRAGMA temp_store = MEMORY",
)


class SqliteConnections:
    """The connections of one index file: `this_thread()` for the calling thread's, `open()` for a new one
    (e.g. a search's own), every one closed by `close()`. Without `mmap` (the tantivy engine's readers, which read
    rows by rowid) pages are read through a small page cache (ROWID_READ_CACHE) and no memory-mapped file."""

    def __init__(self, path: Path, *, mmap: bool = True) -> None:
        _limit_malloc_arenas()
        self.path = path
        self._mmap = mmap
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._read_cache = READ_CACHE if mmap else ROWID_READ_CACHE
        self._idle = _IdleConnections(self._read_cache)

    @property
    def opened(self) -> int:
        """How many connections are open (in use by a thread, idle, or a search's own)."""
        with self._lock:
            return len(self._opened)

    def this_thread(self) -> sqlite3.Connection:
        held: _Held | None = getattr(self._local, "held", None)
        if held is None:
            held = _Held(self._idle.take() or self.open())
            # The thread's locals go when it ends, and with them `held`: its connection returns to the pool.
            weakref.finalize(held, self._idle.give_back, held.conn).atexit = False
            self._local.held = held
        return held.conn

    def open(self) -> sqlite3.Connection:
        try:
            # check_same_thread=False only so that close() may close every thread's connection;
            # each connection is otherwise used by the thread that opened it.
            conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise IndexBackendError(f"cannot open index {self.path}: {exc}") from exc
        try:
            enable_wal(conn, timeout_seconds=BUSY_TIMEOUT_SECONDS)
            for pragma in _PRAGMAS:
                conn.execute(pragma)
            conn.execute(self._read_cache)
            if not self._mmap:
                conn.execute("PRAGMA mmap_size = 0")
        except sqlite3.Error as exc:
            conn.close()
            raise IndexBackendError(f"cannot open index {self.path}: {exc}") from exc
        with self._lock:
            self._opened.append(conn)
        return conn

    def close(self) -> None:
        """Close every connection opened here, in any thread."""
        self._idle.close()
        with self._lock:
            connections, self._opened = self._opened, []
        for conn in connections:
            conn.close()


class _Held:
    """A thread's hold on its connection, kept in the thread's locals (a finalizer watches it)."""

    __slots__ = ("__weakref__", "conn")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn


class _IdleConnections:
    """Connections whose threads ended, for the next new thread (every one is also in the backend's list,
    which `close` closes)."""

    def __init__(self, read_cache: str) -> None:
        self._read_cache = read_cache
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._closed = False

    def take(self) -> sqlite3.Connection | None:
        with self._lock:
            return self._idle.pop() if self._idle else None

    def give_back(self, conn: sqlite3.Connection) -> None:
        """Called as the thread that used `conn` ends: its transaction (if it died in one) rolled back, its page
        cache freed and sized for reading again (a writing thread's is bigger), then kept for another thread; then
        the memory malloc holds free (that cache, the thread's searches' arrays) goes back to the system."""
        # Under the lock throughout: `SqliteConnections.close` marks the pool closed (taking this lock) before it
        # closes any connection, so a connection is never closed by one thread while another executes on it (the
        # sqlite3 module does not guard that: a process crashed with a segmentation fault when both happened).
        with self._lock:
            if self._closed:
                return
            try:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                conn.execute(self._read_cache)
                conn.execute("PRAGMA shrink_memory")
            except sqlite3.Error:  # broken: not kept
                return
            self._idle.append(conn)
        release_free_memory()

    def close(self) -> None:
        """No connection is given back after this returns; one being given back is done with when it returns."""
        with self._lock:
            self._closed = True
            self._idle.clear()


@functools.cache
def _limit_malloc_arenas() -> None:
    """At most _MALLOC_ARENAS malloc arenas in this process, set before the backend's threads allocate (arenas
    made before stay); nothing when MALLOC_ARENA_MAX is set, or where the C library has no glibc `mallopt`."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):
        return
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    if not mallopt(_M_ARENA_MAX, _MALLOC_ARENAS):
        logger.debug("mallopt(M_ARENA_MAX) refused: malloc arenas left as they are")


def release_free_memory() -> None:
    """Give the pages malloc holds free in any arena back to the system (glibc `malloc_trim(0)`; nothing elsewhere).
    glibc returns freed memory only from the top of an arena, so what a burst of searches freed stays in the
    process: at 100k records, 55 MB of an in-process RSS of 272 MB after the 8-client mix. It walks every arena
    under its lock (1–30 ms measured there), so it runs as a worker thread ends, not after each search."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return cast("Callable[[int], int]", trim)
