"""Recent search results of the SQLite backend: a repeated search is answered without searching again, until
any write makes a new index generation."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from indexer.backends.base import SearchQuery, SearchResult
from indexer.backends.sqlite import SqliteBackend
from indexer.backends.sqlite_search import RecentResults
from indexer.record import Record


def course(source_id: str, title: str) -> Record:
    record = Record(
        uid=f"t:{source_id}", source="t", source_id=source_id, url=f"https://example.edu.cn/{source_id}",
        title=title, platform="t", platform_name="测试平台", fetched_at=datetime(2026, 11, 1, tzinfo=UTC),
    )  # fmt: skip
    record.content_hash = record.compute_hash()
    return record


def test_a_repeated_search_is_the_same_result_until_the_index_changes(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "index.sqlite3")
    try:
        backend.upsert([course("1", "书法入门"), course("2", "太极拳入门")])
        first = backend.search(SearchQuery(q="书法"))
        assert backend.search(SearchQuery(q="书法")) is first
        assert backend.search(SearchQuery(q="书法", size=5)) is not first  # another query
        backend.upsert([course("3", "硬笔书法")])
        after_write = backend.search(SearchQuery(q="书法"))
        assert after_write is not first and after_write.total == first.total + 1
        backend.withdraw(["t:3"])
        assert backend.search(SearchQuery(q="书法")).total == first.total
    finally:
        backend.close()


def test_recent_results_keep_the_latest_and_drop_the_least_recently_used() -> None:
    recent = RecentResults(2)
    results = {n: SearchResult(total=n, hits=[], facets={}) for n in range(3)}
    keys = {n: (SearchQuery(q=str(n)), 1) for n in range(3)}
    recent.put(keys[0], results[0])
    recent.put(keys[1], results[1])
    assert recent.get(keys[0]) is results[0]  # 0 is now the most recently used
    recent.put(keys[2], results[2])
    assert recent.get(keys[1]) is None
    assert (recent.get(keys[0]), recent.get(keys[2])) == (results[0], results[2])
    assert recent.get((SearchQuery(q="0"), 2)) is None  # another generation
