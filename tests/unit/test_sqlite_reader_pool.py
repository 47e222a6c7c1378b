"""SQLite backend connections per thread: a thread that ended leaves its connection to the next new thread, so a
server whose worker threads come and go holds as many connections as it had threads at once (each holds a
page cache of up to 64 MiB), not one for every thread it ever had."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pytest

from indexer.backends.base import SearchQuery
from indexer.backends.sqlite import SqliteBackend
from indexer.backends.sqlite_connections import READ_CACHE, ROWID_READ_CACHE
from indexer.record import Record


def course(source_id: str, title: str) -> Record:
    record = Record(
        uid=f"t:{source_id}", source="t", source_id=source_id, url=f"https://example.edu.cn/{source_id}",
        title=title, platform="t", platform_name="测试平台", fetched_at=datetime(2026, 11, 1, tzinfo=UTC),
    )  # fmt: skip
    record.content_hash = record.compute_hash()
    return record


def in_threads(count: int, work: Callable[[], sqlite3.Connection]) -> list[sqlite3.Connection]:
    """Run `work` in `count` threads alive at the same time: the connection each one returned."""
    used: list[sqlite3.Connection] = []
    barrier = threading.Barrier(count)
    lock = threading.Lock()

    def run() -> None:
        conn = work()
        barrier.wait(timeout=30)  # every thread holds its connection at once
        with lock:
            used.append(conn)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return used


def test_threads_one_after_another_reuse_one_connection(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "index.sqlite3")
    try:
        backend.upsert([course("1", "书法入门"), course("2", "太极拳入门")])
        opened = backend._pool.opened
        for n in range(20):
            thread = threading.Thread(target=lambda n=n: backend.search(SearchQuery(q="书法", size=1 + n)))
            thread.start()
            thread.join()
        assert backend._pool.opened <= opened + 1
        assert backend.search(SearchQuery(q="入门")).total == 2
    finally:
        backend.close()


def test_threads_at_once_each_have_their_own_and_the_next_ones_take_them_over(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "index.sqlite3")
    try:
        backend.upsert([course("1", "书法入门")])

        def search() -> sqlite3.Connection:
            assert backend.search(SearchQuery(q="书法")).total == 1
            return backend._conn()

        first = in_threads(4, search)
        assert len({id(c) for c in first}) == 4  # never shared while their threads live
        opened = backend._pool.opened
        second = in_threads(4, search)
        assert {id(c) for c in second} == {id(c) for c in first}
        assert backend._pool.opened == opened
    finally:
        backend.close()


def test_a_thread_ending_inside_a_transaction_leaves_no_lock_and_a_writer_cache_leaves_with_it(
    tmp_path: Path,
) -> None:
    backend = SqliteBackend(tmp_path / "index.sqlite3")
    try:
        held: list[sqlite3.Connection] = []

        def hold_write_lock() -> None:
            backend.upsert([course("1", "书法入门")])  # this thread's connection now has the writer's page cache
            held.append(backend._conn())
            held[0].execute("BEGIN IMMEDIATE")  # and the thread ends without committing

        thread = threading.Thread(target=hold_write_lock)
        thread.start()
        thread.join()
        assert not held[0].in_transaction
        assert held[0].execute("PRAGMA cache_size").fetchone()[0] == cache_kib(ROWID_READ_CACHE)
        backend.upsert([course("2", "太极拳入门")])  # would wait for the busy timeout if the lock were kept
        assert backend.count() == 2
    finally:
        backend.close()


def cache_kib(pragma: str) -> int:
    """The value `PRAGMA cache_size` reads back after `pragma` set it (negative: KiB)."""
    return int(pragma.rpartition("=")[2])


@pytest.mark.parametrize(("engine", "pragma"), [("tantivy", ROWID_READ_CACHE), ("fts5", READ_CACHE)])
def test_a_reader_caches_pages_within_its_engines_budget_in_every_thread_that_takes_it(
    tmp_path: Path, engine: Literal["tantivy", "fts5"], pragma: str
) -> None:
    backend = SqliteBackend(tmp_path / "index.sqlite3", search_engine=engine)
    try:
        backend.upsert([course("1", "书法入门")])  # a writer's bigger cache, given back when its thread ends

        def search() -> sqlite3.Connection:
            assert backend.search(SearchQuery(q="书法")).total == 1
            return backend._conn()

        for round_ in range(2):  # new connections, then the same ones taken again from the idle pool
            for conn in in_threads(3, search):
                assert conn.execute("PRAGMA cache_size").fetchone()[0] == cache_kib(pragma), round_
    finally:
        backend.close()


def test_close_closes_the_idle_connections_too(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "index.sqlite3")
    (idle,) = in_threads(1, backend._conn)
    backend.close()
    try:
        idle.execute("SELECT 1")
    except sqlite3.ProgrammingError:
        return
    raise AssertionError("an idle connection stayed open after close")


ARENAS_SCRIPT = """
import ctypes, os, sys, tempfile, threading
from pathlib import Path
if sys.argv[1] == "open":
    from indexer.backends.sqlite import SqliteBackend
    SqliteBackend(Path(tempfile.mkdtemp()) / "index.sqlite3", search_engine="fts5").close()
barrier = threading.Barrier(9)
def allocate():
    kept = [bytearray(4096) for _ in range(100)]
    barrier.wait(timeout=30)
threads = [threading.Thread(target=allocate) for _ in range(8)]
for thread in threads:
    thread.start()
barrier.wait(timeout=30)
for thread in threads:
    thread.join()
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
path = Path(tempfile.mkdtemp()) / "malloc.xml"
stream = libc.fopen(str(path).encode(), b"w")
libc.malloc_info(0, stream)
libc.fclose(stream)
print(path.read_text().count("<heap nr="))
"""


def arenas_after_threads(*, open_backend: bool) -> int:
    """glibc malloc arenas of a fresh process after 8 threads allocated at once (after opening a backend or not)."""
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run(
        [sys.executable, "-c", ARENAS_SCRIPT, "open" if open_backend else "plain"],
        capture_output=True, text=True, check=True, env=env, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    return int(done.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_a_process_with_a_backend_keeps_two_malloc_arenas_for_its_threads() -> None:
    assert arenas_after_threads(open_backend=False) > 2  # what glibc does unasked: an arena for each thread
    assert arenas_after_threads(open_backend=True) <= 2


TRIM_SCRIPT = """
import sys, tempfile, threading
from pathlib import Path
from indexer.backends.sqlite import SqliteBackend
def rss_mb():
    line = next(l for l in Path("/proc/self/smaps_rollup").read_text().splitlines() if l.startswith("Rss:"))
    return int(line.split()[1]) / 1024
backend = SqliteBackend(Path(tempfile.mkdtemp()) / "index.sqlite3", search_engine="fts5")
kept, seen = [], {}
def burst():
    backend._conn()  # this thread holds a connection: it goes back to the pool (and the memory with it) as it ends
    big = []
    for _ in range(1500):  # 64 KiB blocks with a small one kept between each two: freed, none is at an arena's top
        big.append(bytearray(65536))
        kept.append(bytearray(600))
    big.clear()
    seen["freed"] = rss_mb()
thread = threading.Thread(target=burst)
thread.start()
thread.join()
print(seen["freed"] - rss_mb())
backend.close()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_memory_a_thread_freed_goes_back_to_the_system_when_the_thread_ends() -> None:
    done = subprocess.run(
        [sys.executable, "-c", TRIM_SCRIPT],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert float(done.stdout.strip()) > 50  # of the ~95 MB freed (glibc alone gives back none of it)
