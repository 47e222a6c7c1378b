"""Uids kept for one index generation answer as reading them on that snapshot does, and a write (a new generation)
makes them read afresh: a rowid a withdrawn record freed and a new record took is not answered with the old uid."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import numpy as np
import pytest

from indexer.backends.base import SearchQuery
from indexer.backends.sqlite import SearchEngine, SqliteBackend
from indexer.backends.sqlite_search import KnownUids, _uids

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "contract"))
from contract_corpus import build_corpus, make_record  # noqa: E402


def generation(conn: sqlite3.Connection) -> int:
    (value,) = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    return int(value)


def top_row(conn: sqlite3.Connection) -> tuple[int, str]:
    row_id, uid = conn.execute("SELECT id, uid FROM docs ORDER BY id DESC LIMIT 1").fetchone()
    return int(row_id), str(uid)


@pytest.mark.parametrize("engine", ["tantivy", "fts5"])
def test_kept_uids_answer_as_a_fresh_read_in_every_generation(tmp_path: Path, engine: SearchEngine) -> None:
    backend = SqliteBackend(tmp_path / "index.sqlite3", search_engine=engine)
    try:
        backend.upsert([*build_corpus(), make_record("last-0", "书法 最后一门")])
        conn = backend._search._connect()
        kept, few = KnownUids(10_000), KnownUids(3)  # `few` drops what it kept along the way
        tops = []
        for edition in range(3):
            conn.execute("BEGIN")
            try:
                (live,) = conn.execute("SELECT count(*) FROM docs").fetchone()
                top, _ = top_row(conn)
                asked = np.asarray([*range(1, top + 1), top + 5], dtype=np.int64)  # with rowids the file lacks
                expected = _uids(conn, asked)
                assert len(expected) == live
                now = generation(conn)
                for _ in range(2):  # the second time from what was kept
                    assert kept.of(conn, asked, now) == expected
                    tail = {i: expected[i] for i in asked[-4:].tolist() if i in expected}
                    assert kept.of(conn, asked[-4:], now) == tail
                    assert few.of(conn, asked[:5], now) == {i: expected[i] for i in asked[:5].tolist() if i in expected}
                tops.append(top_row(conn))
            finally:
                conn.execute("COMMIT")
            # a new generation: the record of the highest rowid withdrawn, and a new one taking that rowid
            assert backend.withdraw([tops[-1][1]]) == 1
            backend.upsert([make_record(f"last-{edition + 1}", "书法 最后一门")])
        assert [row_id for row_id, _ in tops] == [tops[0][0]] * 3  # the same rowid, another uid each time
        assert len({uid for _, uid in tops}) == 3
    finally:
        backend.close()


def paged(backend: SqliteBackend, q: str) -> list[str]:
    """Every hit's uid, two a page, by cursor."""
    uids: list[str] = []
    cursor = None
    while True:
        result = backend.search(SearchQuery(q=q, size=2, cursor=cursor))
        uids += [hit.record.uid for hit in result.hits]
        if result.next_cursor is None:
            return uids
        cursor = result.next_cursor


@pytest.mark.parametrize("engine", ["tantivy", "fts5"])
def test_a_search_after_a_write_orders_ties_by_the_uids_the_write_left(tmp_path: Path, engine: SearchEngine) -> None:
    """Records of equal scores are ordered by uid; after another process withdraws the record of the highest rowid
    and writes one that takes it, the new record's own uid orders it (it sorts first), not the withdrawn one's."""
    path = tmp_path / "index.sqlite3"
    backend = SqliteBackend(path, search_engine=engine)
    other = SqliteBackend(path, search_engine=engine)
    try:
        backend.upsert([make_record(f"a{n}", "围棋入门课") for n in range(5)])
        assert paged(backend, "围棋") == [f"le_ouchn:a{n}" for n in range(5)]
        other.withdraw(["le_ouchn:a4"])
        other.upsert([make_record("0new", "围棋入门课")])  # takes the rowid a4 held
        (row_id,) = other._search._connect().execute("SELECT id FROM docs WHERE uid = 'le_ouchn:0new'").fetchone()
        assert row_id == 5
        assert paged(backend, "围棋") == ["le_ouchn:0new", *(f"le_ouchn:a{n}" for n in range(4))]
    finally:
        other.close()
        backend.close()
