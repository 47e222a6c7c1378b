"""bench_engines' bare tantivy index answers like the SQLite index it is built from (a tiny generated corpus)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bench.bare_tantivy import FACETS, BareTantivy, ensure_built
from bench.bench_engines import INDEX_NAME, column_http, keep_fts5_index, parse_args, search_query, text_only
from bench.search_mix import BROWSE, FILTERED, Plans, label, query_set
from indexer.backends.base import SearchQuery
from indexer.backends.sqlite import SqliteBackend
from tests.support.generated_index import write_generated_index

COUNT = 400


def test_bare_tantivy_finds_what_fts5_finds_and_counts_facets_as_the_backend(tmp_path: Path) -> None:
    index, directory = tmp_path / "index.sqlite3", tmp_path / "tantivy"
    write_generated_index(index, COUNT)  # the tantivy engine: the file keeps no FTS5 index
    keep_fts5_index(index)  # as bench_engines.prepare does: the plans and the bare FTS5 column read it
    backend = SqliteBackend(index, search_engine="fts5")
    try:
        assert ensure_built(index, directory)["documents"] == COUNT
        assert ensure_built(index, directory)["built"] is False  # stamped for this file: kept
        plans = Plans(index)
        tantivy = BareTantivy(directory, plans=plans)
        conn = sqlite3.connect(index)
        try:
            texts = text_only([params for _, params in query_set()])
            sql = "SELECT count(*) FROM fts WHERE fts MATCH ?"
            fts5 = {label(p): conn.execute(sql, (plans.match(dict(p)["q"]),)).fetchone()[0] for p in texts}
        finally:
            conn.close()
            plans.close()
        assert {label(p): tantivy.answer(p, with_facets=False)["total"] for p in texts} == fts5
        assert sum(fts5.values()) > COUNT  # the words are there: common ones match most records
        for params in BROWSE + FILTERED[:3]:
            found = backend.search(search_query(params, facets=True, query_type=SearchQuery))
            answer = tantivy.answer(params)
            assert answer["total"] == found.total, label(params)
            assert answer["facets"] == {facet: found.facets.get(facet) for facet in FACETS}, label(params)
        by_mask = BareTantivy(directory, plans=Plans(index), masks=True)
        for _, params in query_set():  # theme and audience counted over whole masks: the same counts
            assert by_mask.answer(params) == tantivy.answer(params), label(params)
        by_mask.plans.close()
    finally:
        backend.close()


def test_the_http_column_shares_its_mix_among_several_api_processes(tmp_path: Path) -> None:
    write_generated_index(tmp_path / INDEX_NAME, COUNT)
    argv = ["--data-dir", str(tmp_path), "--repeats", "1", "--clients", "4", "--requests", "24", "--seconds", "60"]
    one = column_http(parse_args(argv), "tantivy")
    two = column_http(parse_args([*argv, "--api-processes", "2"]), "tantivy")
    assert (one["api_processes"], one["mix_clients_per_process"]) == (1, [4])
    assert (two["api_processes"], two["mix_clients_per_process"]) == (2, [2, 2])
    assert one["mix"]["error_count"] == two["mix"]["error_count"] == 0
    assert one["mix"]["latency_ms"]["all"]["n"] == two["mix"]["latency_ms"]["all"]["n"] == 24
    assert two["answers"] == one["answers"] and any(answer["total"] for answer in one["answers"].values())
