"""The learner's phone flow as HTML: results first after a search, one action per card, counts that match the cards,
back links that keep the search, pages past the end, empty themes, missing words; /docs and /redoc offline."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
from lxml import html as lxml_html

from tests.integration.api.catalogue import PAGING_COUNT, PAGING_THEME, sample_records

RECORDS = {r.uid: r for r in sample_records()}


def page(client: httpx.Client, url: str, **params: object) -> lxml_html.HtmlElement:
    response = client.get(url, params=params) if params else client.get(url)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    return lxml_html.fromstring(response.text)


def text(doc: lxml_html.HtmlElement) -> str:
    return " ".join(doc.text_content().split())


def test_after_a_search_themes_sort_and_filters_fold_under_one_closed_switch(client: httpx.Client) -> None:
    doc = page(client, "/", q="书法")
    [fold] = doc.cssselect("details.refine")
    assert fold.get("open") is None
    assert fold.cssselect(".themes") and fold.cssselect(".sort-row") and fold.cssselect(".facet-link")
    assert not [n for n in doc.cssselect(".themes, .sort-row") if not n.xpath("ancestor::details")]
    # results come before the fold's contents in the page, right after the count
    assert doc.cssselect(".result-count") and doc.cssselect("li.result")
    home = page(client, "/")
    assert not home.cssselect("details.refine")
    assert not home.cssselect(".themes")[0].xpath("ancestor::details")


def test_each_result_card_has_one_primary_action(client: httpx.Client) -> None:
    doc = page(client, "/", q="书法")
    cards = doc.cssselect("li.result")
    assert cards
    for card in cards:
        assert len(card.cssselect("a.button-primary")) == 1
        assert not card.cssselect(".button-secondary")
        assert card.cssselect(".result-title a")[0].get("href").startswith("/records/")


def test_record_links_carry_the_search_and_the_record_page_leads_back_to_it(client: httpx.Client) -> None:
    search = {"q": "摄影", "theme": PAGING_THEME, "sort": "popular", "page": "2", "size": "10"}
    doc = page(client, "/", **search)
    href = doc.cssselect(".result-title a")[0].get("href")
    assert parse_qs(urlsplit(href).query) == {k: [v] for k, v in search.items()}
    record = page(client, href)
    [back] = record.cssselect(".back a")
    assert back.text.strip() == "← 回到搜索结果"
    assert parse_qs(urlsplit(back.get("href")).query) == {k: [v] for k, v in search.items()}
    assert record.cssselect("link[rel=canonical]")[0].get("href") == urlsplit(href).path
    again = page(client, back.get("href"))
    assert [a.get("href") for a in again.cssselect(".result-title a")] == [
        a.get("href") for a in doc.cssselect(".result-title a")
    ]


def test_a_record_page_back_link_stays_on_this_site_and_keeps_only_search_parameters(client: httpx.Client) -> None:
    doc = page(client, "/records/le_ouchn:1?q=书法&next=https://evil.example/&theme=闲暇生活&x=1")
    back = doc.cssselect(".back a")[0].get("href")
    assert back.startswith("/?") and parse_qs(urlsplit(back).query) == {"q": ["书法"], "theme": ["闲暇生活"]}
    odd = page(client, "/records/le_ouchn:1?q=书法&page=二&size=-1").cssselect(".back a")[0].get("href")
    assert parse_qs(urlsplit(odd).query) == {"q": ["书法"]}
    plain = page(client, "/records/le_ouchn:1")
    assert plain.cssselect(".back a")[0].get("href") == "/"


def test_the_count_matches_the_cards_when_duplicates_are_merged(client: httpx.Client) -> None:
    doc = page(client, "/", q="书法")
    body = client.get("/api/v1/search", params={"q": "书法"}).json()
    assert body["merged"] == 1 and body["next_cursor"] is None
    cards = doc.cssselect("li.result")
    assert len(cards) == body["total"] - 1
    assert f"共找到 {len(cards)} 门课程" in text(doc)


def test_a_page_past_the_end_says_so_once_and_links_to_the_last_page(client: httpx.Client) -> None:
    doc = page(client, "/", q="书法", page=99)
    body = text(doc)
    assert "第 99 页已经没有课程了" in body
    assert "共找到" not in body and "没有找到" not in body
    [last] = [a for a in doc.cssselect("a") if "最后一页" in a.text_content()]
    assert parse_qs(urlsplit(last.get("href")).query) == {"q": ["书法"]}
    assert page(client, last.get("href")).cssselect("li.result")
    themed = page(client, "/", theme=PAGING_THEME, size=10, page=7)
    pages = -(-(PAGING_COUNT + 1) // 10)
    [last] = [a for a in themed.cssselect("a") if "最后一页" in a.text_content()]
    assert parse_qs(urlsplit(last.get("href")).query)["page"] == [str(pages)]
    assert not themed.cssselect(".pager")


def test_theme_chips_with_no_hit_for_the_query_are_shown_with_zero_and_not_linked(client: httpx.Client) -> None:
    doc = page(client, "/", q="书法")
    linked = {a.text_content().split()[0] for a in doc.cssselect(".themes a.chip")}
    empty = {" ".join(s.text_content().split()) for s in doc.cssselect(".themes span.chip-empty")}
    assert linked == {"闲暇生活"}
    assert "家庭理财0（没有相关课程）" in empty and len(empty) == 9


def test_a_card_names_the_words_its_course_lacks(client: httpx.Client) -> None:
    body = client.get("/api/v1/search", params={"q": "书法 理财", "size": 50}).json()
    lacking = {item["id"]: item["missing"] for item in body["items"]}
    assert lacking["shequ:2"] == ["书法"] and lacking["lndx:2"] == ["理财"]
    doc = page(client, "/", q="书法 理财", size=50)
    notes = {
        urlsplit(card.cssselect(".result-title a")[0].get("href")).path: card.cssselect(".result-missing")[0].text
        for card in doc.cssselect("li.result")
    }
    assert notes["/records/shequ:2"] == "未包含：书法" and notes["/records/lndx:2"] == "未包含：理财"
    assert client.get("/api/v1/search", params={"q": "书法"}).json()["items"][0]["missing"] == []
    assert not page(client, "/", q="书法").cssselect(".result-missing")


def test_docs_and_redoc_load_their_scripts_from_this_server(client: httpx.Client) -> None:
    for path in ("/docs", "/redoc"):
        response = client.get(path)
        assert response.status_code == 200
        doc = lxml_html.fromstring(response.text)
        urls = [e.get("src") for e in doc.cssselect("script[src]")] + [e.get("href") for e in doc.cssselect("link")]
        assert urls and all(u.startswith("/") for u in urls), urls
        for url in urls:
            asset = client.get(url)
            assert asset.status_code == 200 and len(asset.content) > 100, url
    assert "openapi.json" in client.get("/redoc").text


def test_the_site_has_an_icon(client: httpx.Client) -> None:
    doc = page(client, "/")
    icon = doc.cssselect("link[rel=icon]")[0].get("href")
    for url in (icon, "/favicon.ico"):
        response = client.get(url)
        assert response.status_code == 200 and response.headers["content-type"].startswith("image/svg+xml")


HTML = {"Accept": "text/html"}


def _links(doc: lxml_html.HtmlElement) -> list[str]:
    return [a.get("href") for a in doc.cssselect("main a")]


def test_a_learner_error_page_leads_back_to_the_search_it_came_from(client: httpx.Client) -> None:
    gone = client.get("/records/le_ouchn:no-such-course?q=书法&theme=闲暇生活&next=https://evil.example/")
    assert gone.status_code == 404
    doc = lxml_html.fromstring(gone.text)
    [back] = doc.cssselect("main a.button-primary")
    assert back.text.strip() == "回到刚才的搜索"
    assert parse_qs(urlsplit(back.get("href")).query) == {"q": ["书法"], "theme": ["闲暇生活"]}
    assert "/" in _links(doc) and not any("evil" in href for href in _links(doc))
    wrong_page = client.get("/?q=书法&page=abc", headers=HTML)
    assert wrong_page.status_code == 422
    [again] = lxml_html.fromstring(wrong_page.text).cssselect("main a.button-primary")
    assert parse_qs(urlsplit(again.get("href")).query) == {"q": ["书法"]}  # the search, without what broke it
    plain = lxml_html.fromstring(client.get("/records/le_ouchn:no-such-course").text)
    assert _links(plain) == ["/"]


def test_admin_and_operator_error_pages_are_their_consoles_with_the_way_back(client: httpx.Client) -> None:
    # this server runs without a state database: every console page is an error, never the learner's page
    for path, home in (("/admin", "/admin"), ("/admin/runs/x", "/admin"), ("/operator", "/operator"),
                       ("/operator/no/such/page", "/operator")):  # fmt: skip
        answer = client.get(path, headers=HTML)
        assert answer.status_code in (404, 503), path
        doc = lxml_html.fromstring(answer.text)
        assert "admin" in doc.cssselect("body")[0].get("class").split(), path
        assert doc.cssselect(".site-name")[0].get("href") == home and home in _links(doc), path
        words = text(doc)
        assert "课程可能已经从原平台下架" not in words and ("状态数据库" in words or "没有找到" in words), path
    admin = lxml_html.fromstring(client.get("/admin/runs/x", headers=HTML).text)
    assert "/admin/runs" in _links(admin)
    unknown = lxml_html.fromstring(client.get("/operator/no/such/page", headers=HTML).text)
    assert "没有找到这个页面" in text(unknown) and "/operator/fields" in _links(unknown)
