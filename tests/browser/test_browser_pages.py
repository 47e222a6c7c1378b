"""The learner pages in headless Chromium: search, theme chips, records, phones, keyboard, hostile text."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page

from tests.browser.screenshots import shot
from tests.integration.api.catalogue import XSS_TITLE, LiveServer

pytestmark = pytest.mark.browser


def test_searching_a_chinese_word_shows_highlighted_results(phone: Page, site: LiveServer) -> None:
    phone.goto(site.url + "/")
    phone.fill("#q", "书法")
    phone.click("button.search-button")
    phone.wait_for_url("**/?q=*")
    marks = phone.locator(".result-title mark")
    assert marks.count() >= 2
    assert {marks.nth(i).inner_text() for i in range(marks.count())} == {"书法"}
    assert "共找到" in phone.locator(".result-count").inner_text()
    shot(phone, "search-shufa-phone")


def test_clicking_a_theme_chip_filters_the_results(desktop: Page, site: LiveServer) -> None:
    desktop.goto(site.url + "/")
    desktop.locator(".themes a.chip", has_text="养生保健").click()
    desktop.wait_for_url("**theme=*")
    assert desktop.locator(".themes a.chip-selected").text_content().split()[-2] == "养生保健"  # type: ignore[union-attr]
    assert "养生保健" in desktop.locator(".active-filters").inner_text()
    titles = desktop.locator(".result-title").all_inner_texts()
    assert titles and all(t in {"太极拳二十四式", "中医养生保健常识"} for t in titles)
    shot(desktop, "theme-yangsheng-desktop")


def test_opening_a_record_shows_its_page_and_json_ld(phone: Page, site: LiveServer) -> None:
    phone.goto(site.url + "/?q=楷书&platform=le_ouchn")
    phone.locator(".result-title a").first.click()
    phone.wait_for_url("**/records/**")
    assert phone.locator("h1").inner_text() == "书法入门：楷书基本笔画"
    assert "握笔与坐姿" in phone.locator(".lesson-list").inner_text()
    data = json.loads(phone.locator("script[type='application/ld+json']").text_content() or "")
    assert data["name"] == "书法入门：楷书基本笔画"
    go = phone.locator("a.button-primary").first
    assert go.get_attribute("rel") == "noopener"
    assert go.bounding_box()["height"] >= 44  # type: ignore[index]
    shot(phone, "record-phone")


def test_narrow_phone_has_large_text_and_no_sideways_scroll(phone: Page, site: LiveServer) -> None:
    for path in ("/", "/?q=书法", "/records/le_ouchn:1", "/?q=没有这种课"):
        phone.goto(site.url + path)
        size = phone.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert size >= 18, path
        smallest = phone.evaluate(
            """() => Math.min(...[...document.querySelectorAll('p, li, a, dd, dt, span, label, button')]
                   .filter(e => e.offsetParent !== null && e.textContent.trim())
                   .map(e => parseFloat(getComputedStyle(e).fontSize)))"""
        )
        assert smallest >= 16, path
        overflow = phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, path
    shot(phone, "empty-result-phone")


def test_tap_targets_on_a_phone_are_at_least_44_pixels_high(phone: Page, site: LiveServer) -> None:
    targets = "a.chip, .button-primary, .button-secondary, button, #q, .facets summary, .facet-link, .pager a"
    # a facet is active on the first page, so its list is open; the second has paging links
    for path in ("/?q=书法&platform=lndx", "/?theme=心理健康&page=2"):
        phone.goto(site.url + path)
        heights = phone.evaluate(
            "(sel) => [...document.querySelectorAll(sel)].filter(e => e.offsetParent !== null)"
            ".map(e => e.getBoundingClientRect().height)",
            targets,
        )
        assert heights and min(heights) >= 44, path
        shot(phone, "tap-targets-" + ("facets" if "platform" in path else "pager") + "-phone")
    assert phone.locator(".pager a").count() == 2


def test_keyboard_focus_is_visible(desktop: Page, site: LiveServer) -> None:
    desktop.goto(site.url + "/?q=书法")
    desktop.keyboard.press("Tab")
    assert desktop.evaluate("document.activeElement.className") == "skip-link"
    for _ in range(4):
        desktop.keyboard.press("Tab")
    outline = desktop.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth]; })()"
    )
    assert outline[0] != "none" and float(outline[1].removesuffix("px")) >= 2
    shot(desktop, "keyboard-focus-desktop")


def test_hostile_title_shows_as_text_and_never_runs(desktop: Page, site: LiveServer) -> None:
    dialogs: list[str] = []
    desktop.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    desktop.goto(site.url + "/?q=书法&platform=shequ")
    assert desktop.locator(".result-title a").inner_text() == XSS_TITLE
    desktop.goto(site.url + "/records/shequ:4")
    assert desktop.locator("h1").inner_text() == XSS_TITLE
    assert desktop.locator("script:not([type='application/ld+json'])").count() == 0
    assert desktop.locator("img").count() == 0
    assert dialogs == []
    shot(desktop, "hostile-title-desktop")
