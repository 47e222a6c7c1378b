"""The search API: text search, filters, facets, sorting, page and cursor paging, suggestions, health."""

from __future__ import annotations

from collections import Counter

import httpx

from config.themes import THEMES
from tests.integration.api.catalogue import PAGING_COUNT, PAGING_THEME, sample_records

RECORDS = sample_records()
ITEM_KEYS = {
    "id", "title", "subtitle", "description", "url", "platform", "platform_name", "provider", "themes",
    "audience", "media_type", "record_type", "learner_count", "lesson_count", "is_free", "highlight",
    "also_on", "missing", "region",
}  # fmt: skip


def _mentions(word: str) -> set[str]:
    return {r.uid for r in RECORDS if word in r.title or word in (r.description or "") or word in r.tags}


def test_search_finds_every_record_mentioning_a_chinese_word_with_highlights(client: httpx.Client) -> None:
    body = client.get("/api/v1/search", params={"q": "书法", "size": 50, "collapse": "false"}).json()
    assert body["total"] == len(_mentions("书法")) and body["merged"] == 0
    assert {item["id"] for item in body["items"]} == _mentions("书法")
    titled = [item for item in body["items"] if "书法" in item["title"] and "<" not in item["title"]]
    assert titled and all("<mark>书法</mark>" in item["highlight"]["title"] for item in titled)


def test_search_items_have_the_documented_shape(client: httpx.Client) -> None:
    body = client.get("/api/v1/search", params={"q": "太极拳"}).json()
    assert set(body) == {"total", "items", "facets", "next_cursor", "relaxed", "theme_only", "merged", "page", "size"}
    assert set(body["facets"]) == {"theme", "platform", "audience", "media_type", "is_free", "region"}
    item = body["items"][0]
    assert set(item) == ITEM_KEYS
    assert set(item["highlight"]) == {"title", "description"}
    assert item["platform_name"] == "国家老年大学"
    assert item["region"] == {"province": "广东", "city": "广州市"}


def test_region_filter_keeps_that_province_by_any_of_its_names(client: httpx.Client) -> None:
    expected = {r.uid for r in RECORDS if r.region.get("province") == "广东"}
    for name in ("广东", "广东省", "guangdong"):
        body = client.get("/api/v1/search", params={"region": name, "size": 50}).json()
        assert {item["id"] for item in body["items"]} == expected and len(expected) == 2, name
    both = client.get("/api/v1/search", params=[("region", "广东"), ("region", "浙江"), ("size", "50")]).json()
    assert {item["id"] for item in both["items"]} == expected | {"shequ:2"}


def test_region_facet_counts_provinces_with_the_other_filters_applied(client: httpx.Client) -> None:
    body = client.get("/api/v1/search", params={"region": "浙江", "theme": "闲暇生活", "size": 1}).json()
    assert body["total"] == 0
    assert body["facets"]["region"] == {"广东": 1}  # the region facet ignores the region filter itself


def test_unknown_region_is_a_422_listing_the_provinces(client: httpx.Client) -> None:
    response = client.get("/api/v1/search", params={"region": "火星"})
    assert response.status_code == 422
    [detail] = response.json()["error"]["details"]
    assert detail["field"] == "region" and "火星" in detail["reason"] and "内蒙古" in detail["reason"]


def test_highlight_snippets_escape_markup_from_third_party_titles(client: httpx.Client) -> None:
    body = client.get("/api/v1/search", params={"q": "书法", "platform": "shequ"}).json()
    [item] = body["items"]
    assert item["title"] == "<script>alert(1)</script>"
    assert "<script" not in item["highlight"]["title"] and "&lt;script&gt;" in item["highlight"]["title"]
    assert "<img" not in item["highlight"]["description"]


def test_one_theme_filter_keeps_only_that_theme(client: httpx.Client) -> None:
    body = client.get("/api/v1/search", params={"theme": "养生保健", "size": 50}).json()
    expected = {r.uid for r in RECORDS if "养生保健" in r.themes}
    assert {item["id"] for item in body["items"]} == expected
    assert body["total"] == len(expected)


def test_repeated_theme_filters_are_ored(client: httpx.Client) -> None:
    params = [("theme", "养生保健"), ("theme", "法律法规"), ("size", "50")]
    body = client.get("/api/v1/search", params=params).json()
    assert {item["id"] for item in body["items"]} == {
        r.uid for r in RECORDS if {"养生保健", "法律法规"} & set(r.themes)
    }


def test_different_filters_are_anded(client: httpx.Client) -> None:
    params = {"theme": "闲暇生活", "platform": "lndx", "size": 50}
    body = client.get("/api/v1/search", params=params).json()
    assert {item["id"] for item in body["items"]} == {
        r.uid for r in RECORDS if "闲暇生活" in r.themes and r.platform == "lndx"
    }


def test_free_filter_false_finds_paid_courses_only(client: httpx.Client) -> None:
    body = client.get("/api/v1/search", params={"free": "false"}).json()
    assert {item["id"] for item in body["items"]} == {r.uid for r in RECORDS if not r.is_free}


def test_facets_count_each_value_with_the_other_filters_applied(client: httpx.Client) -> None:
    body = client.get("/api/v1/search", params={"theme": "闲暇生活", "size": 1}).json()
    in_theme = [r for r in RECORDS if "闲暇生活" in r.themes]
    assert body["facets"]["platform"] == dict(Counter(r.platform for r in in_theme))
    # the theme facet ignores the theme filter itself, so other themes still show their counts
    assert body["facets"]["theme"] == dict(Counter(t for r in RECORDS for t in r.themes))


def test_the_same_course_on_another_platform_is_listed_in_also_on(client: httpx.Client) -> None:
    body = client.get("/api/v1/search", params={"q": "楷书", "platform": "le_ouchn"}).json()
    [item] = body["items"]
    assert item["also_on"] == [
        {
            "platform": "lndx",
            "platform_name": "国家老年大学",
            "url": "https://lndx.example.cn/course/1",
            "id": "lndx:1",
        }
    ]


def test_the_same_course_on_two_platforms_is_one_item_unless_collapse_is_false(client: httpx.Client) -> None:
    word = "书法"
    body = client.get("/api/v1/search", params={"q": word, "size": 50}).json()
    ids = [item["id"] for item in body["items"]]
    assert body["total"] == len(_mentions(word)) and body["merged"] == len(_mentions(word)) - len(ids) == 1
    [kept] = [item for item in body["items"] if item["also_on"]]
    [other] = kept["also_on"]
    assert {kept["id"], other["id"]} == {"le_ouchn:1", "lndx:1"} and other["id"] not in ids
    assert set(ids) | {other["id"]} == _mentions(word)
    every = client.get("/api/v1/search", params={"q": word, "size": 50, "collapse": "false"}).json()
    assert {item["id"] for item in every["items"]} == _mentions(word) and every["merged"] == 0
    # with one platform filtered out, nothing is left to merge
    one = client.get("/api/v1/search", params={"q": word, "size": 50, "platform": ["le_ouchn", "shequ"]}).json()
    assert one["merged"] == 0 and "le_ouchn:1" in {item["id"] for item in one["items"]}


def test_words_no_record_holds_together_give_the_records_holding_some_of_them(client: httpx.Client) -> None:
    both = client.get("/api/v1/search", params={"q": "书法 理财", "size": 50, "collapse": "false"}).json()
    assert both["relaxed"] is True
    assert {item["id"] for item in both["items"]} == _mentions("书法") | _mentions("理财")
    assert client.get("/api/v1/search", params={"q": "书法"}).json()["relaxed"] is False


def test_collapse_must_be_true_or_false(client: httpx.Client) -> None:
    response = client.get("/api/v1/search", params={"q": "书法", "collapse": "maybe"})
    assert response.status_code == 422
    assert response.json()["error"]["details"] == [{"field": "collapse", "reason": "must be true or false"}]


def test_empty_query_browses_the_whole_catalogue(client: httpx.Client) -> None:
    body = client.get("/api/v1/search").json()
    assert body["total"] == len(RECORDS)
    assert body["size"] == 10 and len(body["items"]) + body["merged"] == 10 and body["next_cursor"]


def test_following_next_cursor_visits_every_record_once(client: httpx.Client) -> None:
    seen: list[str] = []
    params: dict[str, str | int] = {"theme": PAGING_THEME, "size": 5}
    for _ in range(20):
        body = client.get("/api/v1/search", params=params).json()
        seen += [item["id"] for item in body["items"]]
        if body["next_cursor"] is None:
            break
        params = {**params, "cursor": body["next_cursor"]}
    expected = {r.uid for r in RECORDS if PAGING_THEME in r.themes}
    assert len(expected) > PAGING_COUNT
    assert len(seen) == len(set(seen)) == len(expected)
    assert set(seen) == expected


def test_page_two_continues_where_page_one_ends(client: httpx.Client) -> None:
    params = {"theme": PAGING_THEME, "size": 5, "sort": "popular"}
    first = client.get("/api/v1/search", params=params).json()
    second = client.get("/api/v1/search", params={**params, "page": 2}).json()
    both = client.get("/api/v1/search", params={**params, "size": 10}).json()
    assert second["page"] == 2
    assert [i["id"] for i in first["items"] + second["items"]] == [i["id"] for i in both["items"]]


def test_sort_popular_orders_by_learner_count(client: httpx.Client) -> None:
    body = client.get("/api/v1/search", params={"sort": "popular", "size": 50}).json()
    counts = [item["learner_count"] for item in body["items"]]
    assert counts == sorted(counts, reverse=True)
    assert counts[0] == max(r.learner_count or 0 for r in RECORDS)


def test_sort_newest_puts_the_latest_update_first(client: httpx.Client) -> None:
    body = client.get("/api/v1/search", params={"sort": "newest", "size": 3, "collapse": "false"}).json()
    newest = sorted(RECORDS, key=lambda r: r.updated_at or r.fetched_at, reverse=True)[:3]
    assert [item["id"] for item in body["items"]] == [r.uid for r in newest]


def test_every_theme_can_be_browsed(client: httpx.Client) -> None:
    for theme in THEMES:
        response = client.get("/api/v1/search", params={"theme": theme})
        assert response.status_code == 200
        assert response.json()["total"] == sum(theme in r.themes for r in RECORDS)


def test_suggest_completes_a_prefix_with_titles(client: httpx.Client) -> None:
    body = client.get("/api/v1/suggest", params={"q": "书法"}).json()
    assert body["q"] == "书法"
    assert "书法入门：楷书基本笔画" in body["suggestions"]
    assert all("书法" in s for s in body["suggestions"])


def test_suggest_of_nothing_is_an_empty_list(client: httpx.Client) -> None:
    assert client.get("/api/v1/suggest", params={"q": "  "}).json() == {"q": "", "suggestions": []}


def test_health_reports_the_record_count_and_backend(client: httpx.Client) -> None:
    body = client.get("/api/v1/health").json()
    assert body["status"] == "ok"
    assert body["records"] == len(RECORDS)
    assert body["backend"] == "sqlite"
    assert body["version"]


def test_record_endpoint_returns_lessons_and_evidence_without_raw(client: httpx.Client) -> None:
    body = client.get("/api/v1/records/le_ouchn:1").json()
    assert body["id"] == body["uid"] == "le_ouchn:1"
    assert [lesson["title"] for lesson in body["lessons"]] == ["握笔与坐姿", "横与竖"]
    assert "theme_evidence" in body and "raw" not in body
    assert body["instructors"] == [{"name": "王老师", "title": None, "org": None}]


def test_record_endpoint_includes_raw_payload_on_request(client: httpx.Client) -> None:
    body = client.get("/api/v1/records/le_ouchn:1", params={"include": "raw"}).json()
    assert body["raw"] == {"fields": {"title": "书法入门：楷书基本笔画"}, "payload": {"Id": "1"}}


def test_openapi_documents_the_search_endpoint(client: httpx.Client) -> None:
    schema = client.get("/openapi.json").json()
    params = {p["name"] for p in schema["paths"]["/api/v1/search"]["get"]["parameters"]}
    assert {
        "q",
        "theme",
        "audience",
        "platform",
        "type",
        "media_type",
        "free",
        "sort",
        "page",
        "size",
        "cursor",
    } <= params
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
