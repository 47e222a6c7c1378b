"""The operator pages in headless Chromium with JavaScript off: sign in, register from the form, preview,
fix the mapping, register, switch on, see the run history and rejected records; readable on a phone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page

from config.source_models import JsonApiSourceConfig
from tests.browser.screenshots import shot
from tests.integration.operator.site import COURSES, OperatorSite, operator_site
from tests.integration.scheduler.conftest import wait_until
from tests.support.http_server import FixtureServer, http_server_fixture  # noqa: F401

pytestmark = pytest.mark.browser

WRONG_MAPPING = """items_path: data.items
id_field: id
url_template: https://courses.example.edu.cn/course/{id}
obey_robots: false
fields:
  title: title_wrong
  description: summary
"""


@pytest.fixture
def pages_site(tmp_path: Path, http_server: FixtureServer) -> Iterator[OperatorSite]:
    with operator_site(tmp_path, http_server) as running:
        running.serve_courses("/courses", [*COURSES, {"id": "c9", "summary": "没有标题"}])
        yield running


@pytest.fixture(params=[(360, 740), (1280, 900)], ids=["phone", "laptop"])
def screen(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    width, height = request.param
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                  java_script_enabled=False)  # fmt: skip
    try:
        yield context.new_page()
    finally:
        context.close()


def _no_sideways_scrolling(page: Page) -> None:
    page.wait_for_load_state("load")  # a form's answer is a new page: measured styled, not before its stylesheets
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0


def test_an_operator_registers_previews_fixes_activates_and_follows_a_source(
    pages_site: OperatorSite, screen: Page
) -> None:
    site, page = pages_site, screen
    page.goto(site.url + "/operator")
    page.fill("#key", site.operator_key[:-2] + "xx")
    page.click("form.admin-login button")
    assert "密钥不对" in page.inner_text("main")
    page.fill("#key", site.operator_key)
    page.click("form.admin-login button")
    page.click("a.operator-new")

    page.fill("#source-id", "my_courses")
    page.fill("#source-name", "我的课程")
    page.fill("#source-platform-name", "测试平台")
    page.select_option("#source-kind", "json_api")
    page.fill("#source-url", site.platform.url("/courses"))
    page.fill("#source-interval", "60")
    page.fill("#source-mapping", WRONG_MAPPING)
    page.click("button[value=preview]")
    page.locator(".preview-rejected li").first.wait_for()  # count() and all_inner_texts() read without waiting
    assert page.locator("tr.preview-row").count() == 0
    assert page.locator(".preview-rejected li").count() == 4
    assert "没有标题" in page.inner_text(".preview-rejected")
    _no_sideways_scrolling(page)

    page.fill("#source-mapping", WRONG_MAPPING.replace("title_wrong", "name"))
    page.click("button[value=preview]")
    page.locator("td.preview-title a").first.wait_for()  # the new preview page, not the one before it
    titles = page.locator("td.preview-title a").all_inner_texts()
    assert titles == [c["name"] for c in COURSES]
    assert "养生保健" in page.inner_text("table.preview-table")
    shot(page, f"operator-preview-{page.viewport_size['width']}")  # type: ignore[index]
    assert site.store.sources.ids() == []

    page.click("button[value=save]")
    assert "已登记" in page.inner_text("p.notice-done")
    assert page.inner_text("dd.enabled").startswith("未启用")
    page.click("form[action$='/enable'] button")
    assert "已启用" in page.inner_text("p.notice-done")
    assert site.store.sources.get("my_courses").schedulable

    with site.client(site.admin_key) as admin:
        run = admin.post("/api/v1/sources/my_courses/runs").json()
        wait_until(lambda: admin.get(f"/api/v1/runs/{run['run_id']}").json()["status"] != "running", what="run")
    page.goto(site.url + "/operator/sources/my_courses")
    assert page.locator("tr.run-row").first.get_attribute("data-status") == "partial"
    assert page.inner_text("tr.run-row td.count-fetched") == "4"
    assert "c9" in page.inner_text("ul.source-rejected") and "title" in page.inner_text("ul.source-rejected")
    _no_sideways_scrolling(page)
    shot(page, f"operator-source-{page.viewport_size['width']}")  # type: ignore[index]

    page.goto(site.url + "/operator")
    row = page.locator("tr.source-row[data-source='my_courses']")
    assert "已启用" in row.inner_text() and "刚刚" in row.locator("td.freshness").inner_text()


def test_a_form_without_the_csrf_token_changes_nothing(pages_site: OperatorSite, screen: Page) -> None:
    site = pages_site
    site.store.sources.add(JsonApiSourceConfig.model_validate({
        "id": "my_courses", "kind": "json_api", "name": "我的课程", "platform": "test_platform",
        "platform_name": "测试平台", "url": site.platform.url("/courses"), "items_path": "data.items",
        "id_field": "id", "url_template": "https://a.example.cn/{id}", "fields": {"title": "name"},
        "enabled": False}), created_by="test")  # fmt: skip
    screen.goto(site.url + "/operator")
    screen.fill("#key", site.operator_key)
    screen.click("form.admin-login button")
    cookies = {c["name"]: c["value"] for c in screen.context.cookies()}
    with httpx.Client(base_url=site.url, cookies=cookies, timeout=30) as forged:
        answer = forged.post("/operator/sources/my_courses/enable", data={"csrf": "forged"})
    assert answer.status_code == 303 and "error=csrf" in answer.headers["location"]
    assert site.store.sources.get("my_courses").enabled is False
    cookie = next(c for c in screen.context.cookies() if c["name"] == "edufed_operator")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/operator"
