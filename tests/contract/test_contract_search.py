"""Contract: filters, multi-select facets, highlights, sorts, paging, cursors, also_on and suggestions."""

from __future__ import annotations

import base64
import json
from collections import Counter
from datetime import datetime
from typing import Any

import pytest
from contract_corpus import SearchAll

from indexer.backends.base import IndexBackend, SearchQuery
from indexer.errors import QueryError
from indexer.record import Person, Record


def _uids(backend: IndexBackend, **query: Any) -> set[str]:
    return {h.record.uid for h in backend.search(SearchQuery(size=100, **query)).hits}


def _facet_oracle(records: list[Record], facet: str) -> dict[str, int]:
    """Facet counts computed straight from the corpus."""
    counts: Counter[str] = Counter()
    for r in records:
        if facet == "theme":
            counts.update(r.themes)
        elif facet == "audience":
            counts.update(r.audience)
        elif facet == "platform":
            counts[r.platform] += 1
        elif facet == "media_type" and r.media_type:
            counts[r.media_type] += 1
        elif facet == "is_free":
            counts["true" if r.is_free else "false"] += 1
    return dict(counts)


def test_theme_filter_returns_only_records_of_that_theme(loaded: IndexBackend, corpus: list[Record]) -> None:
    assert _uids(loaded, themes=("养生保健",)) == {r.uid for r in corpus if "养生保健" in r.themes}


def test_values_of_one_filter_are_or_ed_and_filters_are_and_ed(loaded: IndexBackend, corpus: list[Record]) -> None:
    themes = {"家庭理财", "法律法规"}
    expected = {r.uid for r in corpus if themes & set(r.themes) and r.platform == "lndx" and "老年人" in r.audience}
    found = _uids(loaded, themes=tuple(themes), platforms=("lndx",), audience=("老年人",))
    assert found == expected and len(expected) >= 2


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        ({"is_free": False}, lambda r: not r.is_free),
        ({"is_free": True}, lambda r: r.is_free),
        ({"media_types": ("audio", "ebook")}, lambda r: r.media_type in ("audio", "ebook")),
        ({"record_types": ("live", "article")}, lambda r: r.record_type in ("live", "article")),
        ({"audience": ("家长",)}, lambda r: "家长" in r.audience),
        ({"platforms": ("smartedu",), "q": "书法"}, lambda r: r.source_id in ("sf3", "sf5")),
    ],
)
def test_each_filter_keeps_only_matching_records(
    loaded: IndexBackend, corpus: list[Record], query: dict[str, Any], keep: Any
) -> None:
    expected = {r.uid for r in corpus if keep(r)}
    assert expected and _uids(loaded, **query) == expected


def test_filter_on_an_unknown_value_finds_nothing(loaded: IndexBackend) -> None:
    assert loaded.search(SearchQuery(themes=("不存在的主题",))).total == 0
    assert loaded.search(SearchQuery(platforms=("nowhere",), q="书法")).total == 0


def test_browse_facets_count_the_whole_catalogue(loaded: IndexBackend, corpus: list[Record]) -> None:
    result = loaded.search(SearchQuery(size=1))
    assert result.total == len(corpus)
    for facet in ("theme", "platform", "audience", "media_type", "is_free"):
        assert result.facets[facet] == _facet_oracle(corpus, facet), facet


def test_each_facet_applies_every_filter_but_its_own(loaded: IndexBackend, corpus: list[Record]) -> None:
    result = loaded.search(SearchQuery(themes=("养生保健",), platforms=("lndx",), size=1))
    in_lndx = [r for r in corpus if r.platform == "lndx"]
    in_theme = [r for r in corpus if "养生保健" in r.themes]
    both = [r for r in in_theme if r.platform == "lndx"]
    assert result.total == len(both)
    assert result.facets["theme"] == _facet_oracle(in_lndx, "theme")
    assert result.facets["platform"] == _facet_oracle(in_theme, "platform")
    assert result.facets["audience"] == _facet_oracle(both, "audience")
    assert result.facets["is_free"] == _facet_oracle(both, "is_free")


def test_facets_of_a_text_query_count_all_its_hits(loaded: IndexBackend, search_all: SearchAll) -> None:
    records = [h.record for h in search_all(q="入门", media_types=("video",))]
    result = loaded.search(SearchQuery(q="入门", media_types=("video",)))
    assert result.total == len(records)
    assert result.facets["platform"] == _facet_oracle(records, "platform")
    assert result.facets["theme"] == _facet_oracle(records, "theme")
    assert sum(result.facets["media_type"].values()) >= len(records)


def test_facets_can_be_skipped(loaded: IndexBackend) -> None:
    result = loaded.search(SearchQuery(q="书法", with_facets=False))
    assert result.facets == {} and result.total == loaded.search(SearchQuery(q="书法")).total


def test_highlight_marks_the_matched_word_in_title_and_description(loaded: IndexBackend, uid: dict[str, str]) -> None:
    hits = {h.record.uid: h for h in loaded.search(SearchQuery(q="养生", size=20)).hits}
    assert hits[uid["ys1"]].highlight["title"] == "中医<mark>养生</mark>保健知识"
    assert "<mark>养生</mark>" in hits[uid["ys1"]].highlight["description"]


def test_highlight_escapes_third_party_html(loaded: IndexBackend, uid: dict[str, str]) -> None:
    hit = next(h for h in loaded.search(SearchQuery(q="书法", size=20)).hits if h.record.uid == uid["ht1"])
    title, description = hit.highlight["title"], hit.highlight["description"]
    assert title == "&lt;script&gt;alert(1)&lt;/script&gt;<mark>书法</mark>讲座"
    assert "<b>" not in description and "&lt;b&gt;" in description and "&amp;" in description
    assert "&quot;" in description and "<mark>书法</mark>" in description


def test_description_snippet_is_a_window_around_the_first_match(loaded: IndexBackend, uid: dict[str, str]) -> None:
    hit = next(h for h in loaded.search(SearchQuery(q="养生", size=20)).hits if h.record.uid == uid["ht2"])
    snippet = hit.highlight["description"]
    assert "<mark>养生</mark>" in snippet
    plain = snippet.replace("<mark>", "").replace("</mark>", "").strip("…")
    assert 100 <= len(plain) <= 130
    assert snippet.startswith("…") and snippet.endswith("…")
    assert hit.highlight["title"] == "安全 &amp; 健康 &lt;课堂&gt;"


def _effective_date(r: Record) -> datetime:
    return r.published_at or r.updated_at or r.fetched_at


def test_newest_sort_orders_by_published_then_updated_then_fetched(loaded: IndexBackend, search_all: SearchAll) -> None:
    records = [h.record for h in search_all(sort="newest")]
    dates = [_effective_date(r) for r in records]
    assert dates == sorted(dates, reverse=True) and len(records) == loaded.count()


def test_popular_sort_orders_by_learner_count_unknown_last(loaded: IndexBackend, search_all: SearchAll) -> None:
    counts = [h.record.learner_count for h in search_all(sort="popular")]
    known = [c for c in counts if c is not None]
    assert known == sorted(known, reverse=True)
    assert counts[len(known) :] == [None] * (len(counts) - len(known)) and len(known) < len(counts)


def test_relevance_ranks_title_matches_above_description_matches(loaded: IndexBackend, uid: dict[str, str]) -> None:
    hits = loaded.search(SearchQuery(q="古琴")).hits
    assert [h.record.uid for h in hits] == [uid["gq1"], uid["gq3"]]
    assert hits[0].score > hits[1].score


def test_empty_query_browses_newest_first(loaded: IndexBackend) -> None:
    assert loaded.search(SearchQuery()).hits == loaded.search(SearchQuery(sort="newest")).hits


def test_pages_follow_each_other_without_overlap(loaded: IndexBackend) -> None:
    for sort in ("relevance", "newest", "popular"):
        whole = [h.record.uid for h in loaded.search(SearchQuery(q="入门", sort=sort, size=6)).hits]
        pages = [loaded.search(SearchQuery(q="入门", sort=sort, size=3, page=p)).hits for p in (1, 2)]
        assert [h.record.uid for page in pages for h in page] == whole, sort


@pytest.mark.parametrize("sort", ["relevance", "newest", "popular"])
@pytest.mark.parametrize("q", ["", "入门", "老年人"])
def test_cursor_paging_returns_every_record_exactly_once(
    loaded: IndexBackend, search_all: SearchAll, sort: str, q: str
) -> None:
    uids = [h.record.uid for h in search_all(q=q, sort=sort)]
    assert len(uids) == len(set(uids)) == loaded.search(SearchQuery(q=q, sort=sort)).total
    first_page = [h.record.uid for h in loaded.search(SearchQuery(q=q, sort=sort, size=4)).hits]
    assert uids[:4] == first_page


def test_records_of_one_score_page_by_uid_by_cursor_and_by_page(backend: IndexBackend) -> None:
    from contract_corpus import make_record

    platforms = ["le_ouchn", "lndx", "smartedu"]
    same = [make_record(f"jz{n:02d}", "剪纸艺术", platform=platforms[n % 3]) for n in range(14)]
    backend.upsert(same)
    expected = sorted(r.uid for r in same)
    by_page = [h.record.uid for p in range(1, 6) for h in backend.search(SearchQuery(q="剪纸", size=3, page=p)).hits]
    assert by_page == expected
    by_cursor: list[str] = []
    cursor = None
    for _ in range(5):
        result = backend.search(SearchQuery(q="剪纸", size=3, cursor=cursor))
        by_cursor += [h.record.uid for h in result.hits]
        assert len({h.score for h in result.hits}) <= 1
        if (cursor := result.next_cursor) is None:
            break
    assert by_cursor == expected


def test_last_page_has_no_cursor(loaded: IndexBackend) -> None:
    result = loaded.search(SearchQuery(q="理财", size=10))
    assert result.total == 2 and result.next_cursor is None


def _cursor(body: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    ["garbage!!", "e30", "bm90IGpzb24", _cursor([1, 2]), _cursor({"v": 1, "s": "newest", "k": "x", "u": "a"}),
     _cursor({"v": 1, "s": "newest", "k": 1, "u": 5}), _cursor({"v": 9, "s": "newest", "k": 1, "u": "a"}),
     _cursor({"v": 1, "s": "popular", "k": 1, "u": "a"}), "x" * 5000],
)  # fmt: skip
def test_bad_cursor_raises_query_error_naming_the_cursor(loaded: IndexBackend, cursor: str) -> None:
    with pytest.raises(QueryError) as caught:
        loaded.search(SearchQuery(sort="newest", cursor=cursor))
    assert caught.value.field == "cursor"


def test_tampered_cursor_raises_query_error(loaded: IndexBackend) -> None:
    cursor = loaded.search(SearchQuery(sort="newest", size=2)).next_cursor
    assert cursor is not None
    with pytest.raises(QueryError):
        loaded.search(SearchQuery(sort="newest", cursor=cursor[:-3] + "%%%"))


@pytest.mark.parametrize(
    ("query", "field"), [({"sort": "random"}, "sort"), ({"page": 0}, "page"), ({"size": 0}, "size")]
)
def test_bad_paging_parameters_raise_query_error(loaded: IndexBackend, query: dict[str, Any], field: str) -> None:
    with pytest.raises(QueryError) as caught:
        loaded.search(SearchQuery(**query))
    assert caught.value.field == field


def test_also_on_lists_the_same_course_on_other_platforms(loaded: IndexBackend, uid: dict[str, str]) -> None:
    hits = {h.record.uid: h for h in loaded.search(SearchQuery(q="书法", size=20)).hits}
    assert {r.uid for r in hits[uid["sf1"]].also_on} == {uid["sf4"], uid["sf5"]}
    assert {r.platform for r in hits[uid["sf4"]].also_on} == {"le_ouchn", "smartedu"}
    assert hits[uid["sf2"]].also_on == []


def test_also_on_leaves_out_records_of_the_same_platform(backend: IndexBackend, corpus: list[Record]) -> None:
    from contract_corpus import make_record

    twin = make_record("sf1b", "书法入门（重播）", instructors=[Person(name="王明")])
    backend.upsert([*corpus, twin])
    hit = next(h for h in backend.search(SearchQuery(q="书法入门", size=20)).hits if h.record.uid == twin.uid)
    assert {r.platform for r in hit.also_on} == {"lndx", "smartedu"}


def test_also_on_lists_the_first_five_of_other_platforms_by_uid(backend: IndexBackend, corpus: list[Record]) -> None:
    """Also when one platform alone holds more than five of the cluster and several hits of a page share it."""
    from contract_corpus import make_record

    twins = [
        make_record(f"sf1{n}", "书法入门（重播）", instructors=[Person(name="王明")], platform=platform)
        for n, platform in enumerate(["le_ouchn"] * 6 + ["lndx", "smartedu"])
    ]
    backend.upsert([*corpus, *twins])
    stored = {r.uid: r for r in backend.iter_records()}
    per_platform = Counter((r.cluster_id, r.platform) for r in stored.values() if r.cluster_id)
    assert max(per_platform.values()) > 5
    hits = [h for h in backend.search(SearchQuery(q="书法入门", size=50)).hits if h.record.cluster_id]
    assert len(hits) > 5
    for hit in hits:
        record = hit.record
        others = sorted(
            u for u, r in stored.items() if r.cluster_id == record.cluster_id and r.platform != record.platform
        )
        assert [(r.uid, r.url) for r in hit.also_on] == [(u, stored[u].url) for u in others[:5]]


def test_suggest_completes_a_prefix_most_popular_first(loaded: IndexBackend) -> None:
    assert loaded.suggest("书法入门", limit=8)[:2] == ["书法入门：楷书基础", "书法入门"]
    assert loaded.suggest("书", limit=2) == ["书法入门：楷书基础", "书法入门"]


def test_suggest_folds_the_prefix_and_accepts_pinyin(loaded: IndexBackend) -> None:
    assert "書法欣賞與臨摹" in loaded.suggest("书法欣")
    assert "中医养生保健知识" in loaded.suggest("zhongyi")


def test_suggest_also_offers_titles_containing_the_text(loaded: IndexBackend) -> None:
    found = loaded.suggest("太极拳")
    assert {"二十四式太极拳", "陈式太极拳入门"} <= set(found)
    assert loaded.suggest("") == [] and loaded.suggest("量子") == []
