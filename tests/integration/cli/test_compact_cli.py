"""`edufed compact`: the SQLite index file's free pages go back to the disk, and everything it answered stays."""

from __future__ import annotations

import json
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from indexer.backends.base import SearchQuery
from indexer.backends.sqlite import SqliteBackend
from indexer.backends.sqlite_compact import compact_index
from indexer.record import Record
from tests.integration.oai.repository import NoLinking, course
from tests.support.cli import edufed
from tests.support.sqlite_kill import kill_inside_its_write

RECORDS = 300
QUERIES = ("水科学文化", "心理健康", "书画 琴棋", "花鸟", "老年", "入门讲解", "标签3")
ROOT = Path(__file__).resolve().parents[3]
CHILD = "import sys; from search_api.cli import main; sys.exit(main(sys.argv[1:]))"


class Pages(NamedTuple):
    pages: int
    free: int


def scanned_course(n: int, rng: random.Random) -> Record:
    """Course `n` with a large raw payload (a scanned page, say), so the file is big enough to take a while."""
    record = course(n).model_copy(update={"raw": {"n": n, "scan": rng.randbytes(50_000).hex()}})
    return record.model_copy(update={"content_hash": record.compute_hash()})


@pytest.fixture(scope="module")
def withdrawn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory whose index held RECORDS courses and withdrew every second one: many pages free."""
    data = tmp_path_factory.mktemp("compact") / "data"
    data.mkdir()
    backend = SqliteBackend(data / "index.sqlite3", linker=NoLinking())
    try:
        rng = random.Random(3)
        backend.upsert([scanned_course(n, rng) for n in range(RECORDS)])
        backend.withdraw([course(n).uid for n in range(0, RECORDS, 2)])
        backend.sync_engine()
    finally:
        backend.close()
    return data


@pytest.fixture
def settings(tmp_path: Path, withdrawn: Path) -> Path:
    """Settings whose data directory is a copy of `withdrawn` (the index file and its tantivy directory)."""
    shutil.copytree(withdrawn, tmp_path / "data")
    path = tmp_path / "settings.yaml"
    path.write_text(f"data_dir: {tmp_path / 'data'}\n", encoding="utf-8")
    return path


def index_of(settings: Path) -> Path:
    return settings.parent / "data" / "index.sqlite3"


def answers(path: Path) -> list[Any]:
    """What the index answers on the tantivy engine: searches in two orders, suggestions, counts, a record."""
    backend = SqliteBackend(path, linker=NoLinking())
    try:
        found: list[Any] = []
        for q in QUERIES:
            for sort in ("relevance", "newest"):
                result = backend.search(SearchQuery(q=q, size=20, sort=sort))
                found.append((result.total, [(hit.record.uid, hit.score) for hit in result.hits]))
        found.append(backend.search(SearchQuery(size=50)).total)
        found.append(backend.suggest("水", limit=5))
        found.append((backend.count(), backend.get(course(RECORDS - 1).uid)))
        return found
    finally:
        backend.close()


def pages(path: Path) -> Pages:
    with sqlite3.connect(path) as conn:
        return Pages(*(int(conn.execute(f"PRAGMA {p}").fetchone()[0]) for p in ("page_count", "freelist_count")))


def engine_state(path: Path) -> dict[str, object]:
    """The derived tantivy index's state: a new `build` would mean it was rebuilt."""
    return dict(json.loads(Path(f"{path}.tantivy/edufed-state.json").read_text("utf-8")))


def child(settings: Path, *args: str) -> subprocess.Popen[str]:
    """`edufed ARGS --config SETTINGS` in a process of its own, its messages readable line by line."""
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, *args, "--config", str(settings)], cwd=ROOT, stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL, text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip


def test_compacting_gives_the_free_pages_back_and_every_answer_stays_the_same(settings: Path) -> None:
    path = index_of(settings)
    expected, state, before = answers(path), engine_state(path), pages(path)
    size = path.stat().st_size
    assert before.free > before.pages / 4

    code, out, err = edufed(settings, "compact")

    assert code == 0, err
    assert f"{path} is {size / 1e6:.1f} MB" in err and "free pages" in err
    assert "compacted in " in out and "given back" in out
    after = pages(path)
    assert after.free == 0 and after.pages < before.pages - before.free  # half-empty pages packed too
    assert path.stat().st_size == after.pages * 4096 < size  # checkpointed: the file itself shrank
    assert answers(path) == expected  # the same records, scores and order from the tantivy engine
    assert engine_state(path) == state  # which kept its index: row ids are kept, nothing was rebuilt


def test_few_free_pages_leave_nothing_to_do_unless_forced(settings: Path) -> None:
    path = index_of(settings)
    assert edufed(settings, "compact")[0] == 0
    compacted = pages(path)

    code, out, err = edufed(settings, "compact")

    assert code == 0, err
    assert "nothing to do" in out and "--force" in out and "copying" not in err
    code, out, err = edufed(settings, "compact", "--force")
    assert code == 0, err
    assert "compacted in" in out and pages(path) == compacted


def test_a_write_under_way_refuses_the_compaction_with_what_to_stop(settings: Path) -> None:
    path = index_of(settings)
    expected, before = answers(path), pages(path)
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE meta SET value = value WHERE key = 'generation'")
        code, out, err = edufed(settings, "compact", "--wait", "0.2")
    finally:
        writer.execute("ROLLBACK")
        writer.close()

    assert code == 1 and out == ""
    assert "another process kept writing it for 0.2 s" in err
    assert "a harvest" in err and "edufed serve" in err and "--wait SECONDS" in err and "unchanged" in err
    assert pages(path) == before and answers(path) == expected


def test_ctrl_c_stops_the_compaction_and_leaves_the_file_as_it_was(settings: Path) -> None:
    """Interrupted once it has the write lock: VACUUM stops between two of SQLite's steps and rolls back."""
    path = index_of(settings)
    expected, before = answers(path), pages(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the compaction waits for this write to end
    process = child(settings, "compact", "--wait", "60")
    try:
        assert process.stderr is not None
        while "copying" not in (line := process.stderr.readline()):
            assert line, "the command ended before it compacted"
        process.send_signal(signal.SIGINT)
        holder.execute("ROLLBACK")  # the lock is free: VACUUM starts, and stops at once
        _, err = process.communicate(timeout=60)
        assert process.returncode == 130
    finally:
        holder.close()
        process.kill()
        process.wait()
        if process.stderr is not None:
            process.stderr.close()
    assert f"interrupted before it finished: {path} is unchanged" in err
    assert pages(path) == before and answers(path) == expected


@pytest.mark.parametrize("delay", [0.0, 0.01, 0.03, 0.06])
def test_a_compaction_killed_at_any_point_leaves_the_file_whole(
    settings: Path, tmp_path: Path, withdrawn: Path, delay: float
) -> None:
    """VACUUM is one transaction: killed anywhere in it, the file is as it was or wholly compacted."""
    path = index_of(settings)
    expected, before = answers(path), pages(path)
    reference = tmp_path / "reference.sqlite3"
    shutil.copy(withdrawn / "index.sqlite3", reference)
    compacted = compact_index(reference, wait_seconds=5).after.pages
    process = child(settings, "compact")
    try:
        kill_inside_its_write(path, process, delay)  # at different points of VACUUM's copy
    finally:
        if process.stderr is not None:
            process.stderr.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert pages(path) in (before, Pages(compacted, 0))
    assert answers(path) == expected


def test_too_little_disk_space_refuses_naming_where_and_how_much(
    settings: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = index_of(settings)
    before = pages(path)
    temporary = tmp_path / "sqlite-tmp"
    temporary.mkdir()
    monkeypatch.setenv("SQLITE_TMPDIR", str(temporary))
    full = shutil.disk_usage(tmp_path)._replace(free=1_000_000)  # a disk with 1 MB left
    monkeypatch.setattr(shutil, "disk_usage", lambda directory: full)

    code, out, err = edufed(settings, "compact")

    assert code == 1 and out == ""
    assert f"not enough disk space to compact {path}" in err
    assert f"SQLite's temporary directory ({temporary})" in err and "1.0 MB free" in err
    assert "SQLITE_TMPDIR" in err and "unchanged" in err
    assert pages(path) == before


def test_a_file_an_older_edufed_wrote_is_converted_then_compacted(settings: Path, tmp_path: Path) -> None:
    """The upgrade: a file of layout 5 kept an FTS5 index, which the tantivy engine empties on opening it."""
    path = index_of(settings)
    SqliteBackend(path, linker=NoLinking(), search_engine="fts5").close()  # the FTS5 index filled again
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM meta WHERE key = 'fts_index'")
        conn.execute("UPDATE meta SET value = '5' WHERE key = 'schema'")
    opened = tmp_path / "opened.sqlite3"
    shutil.copy(path, opened)
    shutil.copytree(f"{path}.tantivy", f"{opened}.tantivy")
    expected, size = answers(opened), path.stat().st_size  # as the upgraded edufed answers on opening it

    code, out, err = edufed(settings, "compact")

    assert code == 0, err
    assert f"{path} has layout 5: converting it to layout 6 first" in err
    assert "compacted in" in out and path.stat().st_size < size
    assert answers(path) == expected


def test_on_elasticsearch_there_is_nothing_to_compact(tmp_path: Path) -> None:
    settings = tmp_path / "settings.yaml"
    settings.write_text(
        f"data_dir: {tmp_path / 'data'}\nindex: {{backend: elasticsearch, url: 'http://127.0.0.1:9'}}\n",
        encoding="utf-8",
    )

    code, out, err = edufed(settings, "compact")

    assert code == 0, err
    assert "the index is in Elasticsearch (http://127.0.0.1:9)" in out and "nothing to compact here" in out


def test_no_index_file_is_a_usage_error(tmp_path: Path) -> None:
    settings = tmp_path / "settings.yaml"
    settings.write_text(f"data_dir: {tmp_path / 'data'}\n", encoding="utf-8")

    code, _, err = edufed(settings, "compact")

    assert code == 2 and f"there is no index file at {tmp_path / 'data' / 'index.sqlite3'}" in err
    assert not (tmp_path / "data" / "index.sqlite3").exists()
