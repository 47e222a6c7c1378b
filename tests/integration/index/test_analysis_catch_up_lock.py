"""One text analysis catch-up at a time per SQLite file, across serving processes: a second one on the same file
says once that another process is catching up and starts none; a holder killed with SIGKILL releases the lock with
its death, and the next start catches the file up from where the killed one stopped."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config.settings import IndexSettings, Settings
from indexer.analysis_catch_up import AnalysisCatchUp, lock_path
from indexer.analysis_version import AnalysisState
from indexer.backends.base import SearchQuery
from indexer.backends.sqlite import SqliteBackend
from tests.support.older_analysis import to_older_analysis

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "contract"))
from contract_corpus import build_corpus, make_record  # noqa: E402

WORDS = ("八段锦", "太极拳", "智能手机", "广场舞")
WAIT_SECONDS = 240.0
ANOTHER = "another process is catching the index up"
HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()
"""


@pytest.fixture(scope="module")
def older_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 records written before analysis versions (three catch-up batches), written once for the module."""
    path = tmp_path_factory.mktemp("older") / "index.sqlite3"
    backend = SqliteBackend(path, search_engine="fts5")
    try:
        backend.upsert([*build_corpus(), *(make_record(f"x{n}", f"{WORDS[n % 4]}入门 第{n}讲") for n in range(3000))])
    finally:
        backend.close()
    to_older_analysis(path)
    return path


def serving(tmp_path: Path, older_file: Path) -> tuple[Settings, SqliteBackend]:
    """The settings and the open index of a serving process over a copy of the older file."""
    settings = Settings(data_dir=tmp_path, index=IndexSettings(search_engine="fts5"))
    shutil.copy(older_file, settings.index_path)
    return settings, SqliteBackend(settings.index_path, search_engine="fts5")


def told_another(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if ANOTHER in r.getMessage()]


def caught_up(catch_up: AnalysisCatchUp | None, backend: SqliteBackend) -> AnalysisState:
    assert catch_up is not None
    catch_up.process.join(WAIT_SECONDS)
    assert catch_up.process.exitcode == 0
    catch_up.stop()
    state = backend.analysis_state()
    assert state.status == "current"
    assert backend.search(SearchQuery(q="bdj")).total == backend.search(SearchQuery(q="八段锦")).total > 0
    return state


def test_a_second_process_starts_no_catch_up_while_another_holds_the_file_and_one_after_it_is_killed(
    tmp_path: Path, older_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings, backend = serving(tmp_path, older_file)
    lock = lock_path(settings)
    assert lock is not None
    root = Path(__file__).resolve().parents[3]
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock)], cwd=root, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with caplog.at_level(logging.INFO, logger="indexer.analysis_catch_up"):
            assert AnalysisCatchUp.for_serving(settings, backend) is None
        assert [r.levelno for r in told_another(caplog)] == [logging.INFO]
        racing = AnalysisCatchUp(settings)  # a child whose process probed the lock free just before the holder took it
        racing.process.start()
        racing.process.join(WAIT_SECONDS)
        assert racing.process.exitcode == 0  # it found the lock held and left
        assert backend.analysis_state().status == "older"  # nobody caught anything up
        holder.send_signal(signal.SIGKILL)
        assert holder.wait() == -signal.SIGKILL
        caught_up(AnalysisCatchUp.for_serving(settings, backend), backend)  # the system released the lock
        assert len(told_another(caplog)) == 1
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        for stream in (holder.stdin, holder.stdout):
            if stream is not None:
                stream.close()
        backend.close()


def test_a_catch_up_child_killed_part_way_releases_the_file_and_the_next_goes_on_from_its_cursor(
    tmp_path: Path, older_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings, backend = serving(tmp_path, older_file)
    first = AnalysisCatchUp.for_serving(settings, backend)
    try:
        assert first is not None
        deadline = time.monotonic() + WAIT_SECONDS
        while backend.analysis_state().done == 0 and time.monotonic() < deadline:
            time.sleep(0.02)  # poll until the child has committed its first batch (it holds the lock meanwhile)
        with caplog.at_level(logging.INFO, logger="indexer.analysis_catch_up"):
            assert AnalysisCatchUp.for_serving(settings, backend) is None  # a second serving process on the file
        assert first.process.is_alive()  # so it was the lock, not a finished catch-up, that stopped the second
        assert [r.levelno for r in told_another(caplog)] == [logging.INFO]
        os.kill(first.process.pid or 0, signal.SIGKILL)
        first.process.join(WAIT_SECONDS)
        assert first.process.exitcode == -signal.SIGKILL
        left = backend.analysis_state()
        assert left.status == "catching_up" and 0 < left.done < left.total
        caught_up(AnalysisCatchUp.for_serving(settings, backend), backend)
    finally:
        if first is not None:
            first.stop()
        backend.close()
