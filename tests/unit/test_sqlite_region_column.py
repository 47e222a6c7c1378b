"""An index file made before the region facet gains its column when opened, keeps serving, and fills on rewrite."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "contract"))
from contract_corpus import make_record  # noqa: E402

from indexer.backends.base import SearchQuery  # noqa: E402
from indexer.backends.sqlite import SqliteBackend  # noqa: E402


def test_file_without_region_column_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    old = make_record("a1", "书法入门")
    backend = SqliteBackend(path)
    backend.upsert([old])
    backend.close()
    with sqlite3.connect(path) as conn:  # the file as the previous release left it
        conn.execute("ALTER TABLE docs DROP COLUMN region_id")
    assert "region_id" not in {row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(docs)")}

    reopened = SqliteBackend(path)
    try:
        assert reopened.search(SearchQuery(q="书法")).total == 1
        assert reopened.search(SearchQuery()).facets["region"] == {}
        rebuilt = make_record("a1", "书法入门", region={"province": "浙江", "city": "杭州市"})
        assert reopened.upsert([rebuilt]).written == 1  # a reindex gives the record its region: a new hash
        assert reopened.search(SearchQuery(regions=("浙江",))).total == 1
        assert reopened.search(SearchQuery()).facets["region"] == {"浙江": 1}
    finally:
        reopened.close()
