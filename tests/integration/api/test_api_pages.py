"""The learner pages as HTML: search results, theme chips, facet and paging links, record pages, JSON-LD."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from lxml import html as lxml_html

from config.themes import THEMES
from tests.integration.api.catalogue import PAGING_THEME, XSS_TITLE, sample_records

RECORDS = {r.uid: r for r in sample_records()}


def page(client: httpx.Client, url: str, **params: object) -> lxml_html.HtmlElement:
    response = client.get(url, params=params) if params else client.get(url)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return lxml_html.fromstring(response.text)


def query_of(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).query)


def test_home_page_offers_a_search_box_and_the_ten_theme_chips(client: httpx.Client) -> None:
    doc = page(client, "/")
    assert doc.get("lang") == "zh-CN"
    assert doc.xpath("//input[@name='q' and @type='search']")
    chips = [" ".join(a.text_content().split()) for a in doc.cssselect(".themes a.chip")]
    assert [c.split()[0] for c in chips] == list(THEMES)
    assert f"目录里共有 {len(RECORDS)} 门课程" in " ".join(doc.text_content().split())


def test_results_show_highlights_platform_and_a_link_to_the_original_course(client: httpx.Client) -> None:
    doc = page(client, "/", q="太极拳")
    [result] = doc.cssselect("li.result")
    assert result.cssselect(".result-title mark")[0].text == "太极拳"
    assert "国家老年大学" in result.cssselect(".result-platform")[0].text_content()
    [go] = [a for a in result.cssselect("a.button-primary") if "在原平台学习" in a.text_content()]
    assert go.get("href") == RECORDS["lndx:3"].url
    assert go.get("rel") == "noopener"
    assert "共找到 1 门课程" in " ".join(doc.text_content().split())


def test_also_on_links_lead_to_the_other_platform(client: httpx.Client) -> None:
    doc = page(client, "/", q="楷书", platform="le_ouchn")
    links = doc.cssselect(".also-on a")
    assert [(a.text, a.get("href")) for a in links] == [("国家老年大学", RECORDS["lndx:1"].url)]


def test_the_same_course_on_two_platforms_is_one_result_with_a_note(client: httpx.Client) -> None:
    doc = page(client, "/", q="楷书")
    [result] = doc.cssselect("li.result")
    others = [a.text for a in result.cssselect(".also-on a")]
    assert others in (["国家老年大学"], ["国家开放大学终身教育平台"])
    assert "共找到 1 门课程" in " ".join(doc.text_content().split())  # the one card shown
    assert "合在一条里显示" in doc.cssselect(".merged-note")[0].text_content()
    every = page(client, "/", q="楷书", collapse="false")
    assert len(every.cssselect("li.result")) == 2 and not every.cssselect(".merged-note")
    sort_links = [a.get("href") for a in every.cssselect(".sort-link")]
    assert sort_links and all(query_of(href)["collapse"] == ["false"] for href in sort_links)


def test_a_relaxed_search_says_the_results_hold_only_some_of_the_words(client: httpx.Client) -> None:
    doc = page(client, "/", q="书法 理财")
    assert doc.cssselect("li.result")
    assert "包含其中一部分" in doc.cssselect(".relaxed-note")[0].text_content()
    assert not page(client, "/", q="书法").cssselect(".relaxed-note")


def test_a_word_no_course_of_the_chosen_theme_holds_shows_the_themes_courses_and_says_so(
    client: httpx.Client,
) -> None:
    """A learner who picked 代际沟通 and typed 孙子 (its course says 孙辈) sees the theme's course, not nothing."""
    doc = page(client, "/", q="孙子", theme="代际沟通")
    [result] = doc.cssselect("li.result")
    assert "隔代教育" in result.cssselect(".result-title")[0].text_content()
    assert "孙子" in result.cssselect(".result-missing")[0].text_content()
    assert "这个主题的课程" in doc.cssselect(".relaxed-note")[0].text_content()
    headline = " ".join(doc.cssselect(".result-count")[0].text_content().split())
    assert "没有找到包含“孙子”的课程" in headline and "所选主题共有 1 门课程" in headline
    assert not page(client, "/", q="孙子").cssselect("li.result")  # without the theme: nothing holds 孙子


def test_theme_chip_link_filters_by_theme_and_keeps_the_query(client: httpx.Client) -> None:
    doc = page(client, "/", q="书法")
    chip = next(a for a in doc.cssselect(".themes a.chip") if a.text_content().split()[0] == "闲暇生活")
    assert query_of(chip.get("href")) == {"q": ["书法"], "theme": ["闲暇生活"]}
    filtered = page(client, chip.get("href"))
    selected = filtered.cssselect(".themes a.chip-selected")
    assert [a.text_content().split()[-2] for a in selected] == ["闲暇生活"]
    assert filtered.cssselect(".active-filters a.chip-remove")


def test_facet_links_keep_the_other_parameters_and_reset_paging(client: httpx.Client) -> None:
    doc = page(client, "/", q="书法", theme="闲暇生活", sort="popular")
    links = {a.text_content().split()[0]: a.get("href") for a in doc.cssselect("a.facet-link")}
    assert query_of(links["国家老年大学"]) == {
        "q": ["书法"], "theme": ["闲暇生活"], "platform": ["lndx"], "sort": ["popular"],
    }  # fmt: skip
    assert "page" not in query_of(links["国家老年大学"])


def test_region_filter_is_a_folded_facet_group_whose_links_filter_by_province(client: httpx.Client) -> None:
    doc = page(client, "/", q="太极拳")
    [group] = [g for g in doc.cssselect("details.refine .facet-group") if g.cssselect("h3")[0].text == "地区"]
    links = {a.text_content().split()[0]: a.get("href") for a in group.cssselect("a.facet-link")}
    assert set(links) == {"广东"}
    assert query_of(links["广东"]) == {"q": ["太极拳"], "region": ["广东"]}
    filtered = page(client, "/", q="国画", region="广东")
    assert [c.text_content().split()[0] for c in filtered.cssselect(".active-filters a.chip-remove")] == ["广东"]
    assert filtered.cssselect(".result-list li")
    assert not page(client, "/", q="国画", region="浙江").cssselect(".result-list li")


def test_search_form_keeps_active_filters_as_hidden_fields(client: httpx.Client) -> None:
    doc = page(client, "/", q="书法", theme="闲暇生活", platform="lndx")
    hidden = {(i.get("name"), i.get("value")) for i in doc.cssselect("form.search-form input[type=hidden]")}
    assert hidden == {("theme", "闲暇生活"), ("platform", "lndx")}


def test_paging_links_walk_through_a_theme(client: httpx.Client) -> None:
    expected = {uid for uid, r in RECORDS.items() if PAGING_THEME in r.themes}
    seen: list[str] = []
    url = f"/?theme={PAGING_THEME}&size=10"
    for _ in range(10):
        doc = page(client, url)
        seen += [urlsplit(a.get("href")).path.removeprefix("/records/") for a in doc.cssselect(".result-title a")]
        nxt = [a.get("href") for a in doc.cssselect(".pager a") if a.text == "下一页"]
        if not nxt:
            break
        url = nxt[0]
    assert sorted(seen) == sorted(expected)
    assert [a.text for a in doc.cssselect(".pager a")] == ["上一页"]


def test_empty_result_explains_what_to_try_in_plain_chinese(client: httpx.Client) -> None:
    doc = page(client, "/", q="量子色动力学")
    text = " ".join(doc.text_content().split())
    assert "共找到 0 门课程" in text
    assert "没有找到相关的课程" in text and "换一个更短的词" in text


def test_third_party_markup_is_shown_as_text(client: httpx.Client) -> None:
    response = client.get("/", params={"q": "书法", "platform": "shequ"})
    assert "<script>alert" not in response.text and "<img src=x" not in response.text
    doc = lxml_html.fromstring(response.text)
    assert doc.cssselect(".result-title a")[0].text_content() == XSS_TITLE
    assert not doc.xpath("//script") and not doc.xpath("//img")


def jsonld(doc: lxml_html.HtmlElement) -> dict:
    [script] = doc.xpath("//script[@type='application/ld+json']")
    return json.loads(script.text)


def test_record_page_shows_details_and_course_json_ld(client: httpx.Client) -> None:
    record = RECORDS["le_ouchn:1"]
    doc = page(client, "/records/le_ouchn:1")
    assert doc.cssselect("h1")[0].text == record.title
    text = " ".join(doc.text_content().split())
    for shown in (
        "国家开放大学终身教育平台",
        "国家开放大学",
        "王老师",
        "闲暇生活",
        "老年人",
        "握笔与坐姿",
        "1.2万 人学过",
    ):
        assert shown in text
    assert {a.get("href") for a in doc.cssselect("a.button-primary")} == {record.url}
    data = jsonld(doc)
    assert data["@type"] == "Course" and data["name"] == record.title
    assert data["provider"] == {"@type": "Organization", "name": "国家开放大学"}
    assert data["instructor"] == [{"@type": "Person", "name": "王老师"}]
    assert data["isAccessibleForFree"] is True and data["inLanguage"] == "zh-CN" and data["url"] == record.url
    assert data["audience"] == [{"@type": "Audience", "audienceType": "老年人"}]


def test_json_ld_of_hostile_text_stays_inside_its_script(client: httpx.Client) -> None:
    response = client.get("/records/shequ:4")
    assert response.text.count("</script>") == 1  # only the JSON-LD element's own end tag
    doc = lxml_html.fromstring(response.text)
    data = jsonld(doc)
    assert data["name"] == XSS_TITLE
    assert data["description"] == RECORDS["shequ:4"].description
    assert data["instructor"] == [{"@type": "Person", "name": "</script>老师"}]
    assert doc.cssselect("h1")[0].text == XSS_TITLE


def test_unknown_record_page_is_a_404_page_in_chinese(client: httpx.Client) -> None:
    response = client.get("/records/le_ouchn:gone")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "没有找到这个页面" in response.text


@pytest.mark.parametrize("query", ["theme=烹饪", "size=0", "page=100000", "cursor=garbage"])
def test_bad_page_parameters_give_a_plain_chinese_error_page(client: httpx.Client, query: str) -> None:
    response = client.get("/?" + query)
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("text/html")
    assert "回到首页" in response.text


def test_pages_forbid_scripts_and_load_only_local_css(client: httpx.Client) -> None:
    response = client.get("/")
    assert "script-src 'none'" in response.headers["content-security-policy"]
    doc = lxml_html.fromstring(response.text)
    assert [link.get("href") for link in doc.xpath("//link[@rel='stylesheet']")] == ["/static/site.css"]
    css = client.get("/static/site.css")
    assert css.status_code == 200 and "http" not in css.text.replace("https://", "").split("*/", 1)[1]
