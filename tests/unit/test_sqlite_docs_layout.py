"""The compact `docs` rows (layout 4): a title equal to its folded title is left out and a hex content hash kept as
its bytes, and a file of layout 3 (every title, hashes as hex text) is converted once on open and answers the same."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "contract"))
from contract_corpus import make_record  # noqa: E402

from indexer.backends.base import SearchQuery  # noqa: E402
from indexer.backends.changes import ChangeQuery  # noqa: E402
from indexer.backends.sqlite import SqliteBackend  # noqa: E402
from indexer.backends.sqlite_schema import SCHEMA_VERSION, hash_text, stored_hash  # noqa: E402
from indexer.record import Record  # noqa: E402


def _records() -> list[Record]:
    plain = [make_record(f"c{n}", f"太极拳入门第{n}讲", learner_count=n) for n in range(6)]
    folded = [make_record("w1", "ＡＩ　智能手机：入门", learner_count=50), make_record("w2", "书法（提高班）")]
    hand_set = {"h1": "h1", "h2": "ABCDEF", "h3": "abc"}  # hashes a caller set by hand, none lowercase hex
    by_hand = [
        make_record(n, title).model_copy(update={"content_hash": hand_set[n]})
        for n, title in (("h1", "手工编织"), ("h2", "手工剪纸"), ("h3", "手工刺绣"))
    ]
    return plain + folded + by_hand


def _answers(backend: SqliteBackend, records: list[Record]) -> list[object]:
    found: list[object] = [backend.get(r.uid) for r in records]
    found += [backend.suggest(p) for p in ("太极", "taiji", "ai", "智能", "书法", "手工")]
    found.append(backend.content_hashes("le_ouchn"))
    for text in ("太极拳", "手机", "提高班", "剪纸"):
        result = backend.search(SearchQuery(q=text))
        found.append([(h.record.uid, h.score) for h in result.hits])
    found.append(backend.changes(ChangeQuery(until=2**62)))
    return found


def _docs(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT uid, title, title_fold, content_hash FROM docs ORDER BY id").fetchall()


def test_rows_leave_out_a_folded_title_and_keep_a_hex_hash_as_bytes(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    records = _records()
    backend = SqliteBackend(path, search_engine="fts5")
    backend.upsert(records)
    backend.close()
    rows = {str(r[0]): r[1:] for r in _docs(path)}
    assert rows["le_ouchn:c1"][0] is None and rows["le_ouchn:c1"][1] == "太极拳入门第1讲"
    assert rows["le_ouchn:w1"][0] == "ＡＩ　智能手机：入门" != rows["le_ouchn:w1"][1]  # full-width: kept
    assert rows["le_ouchn:c1"][2] == bytes.fromhex(records[1].content_hash) and len(rows["le_ouchn:c1"][2]) == 32
    assert [rows[f"le_ouchn:h{n}"][2] for n in (1, 2, 3)] == ["h1", "ABCDEF", "abc"]  # not hex as written: text
    backend = SqliteBackend(path, search_engine="fts5")
    try:
        assert backend.content_hashes("le_ouchn") == {r.uid: r.content_hash for r in records}
        assert backend.suggest("ai") == ["ＡＩ　智能手机：入门"] and backend.suggest("书法") == ["书法（提高班）"]
        before = backend.changes(ChangeQuery(until=2**62))
        assert backend.upsert(records).unchanged == len(records)  # every stored hash read back as written
        assert backend.changes(ChangeQuery(until=2**62)) == before  # and nothing stamped again
    finally:
        backend.close()


def test_stored_hash_round_trips() -> None:
    for value in ("ab" * 32, "h1", "ABCD", "abc", "", "0" * 64):
        assert hash_text(stored_hash(value)) == value
    assert stored_hash("ab" * 32) == b"\xab" * 32 and stored_hash(b"\x01") == b"\x01"


def test_a_layout_3_file_is_converted_once_and_answers_the_same(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    records = _records()
    backend = SqliteBackend(path, search_engine="fts5")
    backend.upsert(records)
    try:
        before = _answers(backend, records)
    finally:
        backend.close()
    with sqlite3.connect(path) as conn:  # the rows as layout 3 wrote them: every title, hashes as hex text
        conn.create_function("hex_text", 1, hash_text, deterministic=True)
        conn.execute("UPDATE docs SET title = COALESCE(title, title_fold), content_hash = hex_text(content_hash)")
        conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema'")
    layout_3 = _docs(path)
    assert all(isinstance(h, str) and t is not None for _, t, _, h in layout_3)
    backend = SqliteBackend(path, search_engine="fts5")
    try:
        assert _answers(backend, records) == before
    finally:
        backend.close()
    converted = _docs(path)
    assert [r[0] for r in converted] == [r[0] for r in layout_3]
    assert sum(r[1] is None for r in converted) == 9 and sum(isinstance(r[3], bytes) for r in converted) == 8
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == (SCHEMA_VERSION,)
        assert SCHEMA_VERSION == "6"  # so an edufed of layout 3 refuses the file
        indexes = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'docs'")}
    assert {"docs_gen", "docs_source", "docs_cluster_uid", "docs_title_fold", "docs_title_pinyin"} <= indexes
    backend = SqliteBackend(path, search_engine="fts5")
    try:
        assert backend.upsert(records).unchanged == len(records)
        assert _docs(path) == converted  # opened again: nothing more to convert
    finally:
        backend.close()
