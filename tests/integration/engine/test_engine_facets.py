"""Facet counts on the tantivy engine: a mask facet (theme, audience) is counted over each record's whole mask and
split into bits afterwards; the counts must equal those of the FTS5 engine's in-memory columns on varied data,
and a facet with more distinct masks than the aggregation returns is counted over its bits instead. The
single-valued facets are counted over their codes packed into one field, and over their own fields when a code does
not fit the packing."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from indexer.analysis import parse_query
from indexer.backends.base import SearchQuery
from indexer.backends.sqlite import SqliteBackend
from indexer.backends.tantivy_schema import PACK_BITS, PACK_OVERFLOW, packed, unpacked, unpacked_codes
from indexer.backends.tantivy_search import EngineRequest, TantivySearch
from indexer.match_plan import every_term
from indexer.record import Record

THEMES = ("养生保健", "闲暇生活", "家庭理财", "法律法规", "心理健康", "职业技能", "科学文化", "代际沟通")
AUDIENCES = ("老年人", "家长", "社区居民", "在职人员", "农村居民")
TITLES = ("书法入门", "太极拳教程", "智能手机应用", "书法与太极", "中医养生", "手机摄影入门")
QUERIES = (
    SearchQuery(q="书法"),
    SearchQuery(q="入门"),
    SearchQuery(q="太极 书法"),
    SearchQuery(q="书法", themes=("养生保健", "家庭理财")),
    SearchQuery(q="入门", audience=("家长",), is_free=True),
    SearchQuery(q="手机", platforms=("p1", "p2"), themes=("闲暇生活",), audience=("老年人", "在职人员")),
)


def records(count: int, *, seed: int) -> list[Record]:
    """Records with random sets of themes and audiences (many distinct masks, some empty), platforms and prices."""
    rng = random.Random(seed)
    found = []
    for n in range(count):
        record = Record(
            uid=f"t:{n}", source="t", source_id=str(n), url=f"https://example.edu.cn/{n}",
            title=rng.choice(TITLES), platform=f"p{rng.randrange(4)}", platform_name="测试平台",
            fetched_at=datetime(2026, 11, 1, tzinfo=UTC), is_free=rng.random() < 0.6,
            themes=rng.sample(THEMES, rng.randrange(len(THEMES) + 1)),
            audience=rng.sample(AUDIENCES, rng.randrange(len(AUDIENCES) + 1)),
        )  # fmt: skip
        record.content_hash = record.compute_hash()
        found.append(record)
    return found


@pytest.fixture(scope="module")
def backends(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SqliteBackend]:
    corpus = records(400, seed=17)
    opened = {}
    for engine in ("tantivy", "fts5"):
        backend = SqliteBackend(tmp_path_factory.mktemp(engine) / "index.sqlite3", search_engine=engine)
        backend.upsert(corpus)
        opened[engine] = backend
    yield opened
    for backend in opened.values():
        backend.close()


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: f"{q.q}-{len(q.themes)}-{len(q.audience)}-{q.is_free}")
def test_facets_from_whole_masks_equal_the_in_memory_columns(
    backends: dict[str, SqliteBackend], query: SearchQuery
) -> None:
    engine, columns = backends["tantivy"].search(query), backends["fts5"].search(query)
    assert engine.total == columns.total > 0
    assert engine.facets == columns.facets
    assert len(engine.facets["theme"]) > 1 and len(engine.facets["audience"]) > 1


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: f"{q.q}-{len(q.themes)}-{len(q.audience)}-{q.is_free}")
def test_more_distinct_masks_than_buckets_are_counted_over_their_bits(
    backends: dict[str, SqliteBackend], query: SearchQuery
) -> None:
    backend = backends["tantivy"]
    backend.search(query)  # the facet columns and codes brought up to date
    search = backend._search
    engine = search._engine
    assert engine is not None
    few = TantivySearch(engine._index, codes=engine._codes, uids_of=engine._uids_of, buckets=3)
    terms = parse_query(query.q)
    conn = search._connect()
    conn.execute("BEGIN")
    try:
        request = EngineRequest(
            terms=terms, plan=every_term(len(terms)), filters=search._filters(conn, query), offset=0, limit=10,
            after=None,
        )  # fmt: skip
        counted_over_bits, usual = few.page(conn, request), engine.page(conn, request)
    finally:
        conn.execute("COMMIT")
    assert counted_over_bits.facets == usual.facets
    assert counted_over_bits.total == usual.total
    assert len(usual.facets["theme"]) > 3  # more distinct masks than 3 buckets


def test_codes_too_large_to_pack_are_counted_over_their_own_fields(tmp_path: Path) -> None:
    corpus = records(60, seed=5)
    found = {}
    for engine in ("tantivy", "fts5"):
        path = tmp_path / engine / "index.sqlite3"
        path.parent.mkdir()
        SqliteBackend(path, search_engine=engine).close()
        with sqlite3.connect(path) as conn:  # a platform whose code needs more bits than the packing gives a code
            conn.execute("INSERT INTO codes (facet, value, code) VALUES ('platform', 'p3', ?)", (1 << PACK_BITS,))
        backend = SqliteBackend(path, search_engine=engine)
        try:
            backend.upsert(corpus)
            found[engine] = [backend.search(query) for query in QUERIES]
        finally:
            backend.close()
    for engine, columns in zip(found["tantivy"], found["fts5"], strict=True):
        assert engine.total == columns.total
        assert engine.facets == columns.facets
    assert any("p3" in result.facets["platform"] for result in found["tantivy"])


def test_packed_codes_read_back_and_a_code_too_large_packs_to_the_overflow_value() -> None:
    codes = (3, 0, 1, (1 << PACK_BITS) - 1)
    assert unpacked(packed(codes)) == codes
    values = np.array([packed(codes), packed((1, 2, 0, 4))], dtype=np.int64)
    assert [unpacked_codes(values, at).tolist() for at in range(4)] == [[3, 1], [0, 2], [1, 0], [codes[3], 4]]
    assert packed((1 << PACK_BITS, 0, 1, 2)) == PACK_OVERFLOW
    assert packed((-1, 0, 1, 2)) == PACK_OVERFLOW
    assert PACK_OVERFLOW < 2**53 and float(PACK_OVERFLOW) == PACK_OVERFLOW  # what an aggregation's keys keep exactly
