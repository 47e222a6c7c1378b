"""Document frequencies kept for one index generation answer as fts5vocab does on that snapshot, and a write (a new
generation) makes them read afresh, so a query's plan is the same as without them."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

from indexer.backends.base import SearchQuery
from indexer.backends.sqlite import SqliteBackend
from indexer.backends.sqlite_search import KnownFrequencies, _frequencies

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "contract"))
from contract_corpus import build_corpus, make_record  # noqa: E402

TOKENS = (["书法", "入门"], ["入门", "太极拳", "不存在的词"], ["书法"], [], ["合唱", "养生", "书法", "zzsep", "shu"])


def generation(conn: sqlite3.Connection) -> int:
    (value,) = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    return int(value)


def test_kept_frequencies_answer_as_fts5vocab_in_every_generation(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "index.sqlite3", search_engine="fts5")
    try:
        backend.upsert(build_corpus())
        conn = backend._search._connect()
        kept, few = KnownFrequencies(1000), KnownFrequencies(4)  # `few` drops what it kept along the way
        for edition in range(3):
            conn.execute("BEGIN")
            try:
                for _ in range(2):  # the second time from what was kept
                    for tokens in TOKENS:
                        expected = _frequencies(conn, tokens)
                        assert kept.of(conn, tokens, generation=generation(conn)) == expected
                        assert few.of(conn, tokens, generation=generation(conn)) == expected
            finally:
                conn.execute("COMMIT")
            extra = [make_record(f"k{edition}-{n}", f"书法入门 第{n}讲", description="太极拳与合唱") for n in range(5)]
            backend.upsert(extra)  # a new generation: more records hold these words
        assert _frequencies(conn, ["书法"])[0]["书法"] > 10
    finally:
        backend.close()


def test_a_write_changes_the_plan_of_the_next_search(tmp_path: Path) -> None:
    """A query's plan follows the frequencies of the index it runs on, not those kept from before a write."""
    path = tmp_path / "index.sqlite3"
    backend = SqliteBackend(path, search_engine="fts5")
    other = SqliteBackend(path, search_engine="fts5")
    try:
        backend.upsert([make_record(f"a{n}", f"围棋入门 第{n}讲") for n in range(3)])
        backend.upsert([make_record("b", "书法基础")])
        query = SearchQuery(q="书法 入门")
        before = backend.search(query)
        other.upsert([make_record(f"c{n}", f"书法课程 第{n}讲") for n in range(40)])  # now 书法 is common, 入门 rare
        after = backend.search(query)
        fresh = SqliteBackend(path, search_engine="fts5")
        try:
            expected = fresh.search(query)
        finally:
            fresh.close()
        assert before.total == 1 and after.total == expected.total == 3  # 书法 required, then 入门
        assert [h.record.uid for h in after.hits] == [h.record.uid for h in expected.hits]
    finally:
        other.close()
        backend.close()
