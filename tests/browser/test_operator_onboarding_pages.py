"""The operator's onboarding pages (which run no JavaScript) in headless Chromium, 1280 wide and 390 x 844:
the form with an example per kind, the field docs, every problem at once, the dry-run summary above the table;
axe-core finds no serious or critical violation on any of them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from crawlers.state.quarantine import QuarantineItem
from tests.browser.accessibility import axe_violations, blocking
from tests.browser.screenshots import shot
from tests.integration.operator.site import COURSES, MAPPING, OperatorSite, course_source, operator_site
from tests.support.http_server import FixtureServer, http_server_fixture  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture
def onboarding_site(tmp_path: Path, http_server: FixtureServer) -> Iterator[OperatorSite]:
    with operator_site(tmp_path, http_server) as running:
        items = [{**course, "summary": f"<p>{course['summary']}</p>"} for course in COURSES]
        running.serve_courses("/courses", [*items, {"id": "c9", "summary": "没有标题"}])
        yield running


@pytest.fixture(params=[(390, 844), (1280, 900)], ids=["phone", "desktop"])
def screen(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[Page, str]]:
    width, height = request.param
    # JavaScript stays on for axe-core (evaluated through the DevTools protocol); the pages' CSP allows no scripts.
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    try:
        yield context.new_page(), request.node.callspec.id
    finally:
        context.close()


def _checked(page: Page, name: str, *, full_page: bool = True) -> None:
    """No sideways scrolling, no serious or critical axe violation; a screenshot to look at. Measured once the page
    has loaded: a form's answer is a new page, and its layout before the stylesheets arrive is the unstyled one
    (a fresh-clone run measured a preview 426 px too wide on a phone, under load)."""
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0, name
    assert blocking(axe_violations(page)) == [], name
    shot(page, name, full_page=full_page)


def test_an_operator_starts_from_an_example_reads_the_docs_fixes_every_problem_and_previews(
    onboarding_site: OperatorSite, screen: tuple[Page, str]
) -> None:
    site, (page, width) = onboarding_site, screen
    with site.client(site.operator_key) as api:
        api.post("/api/v1/sources", json=course_source(site.platform.url("/courses"), source_id="old_courses"))
    page.goto(site.url + "/operator")
    page.fill("#key", site.operator_key)
    page.click("form.admin-login button")
    assert "平台：测试平台" in page.inner_text("header")  # the platform's name, not its id
    page.click("a.operator-new")
    page.locator("details.kind-template").first.wait_for()  # count() reads without waiting for the new page
    assert page.locator("details.kind-template").count() == 6
    _checked(page, f"operator-onboarding-form-{width}")

    page.locator("details.kind-template[data-kind=html] summary").click()
    page.locator("details.kind-template[data-kind=html] a.use-template").click()
    assert page.input_value("#source-kind") == "html" and "item_links" in page.input_value("#source-mapping")
    page.click("a.field-docs-link")
    page.wait_for_url("**/operator/fields#kind-html")
    assert page.locator("#kind-html tr.field-row").count() > 10
    item_links = page.locator('#kind-html tr[data-path="item_links"]')
    assert item_links.locator(".field-help").inner_text().startswith("列表页上指向详情页的链接")  # Chinese first
    assert item_links.locator("code.field-path").inner_text() == "item_links"  # the technical path kept
    _checked(page, f"operator-field-docs-{width}", full_page=False)  # the whole page is six long tables

    page.goto(site.url + "/operator/new")
    page.fill("#source-id", "new_courses")
    page.fill("#source-name", "新课程")
    page.select_option("#source-kind", "json_api")
    page.fill("#source-url", site.platform.url("/courses"))
    page.fill("#source-interval", "每天")
    page.fill("#source-mapping", "items_path: [data\n")
    page.click("button[value=preview]")
    page.locator(".problem-label").first.wait_for()  # all_inner_texts() reads without waiting for the answer
    labels = page.locator(".problem-label").all_inner_texts()
    assert set(labels) == {"字段映射", "采集间隔（分钟）"}
    _checked(page, f"operator-onboarding-problems-{width}")

    page.fill("#source-interval", "60")
    page.fill("#source-mapping", MAPPING)
    page.click("button[value=preview]")
    page.locator(".same-url-warning").wait_for()  # the new preview page: is_visible() does not wait for it
    assert page.locator(".same-url-warning").is_visible()
    assert "所有 3 条" in page.inner_text(".preview-digest")
    assert "没有标题" in page.inner_text(".preview-digest")
    assert page.locator(".preview-row .preview-warning[data-field=description]").count() == 0
    assert page.locator(".preview-date").all_inner_texts() == ["2024年3月1日", "2024年3月2日", "2024年3月3日"]
    above = page.locator(".preview-overview").bounding_box()
    form = page.locator("#source-form").bounding_box()
    assert above is not None and form is not None and above["y"] < form["y"]
    _checked(page, f"operator-onboarding-preview-{width}")


def test_a_saved_source_gives_rejections_in_chinese_first_and_keeps_the_same_url_warning(
    onboarding_site: OperatorSite, screen: tuple[Page, str]
) -> None:
    site, (page, width) = onboarding_site, screen
    with site.client(site.operator_key) as api:
        for source_id in ("old_courses", "new_courses"):
            api.post("/api/v1/sources", json=course_source(site.platform.url("/courses"), source_id=source_id))
    site.store.quarantine.add("new_courses", [QuarantineItem("c9", "title: no title")], run_id=None)
    page.goto(site.url + "/operator")
    page.fill("#key", site.operator_key)
    page.click("form.admin-login button")
    page.wait_for_selector("table.sources-table")
    _checked(page, f"operator-onboarding-list-{width}")
    page.click("tr[data-source=new_courses] a.source-link")
    page.wait_for_selector(".source-rejected")
    assert page.locator(".same-url-warning").is_visible()
    rejected = page.inner_text(".source-rejected")
    assert rejected.index("没有标题，这一条不会收录") < rejected.index("title: no title")
    _checked(page, f"operator-onboarding-source-{width}")
