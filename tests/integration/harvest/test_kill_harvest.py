"""A harvest killed with SIGKILL at any moment leaves a catalogue the next run brings back to exactly the source.

The run goes on in a child process (tests/support/harvest_child.py) against a slowed-down course list of a few
thousand records. Three kill points: in the middle of fetching; after a batch reached the index but before the
state database remembered it; after withdrawals left the index but before the state database marked them. The
last two are reached without any hook in the code: the test holds SQLite write locks (BEGIN IMMEDIATE) on the
index or the state file, so the child waits exactly where the test wants it, and is killed there.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.exc import SQLAlchemyError

from config.source_models import JsonApiSourceConfig
from crawlers.run import BATCH_SIZE
from crawlers.state import StateError
from crawlers.state.db import utcnow
from crawlers.state.store import STATE_FILE, StateStore
from tests.integration.scheduler.conftest import wait_until
from tests.support.cli import edufed, write_config
from tests.support.harvest_state import Harness, course_list, courses, serve_courses
from tests.support.http_server import FixtureServer, http_server_fixture  # noqa: F401

ROOT = Path(__file__).resolve().parents[3]
COUNT = 3000
PER_PAGE = 100
PAGE_DELAY = 0.03  # seconds per page: the run lasts long enough to be caught in the middle
KILLED_COUNT = 1500


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    with Harness.open(tmp_path / "data") as opened:
        yield opened


@contextmanager
def child_harvest(harness: Harness, config: JsonApiSourceConfig) -> Iterator[subprocess.Popen[str]]:
    """A harvest of `config` in a child process on the harness's files, ready (its files open) when yielded."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.harvest_child", str(harness.settings.data_dir), config.model_dump_json()],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


@contextmanager
def write_lock(path: Path) -> Iterator[None]:
    """Hold the write lock of a SQLite file: every writer (in any process) waits until the block ends."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        connection.execute("BEGIN IMMEDIATE")
        yield
        connection.execute("ROLLBACK")
    finally:
        connection.close()


def kill(process: subprocess.Popen[str]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL


def indexed(harness: Harness, source_id: str) -> int:
    return len(harness.index_hashes(source_id))


def pages_asked(server: FixtureServer, source_id: str) -> int:
    return len(server.requests_for(f"/{source_id}/courses"))


def assert_converged(harness: Harness, config: JsonApiSourceConfig, items: list[dict[str, str]]) -> None:
    """A normal run after the kill: the index holds exactly the listed records, and the state agrees."""
    report = harness.run(config)
    assert report.status == "succeeded" and report.complete, report.error
    want = {f"{config.id}:{item['id']}" for item in items}
    assert set(harness.index_hashes(config.id)) == want
    assert harness.backend.count(config.id) == len(want) == len(items)
    harness.assert_consistent(config.id)


def test_a_run_killed_while_fetching_converges(harness: Harness, http_server: FixtureServer) -> None:
    items = courses(COUNT)
    serve_courses(http_server, items, per_page=PER_PAGE, delay=PAGE_DELAY)
    config = course_list(http_server)
    with child_harvest(harness, config) as child:
        wait_until(lambda: indexed(harness, config.id) >= 2 * BATCH_SIZE, what="two batches in the index")
        kill(child)
    assert 2 * BATCH_SIZE <= indexed(harness, config.id) < COUNT
    assert [run.status for run in harness.store.runs.find(source_id=config.id)] == ["running"]
    assert_converged(harness, config, items)


def test_a_run_killed_between_an_index_write_and_its_state_converges(
    harness: Harness, http_server: FixtureServer
) -> None:
    items = courses(COUNT)
    serve_courses(http_server, items, per_page=PER_PAGE, delay=PAGE_DELAY)
    config = course_list(http_server)
    with child_harvest(harness, config) as child:
        with write_lock(harness.settings.index_path):  # the first batch waits to be written
            wait_until(lambda: pages_asked(http_server, config.id) >= 2, what="the child to read on")
            state_lock = write_lock(harness.settings.data_dir / STATE_FILE)
            state_lock.__enter__()  # the child touches the state next after its first index write
        try:
            wait_until(lambda: indexed(harness, config.id) == BATCH_SIZE, what="the first batch in the index")
            kill(child)
        finally:
            state_lock.__exit__(None, None, None)
    assert harness.live_hashes(config.id) == {}  # written to the index, never remembered
    assert_converged(harness, config, items)


def test_a_run_killed_between_withdrawing_from_the_index_and_from_the_state_converges(
    harness: Harness, http_server: FixtureServer
) -> None:
    items = courses(COUNT)
    config = course_list(http_server, withdraw_after_missed_runs=1, max_withdraw_share=1.0)
    serve_courses(http_server, items, per_page=PER_PAGE)
    harness.run(config)
    kept = items[: COUNT - 1000]  # the last records leave: the pages before them stay the same
    serve_courses(http_server, kept, per_page=PER_PAGE, delay=PAGE_DELAY / 3)
    gone = {f"{config.id}:{item['id']}" for item in items[len(kept) :]}
    with child_harvest(harness, config) as child:
        with write_lock(harness.settings.index_path):  # the withdrawal waits to leave the index

            def counted_missing() -> bool:
                missed = harness.missed(config.id)
                return all(missed[uid] == 1 for uid in gone)

            wait_until(counted_missing, what="the complete listing to count its misses")
            state_lock = write_lock(harness.settings.data_dir / STATE_FILE)
            state_lock.__enter__()
        try:
            wait_until(lambda: indexed(harness, config.id) == len(kept), what="the withdrawal from the index")
            kill(child)
        finally:
            state_lock.__exit__(None, None, None)
    assert set(harness.live_hashes(config.id)) >= gone  # gone from the index, still live in the state
    assert_converged(harness, config, kept)
    states = harness.store.records.load(config.id)
    assert all(states[uid].withdrawn for uid in gone)


def test_a_harvest_killed_with_sigkill_frees_its_source_at_once_and_its_run_keeps_how_far_it_got(
    tmp_path: Path, http_server: FixtureServer
) -> None:
    items = courses(KILLED_COUNT)
    serve_courses(http_server, items, per_page=PER_PAGE, delay=0.1)  # seconds left to kill it once caught
    settings = write_config(tmp_path, http_server)
    source_id = course_list(http_server).id
    command = "import sys; from search_api.cli import main; sys.exit(main(sys.argv[1:]))"
    child = subprocess.Popen([sys.executable, "-c", command, "harvest", source_id, "--config", str(settings)],
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    state_file = tmp_path / "data" / STATE_FILE
    try:
        wait_until(state_file.exists, what="the state database")
        with StateStore.open(f"sqlite:///{state_file}", upgrade=False) as store:

            def stored_progress() -> int:
                try:
                    runs = store.runs.find(source_id=source_id)
                except (StateError, SQLAlchemyError):  # the child is still creating the tables
                    return 0
                return runs[0].counts.fetched if runs and runs[0].status == "running" else 0

            wait_until(lambda: stored_progress() >= BATCH_SIZE, what="the running run to store its progress")
            kill(child)
            reached = stored_progress()
            lease = store.leases.get(source_id)
            assert lease is not None and lease.holder.split(":")[1] == str(child.pid) and lease.expires_at > utcnow()

            code, out, err = edufed(settings, "harvest", source_id)  # at once: not after the lease's 120 s
            assert code == 0, err
            new, killed = store.runs.find(source_id=source_id)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=30)
    assert new.status == "succeeded" and new.counts.fetched == KILLED_COUNT
    assert (killed.status, killed.error_type) == ("failed", "RunAbandoned")
    assert BATCH_SIZE <= killed.counts.fetched == reached < KILLED_COUNT
    assert killed.error_message is not None and f"held by {lease.holder}" in killed.error_message
    assert f"it had fetched {reached} records" in killed.error_message
