"""bench_engines' own logic: the invisible query suffixes, the comparison of answers and the side-by-side table."""

from __future__ import annotations

from bench.bench_engines import suffix, varied
from bench.engines_table import BARE_TANTIVY, compared, ratio, table
from bench.search_mix import percentiles
from indexer.analysis import parse_query
from indexer.query_vocabulary import bundled_vocabulary


def test_suffixes_differ_for_511_requests_in_a_row_and_the_parser_drops_them() -> None:
    suffixes = [suffix(n) for n in range(1, 512)]
    assert len(set(suffixes)) == 511 and suffix(512) == suffix(1)
    vocabulary = bundled_vocabulary()
    for q in ("老年", "太极拳 入门", "shufa", "茶"):
        assert parse_query(q + suffix(300), vocabulary=vocabulary) == parse_query(q, vocabulary=vocabulary)


def test_a_query_without_text_gets_its_suffix_as_the_text_and_keeps_its_filters() -> None:
    assert varied([("theme", "养生保健")], 3) == [("q", suffix(3)), ("theme", "养生保健")]
    assert varied([("q", "书法"), ("page", "2")], 3) == [("q", "书法" + suffix(3)), ("page", "2")]


def test_percentiles_are_nearest_rank() -> None:
    found = percentiles([float(v) for v in range(1, 101)])
    assert (found["n"], found["p50"], found["p90"], found["p99"], found["max"]) == (100, 51.0, 91.0, 100.0, 100.0)
    assert percentiles([]) == {}


def test_totals_and_the_reference_facets_are_compared_and_extra_facets_are_not() -> None:
    reference = {
        "q=书法": {"total": 5, "facets": {"theme": {"闲暇生活": 5}}},
        "q=茶": {"total": 2, "facets": {"theme": {"闲暇生活": 2}}},
        "q=京剧": {"total": 1, "facets": {"theme": {"闲暇生活": 1}}},
    }
    other = {
        "q=书法": {"total": 5, "facets": {"theme": {"闲暇生活": 5}, "region": {}}},  # a facet tantivy has not
        "q=茶": {"total": 3, "facets": {"theme": {"闲暇生活": 3}}},
        "q=京剧": {"total": 1},  # a bare FTS5 answer: the total only
    }
    found = compared(reference, other)
    assert (found["queries"], found["agree"]) == (3, 2)
    assert [(d["query"], d["field"]) for d in found["disagreements"]] == [("q=茶", "total"), ("q=茶", "facets")]


def test_the_table_gives_each_column_its_ratio_to_bare_tantivy_and_marks_missing_engines() -> None:
    tantivy = {
        "one_client": {"common_facets": {"p50": 32.5, "p99": 95.2}},
        "mix": {"throughput_rps": 142.0, "latency_ms": {"all": {"p50": 50.0, "p99": 345.0}}},
        "disk_mb": 655.0,
        "rss_after_mix_mb": 243.0,
    }
    fts5 = {
        "one_client": {"common_facets": {"p50": 654.0, "p99": 2037.0}},
        "mix": {"throughput_rps": 16.0, "latency_ms": {"all": {"p50": 900.0, "p99": 6700.0}}, "error_count": 0},
        "disk_mb": 3584.0,
        "rss_after_mix_mb": 3300.0,
        "compared": {"queries": 37, "agree": 37, "disagreements": []},
    }
    rendered = table([(BARE_TANTIVY, tantivy), ("edufed fts5", fts5), ("edufed tantivy", {"pending": "not here"})])
    cells = [line.removeprefix("| ").removesuffix(" |").split(" | ") for line in rendered.splitlines()[2:]]
    rows = {first: rest for first, *rest in cells}
    common = rows["common words (老年, 健康, 手机, 入门, 养生) with facets, p50 / p99"]
    assert common == ["32.5 / 95.2 ms", "654 / 2,037 ms (20× / 21×)", "pending"]
    mix = rows["8 clients, full query mix: throughput, p50 / p99"]
    assert mix[1] == "16.0 req/s, p50 900 / p99 6,700 ms (8.9× / 19×)"
    assert rows["disk"][:2] == ["655 MB", "3.50 GB (5.5×)"]
    assert rows["RSS after the mix"][1] == "3.22 GB (14×)"
    assert rows["totals and facets as bare tantivy's"][1] == "37 of 37 queries"
    assert rows["browse (no query), p50 / p99"][:2] == ["—", "—"]
    assert ratio(27.0, 51.0) == "0.53×" and ratio(None, 51.0) == ""
