"""A SQLite index written with an older text analysis: detected when opened, caught up batch by batch (resumable,
searches answering, records written meanwhile kept), and by `rebuild` (edufed reindex), on both engines."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.analysis_version import ANALYSIS_VERSION
from indexer.backends.base import SearchQuery
from indexer.backends.changes import ChangeQuery
from indexer.backends.sqlite import SqliteBackend
from indexer.backends.sqlite_text import FTS_COLUMNS, decode_fields
from indexer.record import Record
from indexer.record_text import record_text
from tests.support.older_analysis import to_older_analysis
from tests.support.sqlite_kill import kill_inside_its_write

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "contract"))
from contract_corpus import build_corpus, make_record  # noqa: E402

WORDS = ("八段锦", "太极拳", "智能手机", "书法", "养生", "广场舞", "葫芦丝", "剪纸")
INITIALS = {"bdj": "八段锦", "tjq": "太极拳", "znsj": "智能手机", "gcw": "广场舞"}
ENGINES = ("tantivy", "fts5")
EVERY_CHANGE = ChangeQuery(until=2**62, limit=100_000)


def generated(n: int) -> Record:
    word, other = WORDS[n % len(WORDS)], WORDS[(n // len(WORDS)) % len(WORDS)]
    return make_record(f"g{n}", f"{word}{other}课程 第{n}讲", platform=("le_ouchn", "smartedu")[n % 2],
                       description=f"{other}的入门介绍", tags=[other])  # fmt: skip


def written(path: Path, engine: str, *, count: int = 120) -> Path:
    backend = SqliteBackend(path, search_engine=engine)  # type: ignore[arg-type]
    try:
        backend.upsert([*build_corpus(), *(generated(n) for n in range(count))])
        backend.sync_engine()
    finally:
        backend.close()
    return path


def found(backend: SqliteBackend, q: str) -> int:
    return backend.search(SearchQuery(q=q, size=5)).total


def stale_rows(path: Path) -> list[str]:
    """uids whose stored text, folded title or title pinyin differ from what this edufed's analysis gives."""
    conn = sqlite3.connect(path)
    try:
        from indexer.backends.sqlite_payload import payload_text

        stale = []
        sql = "SELECT d.uid, p.json, t.fields, d.title_fold, d.title_pinyin FROM docs d JOIN payloads p ON p.id = d.id "
        for uid, payload, fields, fold, pinyin in conn.execute(sql + "JOIN texts t ON t.id = d.id"):
            text = record_text(Record.model_validate_json(payload_text(payload, conn)))
            fresh = (tuple(text.fields[c] for c in FTS_COLUMNS), text.folded_title, text.title_pinyin)
            if (decode_fields(fields, conn), fold, pinyin) != fresh:
                stale.append(uid)
        return stale
    finally:
        conn.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_new_index_records_this_edufeds_analysis(tmp_path: Path, engine: str) -> None:
    backend = SqliteBackend(written(tmp_path / "index.sqlite3", engine), search_engine=engine)  # type: ignore[arg-type]
    try:
        state = backend.analysis_state()
        assert (state.status, state.index_version, state.notice) == ("current", ANALYSIS_VERSION, None)
        assert all(found(backend, q) > 0 for q in INITIALS)
    finally:
        backend.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_an_older_index_is_reported_then_caught_up_and_finds_pinyin_initials(tmp_path: Path, engine: str) -> None:
    path = written(tmp_path / "index.sqlite3", engine)
    assert to_older_analysis(path) > 0
    backend = SqliteBackend(path, search_engine=engine)  # type: ignore[arg-type]
    try:
        before = backend.analysis_state()
        assert (before.status, before.index_version, before.done) == ("older", 0, 0)
        assert before.notice is not None and "edufed reindex" in before.notice
        assert [found(backend, q) for q in INITIALS] == [0] * len(INITIALS)  # what the learner met: nothing
        hashes = {s: backend.content_hashes(s) for s in ("le_ouchn", "smartedu")}
        changes = backend.changes(EVERY_CHANGE)
        progress: list[tuple[int, int]] = []

        def seen(_outcome: object) -> None:
            state = backend.analysis_state()
            progress.append((state.done, state.total))

        read, rewritten = backend.catch_up_analysis(batch=25, on_batch=seen)
        assert read == backend.count() and 0 < rewritten < read
        assert len(progress) > 3 and [d for d, _ in progress] == sorted(d for d, _ in progress)
        assert backend.analysis_state().status == "current"
        for q, word in INITIALS.items():
            assert found(backend, q) == found(backend, word) > 0, q
        # re-analysed, not changed: the same records, hashes and OAI-PMH log
        assert {s: backend.content_hashes(s) for s in hashes} == hashes
        assert backend.changes(EVERY_CHANGE) == changes
    finally:
        backend.close()
    assert stale_rows(path) == []


@pytest.mark.parametrize("engine", ENGINES)
def test_a_catch_up_stopped_part_way_goes_on_from_where_it_stopped(tmp_path: Path, engine: str) -> None:
    """Searches answer mid-way; a record written meanwhile is analysed the new way and kept; a new process goes on."""
    path = written(tmp_path / "index.sqlite3", engine)
    to_older_analysis(path)
    backend = SqliteBackend(path, search_engine=engine)  # type: ignore[arg-type]
    try:
        batches = 0

        def two_batches() -> bool:
            nonlocal batches
            batches += 1
            return batches > 2

        backend.catch_up_analysis(batch=20, stop=two_batches)
        state = backend.analysis_state()
        assert (state.status, state.done) == ("catching_up", 40) and state.total == backend.count()
        assert found(backend, "书法") > 0
        backend.upsert(
            [
                make_record("late", "八段锦晨练 新课"),
                generated(119).model_copy(update={"title": "八段锦 新版", "content_hash": ""}),
            ]
        )
        hits = {hit.record.uid for hit in backend.search(SearchQuery(q="bdj", size=50)).hits}
        assert {"le_ouchn:late", "smartedu:g119"} <= hits
    finally:
        backend.close()
    again = SqliteBackend(path, search_engine=engine)  # type: ignore[arg-type]
    try:
        assert again.analysis_state().done == 40
        read, _ = again.catch_up_analysis(batch=20)
        assert read == again.count() - 40
        assert again.analysis_state().status == "current"
        assert found(again, "bdj") == found(again, "八段锦")
    finally:
        again.close()
    assert stale_rows(path) == []


def test_a_stored_record_that_cannot_be_read_is_left_as_it_is_and_the_rest_caught_up(tmp_path: Path) -> None:
    path = written(tmp_path / "index.sqlite3", "fts5")
    to_older_analysis(path)
    conn = sqlite3.connect(path)
    with conn:  # JSON text, as files before compression kept it, of a record no edufed can read
        conn.execute("UPDATE payloads SET json = '{\"uid\": 7}' WHERE id = 3")
    conn.close()
    backend = SqliteBackend(path, search_engine="fts5")
    try:
        read, _ = backend.catch_up_analysis(batch=25)
        assert read == backend.count() and backend.analysis_state().status == "current"
        assert found(backend, "bdj") == found(backend, "八段锦") > 0
    finally:
        backend.close()


def test_rebuild_re_analyses_records_whose_content_did_not_change(tmp_path: Path) -> None:
    """`edufed reindex` skips an unchanged record by its content hash: its text is analysed again all the same."""
    path = written(tmp_path / "index.sqlite3", "tantivy")
    to_older_analysis(path)
    backend = SqliteBackend(path)
    try:
        result = backend.rebuild(list(backend.iter_records()))
        assert result.written == 0 and result.unchanged == backend.count()
        assert backend.analysis_state().status == "current"
        assert found(backend, "znsj") == found(backend, "智能手机") > 0
    finally:
        backend.close()


def test_a_file_of_a_newer_analysis_is_lowered_to_this_edufeds(tmp_path: Path) -> None:
    """Records this edufed writes are analysed its way: the file says so, and a newer edufed's catch-up under way
    starts again from the first record."""
    path = written(tmp_path / "index.sqlite3", "fts5")
    conn = sqlite3.connect(path)
    with conn:  # a newer edufed's catch-up to the version after this one's, part-way
        conn.execute("UPDATE meta SET value = ? WHERE key = 'analysis'", (ANALYSIS_VERSION + 1,))
        conn.execute("INSERT INTO meta (key, value) VALUES ('analysis_to', ?), ('analysis_after', 40)",
                     (ANALYSIS_VERSION + 2,))  # fmt: skip
    conn.close()
    backend = SqliteBackend(path, search_engine="fts5")
    try:
        assert backend.analysis_state().index_version == ANALYSIS_VERSION
    finally:
        backend.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT count(*) FROM meta WHERE key IN ('analysis_to', 'analysis_after')").fetchone() == (
            0,
        )
    finally:
        conn.close()


CATCHING_UP_CHILD = """
import sys
from pathlib import Path
from indexer.backends.sqlite import SqliteBackend
backend = SqliteBackend(Path(sys.argv[1]), search_engine=sys.argv[2])
print("catching up", flush=True)
backend.catch_up_analysis(batch=40)
print("done", flush=True)
"""


@pytest.fixture(scope="module")
def older_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    made = {}
    for engine in ENGINES:
        path = written(tmp_path_factory.mktemp(f"older-{engine}") / "index.sqlite3", engine, count=1500)
        to_older_analysis(path)
        backend = SqliteBackend(path, search_engine=engine)  # type: ignore[arg-type]
        try:
            backend.sync_engine()  # the derived index built from the older text, as that deployment had it
        finally:
            backend.close()
        made[engine] = path
    return made


@pytest.mark.xdist_group("analysis-catch-up-kills")  # one worker writes the two older files once for the eight
@pytest.mark.parametrize(("engine", "delay"), [*(("fts5", d) for d in (0.0, 0.01, 0.05, 0.3, 1.0)),
                                               *(("tantivy", d) for d in (0.01, 0.2, 0.6))])  # fmt: skip
def test_a_catch_up_killed_anywhere_converges(
    tmp_path: Path, older_files: dict[str, Path], engine: str, delay: float
) -> None:
    path = tmp_path / "index.sqlite3"
    shutil.copy(older_files[engine], path)
    if engine == "tantivy":
        shutil.copytree(f"{older_files[engine]}.tantivy", f"{path}.tantivy")
    root = Path(__file__).resolve().parents[3]
    child = subprocess.Popen(
        [sys.executable, "-c", CATCHING_UP_CHILD, str(path), engine], cwd=root, stdout=subprocess.PIPE, text=True,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "catching up"
        kill_inside_its_write(path, child, delay)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()
    backend = SqliteBackend(path, search_engine=engine)  # type: ignore[arg-type]
    try:
        state = backend.analysis_state()
        assert state.status in ("older", "catching_up", "current") and state.done % 40 in (0, state.total % 40)
        backend.catch_up_analysis(batch=40)
        assert backend.analysis_state().status == "current"
        assert found(backend, "bdj") == found(backend, "八段锦") > 0
    finally:
        backend.close()
    assert stale_rows(path) == []
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.execute("INSERT INTO fts (fts) VALUES ('integrity-check')")  # raises on an FTS5 index gone wrong
    finally:
        conn.close()
