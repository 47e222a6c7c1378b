"""The admin on call, in headless Chromium, at 1280 wide and on a 390 × 844 phone: the failing source red and
first, every run at /admin/runs with failures first and the technical detail one click away, an unenabled source
run only after ticking that its records go live, the admin's 404 page; axe-core finds nothing serious or critical
on any of them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from crawlers.state import RunCounts, RunOutcome
from crawlers.state.db import utcnow
from tests.browser.accessibility import axe_violations, blocking
from tests.browser.screenshots import shot
from tests.integration.admin.conftest import AdminSite, admin_site
from tests.integration.scheduler.conftest import wait_until
from tests.support.http_server import FixtureServer, http_server_fixture  # noqa: F401

pytestmark = pytest.mark.browser

SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.fixture
def on_call(tmp_path: Path, http_server: FixtureServer) -> Iterator[AdminSite]:
    """A partial source, one whose last run failed on a refused URL, and one its operator has not enabled."""
    with admin_site(tmp_path, http_server) as running:
        running.register("partial_feed", enabled=False)
        running.register("broken_feed", enabled=False)
        running.register("new_feed", enabled=False)
        for source_id, status, error in (
            ("partial_feed", "partial", None),
            ("broken_feed", "failed", ("UrlRefusedError", "refusing to fetch 'ftp://x.edu.cn/': not http(s)")),
        ):
            started = utcnow() - timedelta(minutes=3)
            run = running.store.runs.start(source_id, trigger="schedule", started_at=started)
            counts = RunCounts(fetched=5, rejected=1 if error is None else 0)
            outcome = RunOutcome(status=status, counts=counts, error_type=error[0] if error else None,
                                 error_message=error[1] if error else None)  # fmt: skip
            running.store.runs.finish(run.id, outcome, finished_at=started + timedelta(seconds=2))
        yield running


def _page(browser: Browser, size: str) -> Page:
    width, height = SIZES[size]
    # JavaScript on only so that axe-core can run: the admin pages have none (their CSP allows no script)
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    return context.new_page()


def _sign_in(page: Page, site: AdminSite) -> None:
    page.goto(site.url + "/admin")
    page.fill("#key", site.admin_key)
    page.click("form.admin-login button")
    page.wait_for_selector("table.sources-table")


def _no_blocking_axe(page: Page) -> None:
    assert blocking(axe_violations(page)) == [], page.url


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_admin_on_call_sees_failures_first_and_runs_nothing_live_by_accident(
    browser: Browser, on_call: AdminSite, size: str
) -> None:
    page = _page(browser, size)
    try:
        _sign_in(page, on_call)
        first = page.locator("tr.source-row").first
        assert first.get_attribute("data-source") == "broken_feed" and first.get_attribute("data-light") == "red"
        assert "最近一次采集失败" in first.inner_text() and "未启用" in first.inner_text()
        assert on_call.platform.url("/broken_feed/items") in first.inner_text()
        shot(page, f"admin-on-call-sources-{size}")
        _no_blocking_axe(page)

        page.click("text=全部来源的采集记录（值班总览）")
        page.wait_for_selector(".failed-runs")
        failed = page.locator(".failed-run").first
        assert "来源地址不能访问" in failed.inner_text()
        message = failed.locator(".tech-message")
        assert not message.is_visible()  # folded: one click away
        failed.locator("summary").click()
        assert message.is_visible() and "refusing to fetch" in message.inner_text()
        shot(page, f"admin-on-call-runs-{size}")
        _no_blocking_axe(page)

        page.select_option("select[name=status]", "partial")
        page.click(".runs-filter button")
        page.wait_for_url("**status=partial**")
        assert page.locator("tr.run-row").evaluate_all("rows => rows.map(r => r.dataset.source)") == ["partial_feed"]

        page.goto(on_call.url + "/admin/runs/no-such-run")
        assert page.locator("h1").inner_text() == "没有找到这次采集"
        shot(page, f"admin-on-call-404-{size}")
        _no_blocking_axe(page)
        page.goto(on_call.url + "/operator/no/such/page")  # the operator console's own 404, its way back
        assert page.locator("h1").inner_text() == "没有找到这个页面"
        assert page.locator("a.site-name").get_attribute("href") == "/operator"
        assert page.locator("main a[href='/operator']").count() == 1
        shot(page, f"operator-404-{size}")
        _no_blocking_axe(page)

        page.goto(on_call.url + "/admin/sources/new_feed")
        run_now = page.locator("form.run-form button")
        run_now.click()  # the confirmation box is required: the browser does not send the form
        assert "done=run" not in page.url and on_call.store.runs.find(source_id="new_feed") == []
        shot(page, f"admin-on-call-confirm-{size}")
        _no_blocking_axe(page)
        page.check("input[name=confirm_live]")
        run_now.click()
        page.wait_for_url("**done=run")
        wait_until(lambda: on_call.store.leases.get("new_feed") is None, what="the confirmed run to end")
        assert on_call.store.runs.find(source_id="new_feed")[0].status in ("succeeded", "partial")

        page.click("form[action$='/enabled'] button")
        page.wait_for_url("**done=enabled")
        assert on_call.store.sources.get("new_feed").enabled
        assert page.locator("form.run-form input[name=confirm_live]").count() == 0
    finally:
        page.context.close()
