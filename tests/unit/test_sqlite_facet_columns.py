"""The SQLite backend's in-memory facet columns hold each code and mask in the narrowest integer type the values
fit, widen it when a write brings a value that does not, and answer the same filters and counts throughout."""

from __future__ import annotations

import ctypes
import ctypes.util
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from indexer.backends.base import SearchQuery
from indexer.backends.sqlite import SqliteBackend
from indexer.backends.sqlite_facets import _COLUMNS, FacetColumns, Filters, _facet_counts, _pick, _take
from indexer.backends.sqlite_schema import FacetCodes
from indexer.record import Record


def course(source_id: str, title: str, *, platform: str = "p0", themes: tuple[str, ...] = ()) -> Record:
    record = Record(
        uid=f"t:{source_id}", source="t", source_id=source_id, url=f"https://example.edu.cn/{source_id}",
        title=title, platform=platform, platform_name="测试平台", fetched_at=datetime(2026, 11, 1, tzinfo=UTC),
        themes=list(themes),
    )  # fmt: skip
    record.content_hash = record.compute_hash()
    return record


def column_type(backend: SqliteBackend, name: str) -> np.dtype[np.generic]:
    backend.search(SearchQuery(q="", size=1))  # brings the columns up to the last write
    return backend._search._columns._columns[name].dtype


def test_a_column_widens_when_a_value_outgrows_it_and_counts_stay_right(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "index.sqlite3", search_engine="fts5")
    try:
        backend.upsert([course(str(n), "书法入门", platform=f"p{n}") for n in range(100)])
        assert column_type(backend, "platform_id") == np.int8
        backend.upsert([course(str(n), "书法入门", platform=f"p{n}") for n in range(100, 300)])
        assert column_type(backend, "platform_id") == np.int16  # platform codes past 127
        found = backend.search(SearchQuery(q="书法", with_facets=True))
        assert found.total == 300
        assert len(found.facets["platform"]) == 300 and set(found.facets["platform"].values()) == {1}
        for platform in ("p0", "p127", "p128", "p299"):
            assert backend.search(SearchQuery(q="书法", platforms=(platform,))).total == 1
    finally:
        backend.close()


def test_a_mask_filter_beyond_the_columns_type_matches_nothing_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    backend = SqliteBackend(path, search_engine="fts5")
    try:
        themes = tuple(f"主题{n}" for n in range(12))
        backend.upsert([course("wide", "太极拳", themes=themes), course("1", "太极拳", themes=themes[:2])])
        backend.withdraw(["t:wide"])  # the codes of 主题2..主题11 stay, no live record has them
    finally:
        backend.close()
    reopened = SqliteBackend(path, search_engine="fts5")  # loads only the live row: one-byte masks
    try:
        assert column_type(reopened, "theme_mask") == np.int8
        assert reopened.search(SearchQuery(q="太极拳", themes=("主题11",))).total == 0
        assert reopened.search(SearchQuery(q="太极拳", themes=("主题1",))).total == 1
        assert reopened.search(SearchQuery(q="太极拳", with_facets=True)).facets["theme"] == {"主题0": 1, "主题1": 1}
    finally:
        reopened.close()


def sqlite_memory_used() -> int:
    library = ctypes.CDLL(ctypes.util.find_library("sqlite3") or "libsqlite3.so.0")
    library.sqlite3_memory_used.restype = ctypes.c_int64
    return int(library.sqlite3_memory_used())


def test_loading_every_row_goes_through_a_small_page_cache_and_gives_the_connection_its_own_back(
    tmp_path: Path,
) -> None:
    conn = sqlite3.connect(tmp_path / "columns.sqlite3", isolation_level=None)
    columns = ", ".join(f"{name} INTEGER NOT NULL DEFAULT 1" for name in _COLUMNS)
    conn.execute(f"CREATE TABLE docs (id INTEGER PRIMARY KEY, gen INTEGER NOT NULL, {columns}, padding BLOB)")
    conn.execute("CREATE TABLE removed (id INTEGER PRIMARY KEY, gen INTEGER NOT NULL)")
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value)")
    conn.execute("INSERT INTO meta VALUES ('generation', 1)")
    conn.executemany(
        "INSERT INTO docs (id, gen, padding) VALUES (?, 1, zeroblob(2000))", [(i,) for i in range(1, 5001)]
    )
    conn.close()  # 10 MB of rows, read back through a fresh connection with a reader's page cache
    conn = sqlite3.connect(tmp_path / "columns.sqlite3", isolation_level=None)
    conn.execute("PRAGMA cache_size = -65536")
    loaded = FacetColumns()
    before = sqlite_memory_used()
    conn.execute("BEGIN")
    assert loaded.sync(conn)
    grown = sqlite_memory_used() - before
    conn.execute("COMMIT")
    assert grown < 4 * 1_048_576  # a 64 MiB cache would hold all 10 MB
    assert conn.execute("PRAGMA cache_size").fetchone()[0] == -65536
    assert loaded.match(None, filters=Filters(), codes=FacetCodes(), with_facets=False).total == 5000
    conn.close()


def test_a_sync_told_the_snapshots_generation_applies_what_the_columns_lack_and_skips_what_they_hold(
    tmp_path: Path,
) -> None:
    path = tmp_path / "index.sqlite3"
    backend = SqliteBackend(path, search_engine="fts5")
    try:
        backend.upsert([course(str(n), "书法入门", platform="p0") for n in range(3)])
        columns = FacetColumns()
        with sqlite3.connect(path, isolation_level=None) as conn:

            def generation() -> int:
                (value,) = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
                return int(value)

            def live() -> int:
                return columns.match(None, scores=None, filters=Filters(), codes=FacetCodes(), with_facets=False).total

            conn.execute("BEGIN")
            assert columns.sync(conn, generation=generation()) and live() == 3
            assert not columns.sync(conn, generation=generation()) and not columns.sync(conn)
            conn.execute("COMMIT")
            backend.upsert([course(str(n), "书法入门", platform="p1") for n in range(3, 5)])
            conn.execute("BEGIN")
            assert not columns.sync(conn, generation=generation() - 1)  # told of a generation the columns hold
            assert live() == 3
            assert columns.sync(conn, generation=generation()) and live() == 5
            conn.execute("COMMIT")
    finally:
        backend.close()


def test_the_rows_a_selection_keeps_are_read_alike_through_its_mask_or_its_indices() -> None:
    rng = np.random.default_rng(17)
    values = rng.integers(-(2**40), 2**40, 5000)
    for share in (0.0, 0.01, 0.3, 0.74, 0.76, 0.99, 1.0):
        selected = rng.random(len(values)) < share
        picked = _pick(selected)
        assert picked is not None and (picked.dtype == np.bool_) == (selected.mean() > 0.75)
        assert np.array_equal(_take(values, picked), values[selected])
    assert _pick(None) is None and _take(values, None) is values


def test_counts_over_every_row_less_those_left_out_are_the_counts_of_the_rows_kept() -> None:
    rng = np.random.default_rng(23)
    codes = FacetCodes()
    with sqlite3.connect(":memory:") as conn:
        conn.execute("CREATE TABLE codes (facet TEXT, value TEXT, code INTEGER)")
        rows = [(facet, f"{facet}{code}", code) for facet in ("theme", "audience") for code in range(20)]
        rows += [
            (facet, f"{facet}{code}", code) for facet in ("platform", "media_type", "region") for code in range(1, 40)
        ]
        conn.executemany("INSERT INTO codes VALUES (?, ?, ?)", rows)
        codes.load(conn)
    columns = {
        "theme": rng.integers(0, 1 << 12, 3000),  # one bincount over the masks
        "audience": rng.integers(0, 1 << 20, 3000),  # a count per bit
        "platform": rng.integers(0, 40, 3000),
        "media_type": rng.integers(0, 3, 3000),  # 0: no value
        "is_free": rng.integers(0, 2, 3000),
    }
    columns["region"] = columns["platform"].copy()
    columns["region"][:5] = 39  # a value only rows left out hold
    columns["audience"][:5] |= 1 << 19
    for share in (0.999, 0.9, 0.5):
        kept = rng.random(3000) < share
        kept[:5] = False
        left_out = np.flatnonzero(~kept)
        for facet, column in columns.items():
            expected = _facet_counts(facet, column[kept], codes)
            assert _facet_counts(facet, column, codes, less=column[left_out]) == expected, (facet, share)
            assert _facet_counts(facet, column, codes) == _facet_counts(facet, column[np.ones(3000, bool)], codes)
