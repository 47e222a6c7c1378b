"""The SQLite backend's hits carry the analysis of their text the index stored (the `texts` columns, the folded title
and title pinyin of `docs`), so the words a hit lacks are found without segmenting its text again: that analysis
must be exactly what analysing the hit's record afresh gives."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from indexer.backends.base import SearchQuery
from indexer.backends.sqlite import SqliteBackend
from indexer.backends.sqlite_hits import _stored
from indexer.record import Record
from indexer.record_text import _texts, record_text

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "contract"))
from contract_corpus import build_corpus, make_record  # noqa: E402

QUERIES = ("书法 入门", "太极拳 合唱", "手机 摄影 技巧", "养生 保健 课程", "shufa 入门", "老年人 智能手机", "書法 入門")


def varied() -> list[Record]:
    """The contract corpus and records with traditional characters, full-width letters, tags and people."""
    extra = [
        make_record("v1", "書法入門：楷書基礎", description="ＥＸＣＥＬ與書法", tags=["書法", "入門"]),
        make_record("v2", "太极拳与合唱", description="老年人 智能手机 摄影技巧 " * 20, tags=["养生保健"]),
        make_record("v3", "Python 编程入门（第２版）", description="手机摄影技巧，养生课程", tags=[]),
    ]
    return [*build_corpus(), *extra]


def fresh(record: Record) -> object:
    """The record's analysis worked out again (a copy of it carries nothing remembered)."""
    return record_text(Record.model_validate_json(record.model_dump_json()))


@pytest.mark.parametrize("engine", ["tantivy", "fts5"])
def test_stored_analysis_is_what_analysing_the_record_gives(tmp_path: Path, engine: str) -> None:
    backend = SqliteBackend(tmp_path / "index.sqlite3", search_engine=engine)
    try:
        corpus = varied()
        backend.upsert(corpus)
        conn = backend._search._connect()
        ids = [int(i) for (i,) in conn.execute("SELECT id FROM docs ORDER BY id")]
        stored = _stored(conn, ids, analysed=True)
        by_uid = {r.uid: r for r in corpus}
        uids = dict(conn.execute("SELECT id, uid FROM docs"))
        assert len(stored) == len(corpus)
        for row_id, (_, analysis) in stored.items():
            record = by_uid[uids[row_id]]
            assert analysis == fresh(record), record.uid
        for q in QUERIES:
            hits = backend.search(SearchQuery(q=q, size=50)).hits
            assert hits, q
            for hit in hits:  # each carries the stored analysis, which `missing` was worked out from
                assert hit.record.known_text(_texts(hit.record)) == fresh(hit.record), (q, hit.record.uid)
    finally:
        backend.close()


def test_a_hit_whose_stored_text_is_missing_is_still_read_and_analysed_afresh(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "index.sqlite3", search_engine="fts5")
    try:
        corpus = varied()
        backend.upsert(corpus)
        conn = backend._search._connect()
        (row_id,) = conn.execute("SELECT id FROM docs WHERE uid = ?", (corpus[-1].uid,)).fetchone()
        with conn:
            conn.execute("DELETE FROM texts WHERE id = ?", (row_id,))
        payload, analysis = _stored(conn, [row_id], analysed=True)[row_id]
        assert analysis is None and payload is not None
        hits = backend.search(SearchQuery(q="手机 摄影", size=50)).hits
        (hit,) = [h for h in hits if h.record.uid == corpus[-1].uid]
        assert hit.record == corpus[-1].model_copy(update={"cluster_id": hit.record.cluster_id})
        assert hit.record.known_text(_texts(hit.record)) is None
        assert hit.missing == ()
    finally:
        backend.close()
