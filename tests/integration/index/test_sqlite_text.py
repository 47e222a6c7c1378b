"""The search text of a SQLite index: a contentless FTS5 index beside the compressed text (sqlite_text), and the
one-time conversion of a file whose FTS5 table kept its own copy of the text."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import zstandard

from indexer.backends.base import SearchQuery
from indexer.backends.sqlite import SqliteBackend
from indexer.backends.sqlite_schema import FTS_COLUMNS, prepare_rows
from indexer.backends.sqlite_text import TRAIN_AFTER, decode_fields
from indexer.record import Record
from tests.support.sqlite_kill import kill_inside_its_write

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "contract"))
from contract_corpus import build_corpus, make_record  # noqa: E402

WORDS = ("围棋", "书法", "太极拳", "手机摄影", "养生", "合唱", "茶艺", "智能手机", "剪纸", "葫芦丝")
QUERIES = ("书法 入门", "太极拳", "手机摄影 技巧", "养生 合唱", "shufa", "葫芦")
OLD_FTS_DDL = (
    f"CREATE VIRTUAL TABLE fts USING fts5 ({', '.join(FTS_COLUMNS)}, tokenize = 'unicode61 remove_diacritics 0')"
)
"""The FTS5 table as files were written before the text moved to `texts`: FTS5 kept a copy (`fts_content`)."""


def generated(n: int, *, edition: int = 0) -> Record:
    word, other = WORDS[n % len(WORDS)], WORDS[(n // len(WORDS)) % len(WORDS)]
    return make_record(
        f"g{n}", f"{word}{other}课程 第{n}讲" + "（修订）" * edition, platform=("le_ouchn", "smartedu")[n % 2],
        description=f"{WORDS[(n + 3) % len(WORDS)]}的入门介绍，第{edition}版", tags=[other],
    )  # fmt: skip


def corpus() -> list[Record]:
    return [*build_corpus(), *(generated(n) for n in range(TRAIN_AFTER + 200))]


def answers(path: Path, engine: str) -> list[tuple[int, list[str]]]:
    backend = SqliteBackend(path, search_engine=engine)  # type: ignore[arg-type]
    try:
        found = []
        for q in QUERIES:
            for sort in ("relevance", "newest"):
                result = backend.search(SearchQuery(q=q, size=50, sort=sort))
                found.append((result.total, [hit.record.uid for hit in result.hits]))
        found.append((0, backend.suggest("课程 第1", limit=5)))
        return found
    finally:
        backend.close()


def totals(path: Path, engine: str) -> list[int]:
    """How many records each query finds (tantivy ranks ties a little differently after deletes: totals only)."""
    return [total for total, _ in answers(path, engine)]


def vocabulary(path: Path) -> list[tuple[object, ...]]:
    """Every term of the FTS5 index with the records and the times it occurs in each column."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, fts, col)")
        return conn.execute("SELECT term, col, doc, cnt FROM temp.v ORDER BY term, col").fetchall()


def to_old_layout(path: Path) -> None:
    """Rewrite a file as the code before `texts` wrote it: the text in FTS5's own content table, no `texts`."""
    with sqlite3.connect(path) as conn:
        rows = [(int(i), *decode_fields(v, conn)) for i, v in conn.execute("SELECT id, fields FROM texts")]
        conn.execute("DROP TABLE fts")
        conn.execute(OLD_FTS_DDL)
        conn.executemany(f"INSERT INTO fts (rowid, {', '.join(FTS_COLUMNS)}) VALUES (?{', ?' * 8})", rows)
        conn.execute("DROP TABLE texts")
        conn.execute("DELETE FROM meta WHERE key LIKE 'text_dict%' OR key = 'fts_index'")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    shutil.rmtree(f"{path}.tantivy")  # built anew from the converted file's text


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {str(name) for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("text") / "index.sqlite3"
    backend = SqliteBackend(path)
    try:
        backend.upsert(corpus())
    finally:
        backend.close()
    return path


def test_the_text_is_kept_once_compressed_beside_a_contentless_fts5_index(written: Path) -> None:
    assert "texts" in tables(written) and "fts_content" not in tables(written)
    by_uid = {r.uid: r for r in corpus()}
    with sqlite3.connect(written) as conn:
        (dict_id,) = conn.execute("SELECT value FROM meta WHERE key = 'text_dict'").fetchone()
        rows = conn.execute("SELECT d.uid, t.fields FROM docs d LEFT JOIN texts t ON t.id = d.id").fetchall()
        assert dict_id and len(rows) == len(by_uid)
        assert conn.execute("SELECT COUNT(*) FROM texts").fetchone() == (len(by_uid),)
        for uid, value in rows:
            assert zstandard.get_frame_parameters(value).dict_id in (0, dict_id)  # the first write trains it
            assert decode_fields(value, conn) == prepare_rows(by_uid[uid]).fts


@pytest.mark.parametrize("writer", ["fts5", "tantivy"])
@pytest.mark.parametrize("layout", ["contentless", "converted"])
def test_replacing_and_withdrawing_leave_the_fts5_index_a_fresh_file_of_the_same_records_holds(
    tmp_path: Path, written: Path, layout: str, writer: str
) -> None:
    """Removing a record from a contentless FTS5 index takes the values it was indexed with: any difference would
    leave stale terms behind, which a fresh file of the final records does not hold. The tantivy engine keeps no
    FTS5 index and its writes put nothing there; opened by the fts5 engine again, the file indexes every stored
    text anew."""
    path = tmp_path / "index.sqlite3"
    shutil.copytree(f"{written}.tantivy", f"{path}.tantivy")
    shutil.copy(written, path)
    if layout == "converted":
        to_old_layout(path)
    replaced = [generated(n, edition=1) for n in range(0, TRAIN_AFTER, 7)]
    gone = [generated(n).uid for n in range(3, TRAIN_AFTER, 11)]
    backend = SqliteBackend(path, search_engine=writer)  # type: ignore[arg-type]
    try:
        backend.upsert(replaced)
        backend.withdraw(gone)
    finally:
        backend.close()
    if writer == "tantivy":
        assert vocabulary(path) == []
        SqliteBackend(path, search_engine="fts5").close()
    final = {r.uid: r for r in [*corpus(), *replaced] if r.uid not in set(gone)}
    fresh = tmp_path / "fresh.sqlite3"
    backend = SqliteBackend(fresh, search_engine="fts5")
    try:
        backend.upsert(final.values())
    finally:
        backend.close()
    assert vocabulary(path) == vocabulary(fresh)
    assert answers(path, "fts5") == answers(fresh, "fts5")
    assert totals(path, "tantivy") == totals(fresh, "tantivy")  # the engine's index, made from the stored text


def test_a_file_whose_fts5_table_kept_the_text_is_converted_once_and_answers_as_before(
    tmp_path: Path, written: Path
) -> None:
    path = tmp_path / "index.sqlite3"
    shutil.copytree(f"{written}.tantivy", f"{path}.tantivy")
    shutil.copy(written, path)
    expected = {engine: answers(written, engine) for engine in ("tantivy", "fts5")}
    before = vocabulary(written)
    to_old_layout(path)
    assert "fts_content" in tables(path) and "texts" not in tables(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == ("1",)
    assert answers(path, "fts5") == expected["fts5"]  # opened on the FTS5 engine: converted, nothing rebuilt
    assert "fts_content" not in tables(path) and "texts" in tables(path)
    with sqlite3.connect(path) as conn:
        (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'fts'").fetchone()
        assert "content = ''" in sql
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == ("6",)  # layout 1 refuses it
        assert (
            conn.execute("SELECT COUNT(*) FROM texts").fetchone()
            == conn.execute("SELECT COUNT(*) FROM docs").fetchone()
        )
        assert int(conn.execute("SELECT value FROM meta WHERE key = 'text_dict'").fetchone()[0]) > 0
    assert vocabulary(path) == before
    assert answers(path, "tantivy") == expected["tantivy"]  # the engine's index built from the converted text
    assert answers(path, "fts5") == expected["fts5"]  # a second open finds nothing to convert


CONVERTING_CHILD = """
import sys
from pathlib import Path
from indexer.backends.sqlite import SqliteBackend
print("opening", flush=True)
SqliteBackend(Path(sys.argv[1]), search_engine="fts5").close()
print("opened", flush=True)
"""


@pytest.mark.parametrize("delay", [0.0, 0.02, 0.05, 0.1, 0.5])
def test_a_process_killed_while_it_converts_leaves_a_file_the_next_open_converts(
    tmp_path: Path, written: Path, delay: float
) -> None:
    """The conversion is one write transaction: killed anywhere in it, the file keeps its old layout whole."""
    path = tmp_path / "index.sqlite3"
    shutil.copy(written, path)
    shutil.copytree(f"{written}.tantivy", f"{path}.tantivy")
    to_old_layout(path)
    before = vocabulary(path)
    root = Path(__file__).resolve().parents[3]
    child = subprocess.Popen(
        [sys.executable, "-c", CONVERTING_CHILD, str(path)], cwd=root, stdout=subprocess.PIPE, text=True,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "opening"
        kill_inside_its_write(path, child, delay)  # at different points of its opening transaction's conversion
    finally:
        if child.stdout is not None:
            child.stdout.close()
    assert {"fts_content", "texts"} & tables(path)  # the old layout or the new, never neither
    assert answers(path, "fts5") == answers(written, "fts5")
    assert "fts_content" not in tables(path) and vocabulary(path) == before
