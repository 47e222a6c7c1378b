"""The admin pages in headless Chromium, with JavaScript off: sign in, run now, pause, resume, held deletions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.browser.screenshots import shot
from tests.integration.admin.conftest import AdminSite, admin_site
from tests.integration.scheduler.conftest import BAD_ITEMS, GOOD_ITEMS, serve_items, wait_until
from tests.support.http_server import FixtureServer, http_server_fixture  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture
def admin_pages(tmp_path: Path, http_server: FixtureServer) -> Iterator[AdminSite]:
    with admin_site(tmp_path, http_server) as running:
        running.register("good_feed", items=GOOD_ITEMS + BAD_ITEMS)
        running.register("broken_feed")
        serve_items(http_server, "broken_feed", [], status=500)
        yield running


def _context(browser: Browser, *, width: int, height: int) -> BrowserContext:
    return browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", java_script_enabled=False)


@pytest.fixture
def laptop(browser: Browser) -> Iterator[Page]:
    context = _context(browser, width=1280, height=900)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def small_phone(browser: Browser) -> Iterator[Page]:
    context = _context(browser, width=360, height=740)
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in(page: Page, site: AdminSite) -> None:
    page.goto(site.url + "/admin")
    page.fill("#key", site.admin_key)
    page.click("form.admin-login button")
    page.wait_for_selector("table.sources-table")


def _row(page: Page, source_id: str):  # noqa: ANN202 - a Playwright locator
    return page.locator(f"tr.source-row[data-source='{source_id}']")


def _run_until_done(page: Page, site: AdminSite, source_id: str) -> None:
    wait_until(lambda: site.store.leases.get(source_id) is None, what="the lease to be free")
    page.goto(site.url + "/admin")  # a table shown while a run of the source went has its button disabled
    _row(page, source_id).locator("button", has_text="立即采集").click()
    page.wait_for_url("**/admin?done=run")
    assert page.locator(".notice-done").inner_text() == "已开始采集。"
    wait_until(lambda: site.store.leases.get(source_id) is None, what="the run to end")


def test_a_wrong_key_is_refused_and_the_admin_key_is_kept_in_a_strict_http_only_cookie(
    laptop: Page, admin_pages: AdminSite
) -> None:
    laptop.goto(admin_pages.url + "/admin")
    laptop.fill("#key", admin_pages.operator_key)
    laptop.click("form.admin-login button")
    assert "不是管理员密钥" in laptop.locator(".notice-error").inner_text()
    sign_in(laptop, admin_pages)
    cookie = next(c for c in laptop.context.cookies() if c["name"] == "edufed_admin")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/admin"
    laptop.locator(".admin-logout button").click()
    laptop.wait_for_selector("form.admin-login")
    assert not [c for c in laptop.context.cookies() if c["name"] == "edufed_admin"]


def test_run_now_from_the_sources_table_then_follow_the_history_to_the_run(
    laptop: Page, admin_pages: AdminSite
) -> None:
    sign_in(laptop, admin_pages)
    _run_until_done(laptop, admin_pages, "good_feed")
    laptop.goto(admin_pages.url + "/admin")
    assert _row(laptop, "good_feed").get_attribute("data-light") == "amber"  # partial: some records rejected
    _row(laptop, "good_feed").locator("a.source-link").click()
    laptop.wait_for_url("**/admin/sources/good_feed")
    runs = laptop.locator("tr.run-row")
    assert runs.count() == 1
    assert runs.first.locator(".count-fetched").inner_text() == str(len(GOOD_ITEMS) + len(BAD_ITEMS))
    assert runs.first.locator(".run-status").inner_text() == "部分成功"
    shot(laptop, "admin-source-history-desktop")
    runs.first.locator("a.run-link").click()
    laptop.wait_for_url("**/admin/runs/*")
    assert (
        f"抓取 {len(GOOD_ITEMS) + len(BAD_ITEMS)}，新增 {len(GOOD_ITEMS)}" in laptop.locator(".run-counts").inner_text()
    )
    assert laptop.locator("li.rejected").count() == len(BAD_ITEMS)
    shot(laptop, "admin-run-details-desktop")


def test_the_sources_table_sorts_by_health_and_freshness(laptop: Page, admin_pages: AdminSite) -> None:
    sign_in(laptop, admin_pages)
    for _ in range(admin_pages.settings.scheduler.alert_after_failures):
        _run_until_done(laptop, admin_pages, "broken_feed")
    laptop.goto(admin_pages.url + "/admin?sort=health")
    lights = [row.get_attribute("data-light") for row in laptop.locator("tr.source-row").all()]
    assert lights == ["red", "amber"]
    assert "连续 3 次失败" in _row(laptop, "broken_feed").inner_text()
    shot(laptop, "admin-sources-desktop")
    laptop.click("a.sort-link:has-text('按名称')")
    laptop.wait_for_url("**/admin?sort=id")
    order = [row.get_attribute("data-source") for row in laptop.locator("tr.source-row").all()]
    assert order == ["broken_feed", "good_feed"]


def test_pause_and_resume_buttons_switch_the_schedule(laptop: Page, admin_pages: AdminSite) -> None:
    sign_in(laptop, admin_pages)
    _row(laptop, "good_feed").locator("button", has_text="暂停").click()
    laptop.wait_for_url("**/admin?done=paused")
    assert admin_pages.store.sources.get("good_feed").paused
    assert admin_pages.scheduler.next_run_time("good_feed") is None
    row = _row(laptop, "good_feed")
    assert "已暂停" in row.inner_text() and row.locator("button", has_text="恢复").count() == 1
    row.locator("button", has_text="恢复").click()
    laptop.wait_for_url("**/admin?done=resumed")
    assert not admin_pages.store.sources.get("good_feed").paused
    assert admin_pages.scheduler.next_run_time("good_feed") is not None


def test_held_deletions_are_approved_and_rejected_from_the_page(laptop: Page, admin_pages: AdminSite) -> None:
    sign_in(laptop, admin_pages)
    _run_until_done(laptop, admin_pages, "good_feed")
    run = admin_pages.store.runs.find(source_id="good_feed")[0]
    uids = [f"good_feed:{item['id']}" for item in GOOD_ITEMS]
    admin_pages.store.holds.create("good_feed", uids[:2], run_id=run.id, reason="本次采集少了 2 条课程")
    admin_pages.store.holds.create("good_feed", uids[2:], run_id=run.id, reason="本次采集少了 3 条课程")
    laptop.goto(admin_pages.url + "/admin")
    assert laptop.locator("li.hold").count() == 2
    shot(laptop, "admin-holds-desktop")
    laptop.locator("li.hold", has_text="少了 2 条").locator("button", has_text="批准删除").click()
    laptop.wait_for_url("**/admin?done=approved")
    assert admin_pages.backend.count("good_feed") == len(GOOD_ITEMS) - 2
    laptop.locator("li.hold", has_text="少了 3 条").locator("button", has_text="驳回").click()
    laptop.wait_for_url("**/admin?done=rejected")
    assert admin_pages.backend.count("good_feed") == len(GOOD_ITEMS) - 2
    assert laptop.locator("li.hold").count() == 0


def test_a_form_without_the_csrf_token_changes_nothing(admin_pages: AdminSite) -> None:
    cookies = {"edufed_admin": admin_pages.admin_key}
    with httpx.Client(base_url=admin_pages.url, timeout=30, cookies=cookies) as client:
        answer = client.post("/admin/sources/good_feed/pause", data={"next": "/admin"})
    assert answer.status_code == 303 and answer.headers["location"] == "/admin?error=csrf"
    assert not admin_pages.store.sources.get("good_feed").paused


def test_admin_pages_fit_a_360_pixel_phone(small_phone: Page, admin_pages: AdminSite) -> None:
    sign_in(small_phone, admin_pages)
    _run_until_done(small_phone, admin_pages, "good_feed")
    run = admin_pages.store.runs.find(source_id="good_feed")[0]
    for path, name in (("/admin", "admin-sources-phone"), ("/admin/sources/good_feed", "admin-source-phone"),
                       (f"/admin/runs/{run.id}", "admin-run-phone")):  # fmt: skip
        small_phone.goto(admin_pages.url + path)
        overflow = small_phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, path
        heights = small_phone.evaluate(
            "[...document.querySelectorAll('main button')].map(e => e.getBoundingClientRect().height)"
        )
        assert all(h >= 44 for h in heights), (path, heights)
        shot(small_phone, name)
