"""A learner's first hour in Chromium, on a 390 × 844 phone and a desktop: search, results on the first screen, the
folded filters, a record and back to the same results, the ends of a search; axe-core and the elder-friendly
checklist on every learner page; /docs and /redoc with the outside network cut. Screenshots: test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route

from tests.browser.accessibility import axe_violations, blocking, elder_checklist
from tests.browser.screenshots import shot
from tests.integration.api.catalogue import PAGING_THEME, LiveServer

pytestmark = pytest.mark.browser

SCREENS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
LEARNER_PAGES = {
    "home": "/",
    "results": "/?q=书法",
    "results-filtered": "/?q=书法&theme=闲暇生活&platform=lndx",
    "results-some-words": "/?q=书法 理财",
    "results-paged": f"/?theme={PAGING_THEME}&page=2",
    "record": "/records/le_ouchn:1?q=书法",
    "past-the-end": "/?q=书法&page=99",
    "no-results": "/?q=量子色动力学",
    "not-found": "/records/no_such:1",
    "not-found-from-search": "/records/no_such:1?q=书法&theme=闲暇生活",
    "bad-search": "/?size=9999",
}


@pytest.fixture(params=list(SCREENS))
def screen(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[str, Page]]:
    """A fresh page at phone or desktop size, and the size's name."""
    context = browser.new_context(viewport=SCREENS[request.param], locale="zh-CN")  # type: ignore[arg-type]
    try:
        yield request.param, context.new_page()
    finally:
        context.close()


def search_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_every_learner_page_passes_axe_and_the_elder_friendly_checklist(
    screen: tuple[str, Page], site: LiveServer
) -> None:
    name, page = screen
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    serious: dict[str, list[object]] = {}
    broken: dict[str, dict[str, list[str]]] = {}
    for label, path in LEARNER_PAGES.items():
        page.goto(site.url + path)
        checks = elder_checklist(page, phone=name == "phone")
        if failing := {rule: problems for rule, problems in checks.items() if problems}:
            broken[label] = failing
        serious[label] = blocking(axe_violations(page))
        fold = page.locator("details summary")
        if fold.count():  # what the fold hides is checked too, opened
            fold.first.click()
            serious[label + " (opened)"] = blocking(axe_violations(page))
        shot(page, f"learner-{label}-{name}")
    assert {label: found for label, found in serious.items() if found} == {}
    assert broken == {}
    assert dialogs == []


def test_a_learner_searches_filters_opens_a_course_and_comes_back(screen: tuple[str, Page], site: LiveServer) -> None:
    name, page = screen
    height = SCREENS[name]["height"]
    page.goto(site.url + "/")
    shot(page, f"hour-1-home-{name}")
    page.fill("#q", "书法")
    page.click("button.search-button")
    page.wait_for_url("**/?q=*")
    first = page.locator("li.result").first.bounding_box()
    go = page.locator("li.result a.button-primary").first.bounding_box()
    assert first and go and first["y"] < height / 2 and go["y"] + go["height"] <= height  # a whole card on screen
    assert page.locator(".themes").is_hidden()  # folded once a query is active
    shot(page, f"hour-2-results-{name}")

    page.locator("details.refine summary").click()
    assert page.locator(".themes").is_visible()
    assert page.locator(".themes span.chip-empty").count() == 9  # no 书法 course in nine themes: not linked
    shot(page, f"hour-3-filters-open-{name}")
    page.locator(".themes a.chip", has_text="闲暇生活").click()
    page.wait_for_url("**theme=*")
    assert page.locator(".themes").is_hidden()
    assert "闲暇生活" in page.locator(".active-filters").inner_text()
    results_url = page.url

    page.locator(".result-title a").first.click()
    page.wait_for_url("**/records/**")
    assert page.locator("a.button-primary").first.is_visible()
    shot(page, f"hour-4-record-{name}")
    page.locator(".back a").click()
    page.wait_for_url("**/?*")
    assert search_of(page.url) == search_of(results_url) == {"q": ["书法"], "theme": ["闲暇生活"]}
    assert page.locator("#q").input_value() == "书法"


def test_a_learner_sees_what_a_course_lacks_and_where_a_search_ends(screen: tuple[str, Page], site: LiveServer) -> None:
    name, page = screen
    page.goto(site.url + "/?q=书法 理财")
    notes = page.locator(".result-missing").all_inner_texts()
    assert "未包含：理财" in notes and "未包含：书法" in notes
    shot(page, f"hour-5-some-words-{name}")

    page.goto(site.url + "/?q=书法&page=99")
    assert page.locator("text=已经没有课程了").count() == 1
    assert page.locator("text=没有找到").count() == 0 and page.locator("text=共找到").count() == 0
    shot(page, f"hour-6-past-the-end-{name}")
    page.locator("a", has_text="最后一页").click()
    page.wait_for_url("**/?q=*")
    assert page.locator("li.result").count() > 0


def test_docs_and_redoc_render_with_the_outside_network_cut(desktop: Page, site: LiveServer) -> None:
    asked_outside: list[str] = []

    def only_this_server(route: Route) -> None:
        if route.request.url.startswith(site.url):
            route.continue_()
        else:
            asked_outside.append(route.request.url)
            route.abort()

    desktop.route("**/*", only_this_server)
    desktop.goto(site.url + "/docs")
    desktop.locator(".swagger-ui .info .title").wait_for()
    assert "edufed" in desktop.locator(".swagger-ui .info .title").inner_text()
    desktop.locator(".opblock-summary-path", has_text="/api/v1/search").first.wait_for()
    shot(desktop, "docs-offline-desktop", full_page=False)
    desktop.goto(site.url + "/redoc")
    desktop.locator("h1", has_text="edufed").first.wait_for()
    shot(desktop, "redoc-offline-desktop", full_page=False)
    assert asked_outside == []


def test_a_course_gone_from_its_platform_leads_back_to_the_search_it_was_found_in(
    screen: tuple[str, Page], site: LiveServer
) -> None:
    name, page = screen
    page.goto(site.url + "/records/no_such:1?q=书法&theme=闲暇生活&page=abc")
    assert "下架" in page.inner_text("h1")
    page.click("a.button-primary")
    page.wait_for_url("**/?q=*")
    assert search_of(page.url) == {"q": ["书法"], "theme": ["闲暇生活"]}  # the words and filter kept
    assert page.input_value("input[name=q]") == "书法" and page.locator("li.result").count() > 0
    shot(page, f"learner-back-from-gone-{name}")


def test_a_learner_narrows_a_search_to_a_region_from_the_folded_filters(
    screen: tuple[str, Page], site: LiveServer
) -> None:
    _, page = screen
    page.goto(site.url + "/?q=太极拳")
    region = page.locator("details.refine .facet-group", has=page.locator("h3", has_text="地区"))
    assert region.is_hidden()  # folded with the other filters until asked for
    page.locator("details.refine summary").click()
    assert region.is_visible()
    region.locator("a.facet-link", has_text="广东").click()
    page.wait_for_url("**region=*")
    assert search_of(page.url) == {"q": ["太极拳"], "region": ["广东"]}
    assert "广东" in page.locator(".active-filters").inner_text()
    assert page.locator("li.result").count() == 1
