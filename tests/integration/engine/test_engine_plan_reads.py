"""With the tantivy engine the file keeps no FTS5 index: what a query's plan reads from the index (document
frequencies, the titles a term matches, suggest's titles containing a string) comes from the derived tantivy
index and answers as FTS5 answers on a copy of the same file; a process of the fts5 engine on a file the tantivy
engine emptied says so instead of finding nothing."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer.analysis import CHARS_BOUNDARY, parse_query
from indexer.backends.base import SearchQuery
from indexer.backends.sqlite import SqliteBackend
from indexer.backends.sqlite_search import _frequencies, _titles_of
from indexer.errors import IndexBackendError
from indexer.query_vocabulary import bundled_vocabulary

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "contract"))
from contract_corpus import build_corpus, make_record  # noqa: E402

ODD_TOKENS = ("不存在的词", "Excel", "excel", "e-mail", "shu fa", "", "3", "太")
TERMS = ("书法", "太极拳 入门", "shufa", "智能手机", "合唱团", "剪纸 艺术")
PREFIXES = ("书法", "太极", "手机", "合唱", "入门", "课")


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[SqliteBackend, SqliteBackend]]:
    """The same records on the tantivy engine and, in a copy of the file, on the fts5 engine."""
    path, copy = tmp_path / "index.sqlite3", tmp_path / "copy.sqlite3"
    engine = SqliteBackend(path, search_engine="tantivy")
    records = [*build_corpus(), *(make_record(f"x{n}", f"书法与太极拳 第{n}讲", tags=["Excel"]) for n in range(30))]
    engine.upsert(records)
    engine.withdraw([records[3].uid, records[40].uid])
    with sqlite3.connect(path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    truth = SqliteBackend(copy, search_engine="fts5")
    yield engine, truth
    engine.close()
    truth.close()


def test_the_tantivy_engine_file_keeps_no_fts5_index(pair: tuple[SqliteBackend, SqliteBackend]) -> None:
    engine, truth = pair
    with sqlite3.connect(engine.path) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'fts_index'").fetchone() == ("dropped",)
        assert conn.execute("SELECT count(*) FROM fts_data").fetchone()[0] <= 2  # the structure record only
    with sqlite3.connect(truth.path) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'fts_index'").fetchone() == ("kept",)
        assert conn.execute("SELECT count(*) FROM fts").fetchone()[0] == truth.count() > 0


def test_document_frequencies_are_those_fts5vocab_counts(pair: tuple[SqliteBackend, SqliteBackend]) -> None:
    engine, truth = pair
    assert engine.engine is not None
    conn, fts_conn = engine._conn(), truth._conn()
    fts_conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.words USING fts5vocab(main, fts, row)")
    # CHARS_BOUNDARY separates runs in FTS5's columns and copies of a column in tantivy's weighted fields: plans
    # never count it (match_plan), and the two engines hold it in different numbers of records
    vocabulary = [str(term) for (term,) in fts_conn.execute("SELECT term FROM temp.words") if term != CHARS_BOUNDARY]
    assert len(vocabulary) > 200
    tokens = [*vocabulary, *ODD_TOKENS]
    conn.execute("BEGIN")
    try:
        counted = engine._search._engine.frequencies(conn, tokens)  # type: ignore[union-attr]
    finally:
        conn.execute("COMMIT")
    assert counted == _frequencies(fts_conn, tokens)
    assert counted[0]["书法"] > 30 and "不存在的词" not in counted[0]


def test_titles_a_term_matches_and_suggestions_are_those_of_fts5(pair: tuple[SqliteBackend, SqliteBackend]) -> None:
    engine, truth = pair
    vocabulary = bundled_vocabulary()
    conn, fts_conn = engine._conn(), truth._conn()
    for text in TERMS:
        for term in parse_query(text, vocabulary=vocabulary):
            for limit in (3, 200):
                found = engine._search._engine.titles_of(conn, term, limit=limit)  # type: ignore[union-attr]
                assert found == _titles_of(fts_conn, term, limit=limit), (text, limit)
    for prefix in PREFIXES:
        assert engine.suggest(prefix, limit=8) == truth.suggest(prefix, limit=8), prefix
    assert engine.suggest("书法", limit=8)


@pytest.mark.parametrize("sort", ["newest", "popular"])
def test_sorted_text_queries_come_from_the_engine_as_fts5_answers_them(
    pair: tuple[SqliteBackend, SqliteBackend], sort: str
) -> None:
    engine, truth = pair
    for q in ("书法", "太极拳 入门", "shufa"):
        for themes in ((), ("闲暇生活",)):
            query = SearchQuery(q=q, sort=sort, size=7, themes=themes)
            pages = []
            for backend in (engine, truth):
                result, seen = backend.search(query), []
                while True:
                    seen.append(([hit.record.uid for hit in result.hits], result.total, result.facets))
                    if result.next_cursor is None:
                        break
                    result = backend.search(SearchQuery(q=q, sort=sort, size=7, themes=themes,
                                                        cursor=result.next_cursor))  # fmt: skip
                pages.append(seen)
            assert pages[0] == pages[1], (q, sort, themes)


def test_an_fts5_engine_process_on_a_file_the_tantivy_engine_emptied_says_so(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    fts5 = SqliteBackend(path, search_engine="fts5")
    try:
        fts5.upsert(build_corpus())
        assert fts5.search(SearchQuery(q="书法")).total > 0
        SqliteBackend(path, search_engine="tantivy").close()  # opening on the tantivy engine drops the FTS5 index
        with pytest.raises(IndexBackendError, match="FTS5 index was dropped"):
            fts5.search(SearchQuery(q="书法"))
        assert fts5.search(SearchQuery(q="")).total == fts5.count()  # browsing reads no FTS5
    finally:
        fts5.close()
    reopened = SqliteBackend(path, search_engine="fts5")  # keeps it again: every stored text indexed
    try:
        assert reopened.search(SearchQuery(q="书法")).total > 0
    finally:
        reopened.close()
