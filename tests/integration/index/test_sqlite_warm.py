"""What a SQLite backend opening an index file says while its derived search engine index is held by another sync
(sqlite_warm): once, at info, what is going on, then that it is done; a warning only for a real failure."""

from __future__ import annotations

import fcntl
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from indexer.backends.base import SearchQuery
from indexer.backends.sqlite import SqliteBackend

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "contract"))
from contract_corpus import build_corpus  # noqa: E402

WAIT_SECONDS = 60.0


def written(path: Path) -> Path:
    backend = SqliteBackend(path)
    try:
        backend.upsert(build_corpus())
    finally:
        backend.close()
    return path


@contextmanager
def held(lock_path: Path) -> Iterator[None]:
    """The derived index's writer lock, as another process's sync holds it (flock: a second open file conflicts
    in this process too)."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield
    finally:
        os.close(fd)


def until(caplog: pytest.LogCaptureFixture, seen: Callable[[logging.LogRecord], bool]) -> logging.LogRecord:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = [r for r in list(caplog.records) if seen(r)]
        if found:
            return found[0]
        time.sleep(0.02)  # poll: the warm thread logs in its own time
    raise AssertionError(f"not logged within {WAIT_SECONDS:.0f} s: {[r.getMessage() for r in caplog.records]}")


def warm_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("indexer.backends")]


def test_a_rebuild_elsewhere_is_told_once_at_info_with_its_progress_and_waited_for(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = written(tmp_path / "index.sqlite3")
    caplog.set_level(logging.INFO, logger="indexer.backends")
    with held(Path(f"{path}.tantivy.lock")):
        fresh = Path(f"{path}.tantivy.new")  # what a rebuild has written so far
        fresh.mkdir()
        (fresh / "segment").write_bytes(b"\0" * 3_000_000)
        backend = SqliteBackend(path)
        try:
            told = until(caplog, lambda r: "being rebuilt" in r.getMessage())
            time.sleep(2.5)  # the warm thread keeps waiting (steps of 1 s): it must not say it again meanwhile
        finally:
            fresh.joinpath("segment").unlink()
            fresh.rmdir()
    try:
        done = until(caplog, lambda r: "up to date after" in r.getMessage())
        assert backend.search(SearchQuery(q="书法")).total > 0
    finally:
        backend.close()
    assert told.levelno == logging.INFO and "3 MB written so far" in told.getMessage()
    assert "the index it replaces holds" in told.getMessage()
    assert done.levelno == logging.INFO
    assert [r for r in warm_records(caplog) if "being rebuilt" in r.getMessage()] == [told]
    assert [r.getMessage() for r in warm_records(caplog) if r.levelno >= logging.WARNING] == []


def test_closing_while_another_sync_holds_the_index_is_not_held_up_and_warns_of_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = written(tmp_path / "index.sqlite3")
    caplog.set_level(logging.INFO, logger="indexer.backends")
    with held(Path(f"{path}.tantivy.lock")):
        backend = SqliteBackend(path)
        told = until(caplog, lambda r: "is updating the search engine index" in r.getMessage())
        started = time.monotonic()
        backend.close()
        closed_in = time.monotonic() - started
    assert told.levelno == logging.INFO
    assert closed_in < 30  # one wait step, not the sync's whole wait (120 s)
    assert [r.getMessage() for r in warm_records(caplog) if r.levelno >= logging.WARNING] == []


def test_a_sync_that_fails_is_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = written(tmp_path / "index.sqlite3")
    Path(f"{path}.tantivy.lock").unlink()
    Path(f"{path}.tantivy.lock").mkdir()  # the lock cannot be opened: no sync can run
    caplog.set_level(logging.INFO, logger="indexer.backends")
    backend = SqliteBackend(path)
    try:
        warned = until(caplog, lambda r: "could not bring the search engine index" in r.getMessage())
    finally:
        backend.close()
    assert warned.levelno == logging.WARNING
    assert [r for r in warm_records(caplog) if "waits for it" in r.getMessage()] == []
