"""Titles a term matches, kept for one index generation, answer as reading them on that snapshot does, and a write
(a new generation) makes them read afresh: a pinyin query asked again spells the same words as the first time."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

from indexer.analysis import parse_query
from indexer.backends.base import SearchQuery
from indexer.backends.sqlite import SqliteBackend
from indexer.backends.sqlite_search import KnownTitles
from indexer.known_words import pinyin_part

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "contract"))
from contract_corpus import build_corpus, make_record  # noqa: E402


def generation(conn: sqlite3.Connection) -> int:
    (value,) = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    return int(value)


@pytest.mark.parametrize("engine", ["tantivy", "fts5"])
def test_kept_titles_answer_as_a_fresh_read_in_every_generation(tmp_path: Path, engine: str) -> None:
    backend = SqliteBackend(tmp_path / "index.sqlite3", search_engine=engine)
    try:
        backend.upsert(build_corpus())
        search = backend._search
        terms = [pinyin_part(term) for term in parse_query("shufa taiji")]
        assert all(term is not None for term in terms)
        kept, few = KnownTitles(100, read=search._read_titles), KnownTitles(1, read=search._read_titles)
        conn = search._connect()
        seen = []
        for edition in range(3):
            backend.search(SearchQuery(q="shufa"))  # the engine and the columns brought up to date
            conn.execute("BEGIN")
            try:
                for _ in range(2):  # the second time from what was kept
                    for term in terms:
                        assert term is not None
                        for limit in (2, 100):
                            expected = search._read_titles(conn, term, limit)
                            assert kept.of(conn, term, limit, generation=generation(conn)) == expected
                            assert few.of(conn, term, limit, generation=generation(conn)) == expected
                seen.append(search._read_titles(conn, terms[0], 100))
            finally:
                conn.execute("COMMIT")
            backend.upsert([make_record(f"t{edition}-{n}", f"书法练习 第{n}讲") for n in range(3)])  # a new generation
        assert len(seen[0]) < len(seen[1]) < len(seen[2])  # the writes changed what the term matches
    finally:
        backend.close()
