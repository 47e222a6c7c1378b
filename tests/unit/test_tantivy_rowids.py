"""The rowids of the tantivy engine's documents, kept with the searcher held for a generation, answer as reading the
id fast field does on that searcher, whatever is kept or dropped along the way, and a write (a new searcher) makes
them read afresh: a rowid a withdrawn record freed and a new record took is not answered from the old searcher."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import tantivy

from indexer.backends.sqlite import SqliteBackend
from indexer.backends.tantivy_schema import ID_FIELD
from indexer.backends.tantivy_search import TantivySearch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contract"))
from contract_corpus import build_corpus, make_record  # noqa: E402


def generation(conn: sqlite3.Connection) -> int:
    (value,) = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    return int(value)


def every_address(searcher: tantivy.Searcher) -> list[tantivy.DocAddress]:
    return [address for _, address in searcher.search(tantivy.Query.all_query(), limit=10_000, count=False).hits]


def test_kept_rowids_answer_as_the_id_field_of_each_searcher(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "index.sqlite3", search_engine="tantivy")
    try:
        backend.upsert([*build_corpus(), make_record("last-0", "书法 最后一门")])
        search = backend._search
        assert search._engine is not None
        index = search._engine._index
        engines = [
            TantivySearch(index, codes=search._codes, uids_of=search._uids.of, known_rowids=n) for n in (10_000, 3)
        ]
        conn = search._connect()
        seen: list[dict[str, int]] = []
        for edition in range(3):
            conn.execute("BEGIN")
            try:
                now = generation(conn)
                for engine in engines:
                    searcher = engine._searcher(conn, now)
                    addresses = every_address(searcher)
                    expected = searcher.fast_field_values(ID_FIELD, addresses)
                    assert len(expected) == 37 and len(set(expected)) == 37
                    for _ in range(2):  # the second time from what was kept (`known_rowids=3`: dropped as it goes)
                        assert engine._rowids(searcher, addresses[:2]) == expected[:2]
                        assert engine._rowids(searcher, addresses) == expected
                        assert engine._rowids(searcher, addresses[-4:]) == expected[-4:]
                        assert engine._rowids(searcher, addresses[:2] + addresses[:2]) == expected[:2] * 2
                    other = index.searcher(conn)  # a searcher not held: nothing kept is used for it
                    assert engine._rowids(other, every_address(other)) == other.fast_field_values(
                        ID_FIELD, every_address(other)
                    )
                rows = dict(conn.execute("SELECT uid, id FROM docs"))
                seen.append({uid: int(row_id) for uid, row_id in rows.items()})
            finally:
                conn.execute("COMMIT")
            # a new generation: the record of the highest rowid withdrawn, and a new one taking that rowid
            top = max(seen[-1], key=seen[-1].__getitem__)
            assert backend.withdraw([top]) == 1
            backend.upsert([make_record(f"last-{edition + 1}", "书法 最后一门")])
        tops = [max(rows.values()) for rows in seen]
        assert tops == [tops[0]] * 3 and len({max(rows, key=rows.__getitem__) for rows in seen}) == 3
    finally:
        backend.close()
