"""The admin's on-call view over HTTP: every source's runs at /admin/runs with filters, failures red and first,
enabled state and URL with an enable/disable switch, run-now that asks before publishing an unenabled source,
errors and hold reasons in plain Chinese, and the admin's own 404 page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from crawlers.state import RunCounts, RunOutcome
from crawlers.state.db import utcnow
from tests.integration.admin.conftest import AdminSite
from tests.integration.scheduler.conftest import api_source, serve_items

REFUSED = "refusing to fetch 'ftp://example.edu.cn/list': only http and https URLs are fetched"


@pytest.fixture
def pages(site: AdminSite) -> Iterator[httpx.Client]:
    """A browser-like client signed in to the admin pages (the key kept in the cookie)."""
    with httpx.Client(base_url=site.url, timeout=30) as client:
        assert client.post("/admin/login", data={"key": site.admin_key}).status_code == 303
        yield client


def _csrf(client: httpx.Client) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get("/admin").text)
    assert match
    return match.group(1)


def _add(site: AdminSite, source_id: str, **changes: Any) -> None:
    serve_items(site.platform, source_id, [])
    site.store.sources.add(api_source(site.platform, source_id, **changes), created_by="test")


def _run(site: AdminSite, source_id: str, status: str, *, ago: timedelta = timedelta(minutes=5),
         report: dict[str, Any] | None = None, fetched: int = 0, rejected: int = 0,
         error: tuple[str, str] | None = None) -> str:  # fmt: skip
    started = utcnow() - ago
    run = site.store.runs.start(source_id, trigger="schedule", started_at=started)
    outcome = RunOutcome(status=status, counts=RunCounts(fetched=fetched, rejected=rejected), report=report,
                         error_type=error[0] if error else None, error_message=error[1] if error else None)  # fmt: skip
    site.store.runs.finish(run.id, outcome, finished_at=started + timedelta(seconds=3))
    return run.id


def _rows(html: str, name: str) -> list[str]:
    return re.findall(rf'<tr class="{name}"[^>]*data-(?:source|status)="([^"]+)"', html)


def test_the_runs_page_lists_every_source_with_failures_first_in_plain_chinese(
    site: AdminSite, pages: httpx.Client
) -> None:
    _add(site, "feed_a", enabled=False)
    _add(site, "feed_b", enabled=False)
    failed = _run(site, "feed_a", "failed", error=("UrlRefusedError", REFUSED))
    _run(site, "feed_b", "succeeded", ago=timedelta(minutes=1), report={"scope": "unchanged", "notes": []})
    _run(site, "feed_b", "partial", ago=timedelta(days=3), fetched=7)

    page = pages.get("/admin/runs")
    assert page.status_code == 200
    html = page.text
    failures = html.index('class="failed-runs"')
    assert failures < html.index('class="admin-table runs-table"')  # failures above the whole list
    assert f'href="/admin/runs/{failed}"' in html[failures:]
    assert "来源地址不能访问" in html
    # the technical message is there, folded in a <details>, never as the headline
    assert "refusing to fetch" in html
    for hit in re.finditer("refusing to fetch", html):
        assert html.rfind("<details", 0, hit.start()) > html.rfind("</details>", 0, hit.start())
    assert "对方自上次采集以来没有变化" in html  # 成功，抓取 0 explained
    assert re.findall(r'<tr class="run-row" data-status="([a-z]+)" data-source="(\w+)"', html) == [
        ("succeeded", "feed_b"), ("failed", "feed_a")]  # last 24 h by default  # fmt: skip

    week = pages.get("/admin/runs", params={"since": "7d"}).text
    assert len(re.findall(r'<tr class="run-row"', week)) == 3
    only_b = pages.get("/admin/runs", params={"since": "7d", "source": "feed_b"}).text
    assert set(re.findall(r'data-source="(\w+)"><td', only_b)) <= {"feed_b"}
    assert re.findall(r'<tr class="run-row" data-status="(\w+)" data-source="feed_b"', only_b) == [
        "succeeded",
        "partial",
    ]
    partial = pages.get("/admin/runs", params={"since": "all", "status": "partial"}).text
    assert re.findall(r'<tr class="run-row" data-status="(\w+)"', partial) == ["partial"]
    bad = pages.get("/admin/runs", params={"status": "exploded", "since": "forever", "source": "nope"})
    assert bad.status_code == 200 and len(re.findall(r'<tr class="run-row"', bad.text)) == 2  # defaults


def test_runs_filters_by_start_time_in_sql(site: AdminSite) -> None:
    _add(site, "feed_t", enabled=False)
    new = _run(site, "feed_t", "succeeded", ago=timedelta(minutes=2))
    old = _run(site, "feed_t", "failed", ago=timedelta(days=2), error=("FetchError", "boom"))
    since = utcnow() - timedelta(days=1)
    assert [r.id for r in site.store.runs.find(since=since)] == [new]
    assert [r.id for r in site.store.runs.find(since=since - timedelta(days=2), limit=1)] == [new]
    assert [r.id for r in site.store.runs.find(since=since - timedelta(days=2), status="failed")] == [old]


def test_a_source_whose_last_run_failed_is_red_and_first_with_its_state_and_url(
    site: AdminSite, pages: httpx.Client
) -> None:
    _add(site, "partial_feed", enabled=False)
    _add(site, "failing_feed", enabled=False)
    _run(site, "partial_feed", "partial", fetched=5)
    _run(site, "failing_feed", "succeeded", ago=timedelta(hours=1), fetched=5)
    _run(site, "failing_feed", "failed", error=("FetchError", "fetching x failed: HTTP 500"))

    html = pages.get("/admin").text
    rows = re.findall(r'<tr class="source-row" data-source="(\w+)" data-light="(\w+)"', html)
    assert rows[0] == ("failing_feed", "red")
    assert ("partial_feed", "amber") in rows
    row = html[html.index('data-source="failing_feed"') :]
    row = row[: row.index("</tr>")]
    assert "最近一次采集失败" in row and "status-failed" in row
    assert "未启用" in row and site.platform.url("/failing_feed/items") in row


def test_run_now_on_an_unenabled_source_asks_first_and_enable_switches_it_on(
    site: AdminSite, pages: httpx.Client
) -> None:
    site.register("new_feed", enabled=False)
    csrf = _csrf(pages)
    assert 'name="confirm_live"' in pages.get("/admin/sources/new_feed").text

    refused = pages.post("/admin/sources/new_feed/run", data={"csrf": csrf, "next": "/admin/sources/new_feed"})
    assert refused.status_code == 303 and refused.headers["location"].endswith("error=not_enabled")
    assert site.store.runs.find(source_id="new_feed") == [] and site.store.leases.get("new_feed") is None
    assert "还没有启用" in pages.get(refused.headers["location"]).text

    switched = pages.post("/admin/sources/new_feed/enabled", data={"csrf": csrf, "enabled": "yes", "next": "/admin"})
    assert switched.headers["location"] == "/admin?done=enabled"
    assert site.store.sources.get("new_feed").enabled
    assert [e.action for e in site.store.audit.find(target="new_feed")][:1] == ["source.enable"]
    row = pages.get("/admin").text
    assert "已启用" in row and "停用" in row
    pages.post("/admin/sources/new_feed/enabled", data={"csrf": csrf, "enabled": "no", "next": "/admin"})
    assert not site.store.sources.get("new_feed").enabled


def test_unknown_admin_addresses_get_the_admin_404_page(site: AdminSite, pages: httpx.Client) -> None:
    for path, words in (("/admin/runs/x", "没有找到这次采集"), ("/admin/sources/nope", "没有找到这个采集来源"),
                        ("/admin/nothing/here", "没有找到这个页面")):  # fmt: skip
        page = pages.get(path)
        assert page.status_code == 404, path
        assert words in page.text and "/static/admin.css" in page.text and "下架" not in page.text


def test_hold_reasons_name_the_key_by_what_an_admin_knows(site: AdminSite, pages: httpx.Client) -> None:
    _add(site, "gone_feed", enabled=False)
    run = _run(site, "gone_feed", "held")
    key = site.store.keys.create(role="operator", platform="test_platform", label="张老师").info
    reason = f"source deleted by key:{key.id}; the source listed no records; it had 3"
    site.store.holds.create("gone_feed", ["gone_feed:1"], run_id=run, reason=reason)
    html = pages.get("/admin").text
    assert f"key:{key.id}" not in html
    assert "来源被运营者「张老师」（平台 test_platform）删除。对方这次一条记录都没列出，而原来有 3 条。" in html


def test_a_few_broken_items_of_a_complete_listing_leave_the_source_green_with_the_count_said(
    site: AdminSite, pages: httpx.Client
) -> None:
    """The demo's first impression: its platforms carry a few deliberately broken items; a complete run that refused
    2 of 95 is nothing for the admin on call (green, the count said), while many refused, a warning or an incomplete
    listing still ask for attention (amber). The run itself keeps saying 部分成功."""
    complete = {"incomplete": None, "warning_count": 0}
    for source_id in ("few_bad", "many_bad", "warned", "cut_short"):
        _add(site, source_id, enabled=False)
    _run(site, "few_bad", "partial", fetched=95, rejected=2, report=complete)
    _run(site, "many_bad", "partial", fetched=7, rejected=2, report=complete)
    _run(site, "warned", "partial", fetched=95, rejected=2, report={"incomplete": None, "warning_count": 3})
    _run(site, "cut_short", "partial", fetched=95, rejected=2, report={"incomplete": "page 3: HTTP 500"})

    html = pages.get("/admin").text
    lights = dict(re.findall(r'<tr class="source-row" data-source="(\w+)" data-light="(\w+)"', html))
    assert lights == {"few_bad": "green", "many_bad": "amber", "warned": "amber", "cut_short": "amber"}
    row = html[html.index('data-source="few_bad"') :]
    assert "2 条记录数据有误，未收录" in row[: row.index("</tr>")]
    history = pages.get("/admin/sources/few_bad").text
    assert "部分成功" in history


def test_a_run_waiting_for_its_harvest_to_begin_says_queued_not_running(site: AdminSite, pages: httpx.Client) -> None:
    """Run now records the run at once; until its process begins it, every page says 排队中 (the API keeps status
    running, which is how it counts), and 运行中 once the process has taken it over."""
    _add(site, "waiting_feed", enabled=False)
    run = site.store.runs.start("waiting_feed", trigger="manual", holder="h1", queued=True)

    def shown() -> tuple[str, str, str]:
        listed = pages.get("/admin/runs").text
        row = listed[listed.index(f'href="/admin/runs/{run.id}"') :]
        sources = pages.get("/admin").text
        source_row = sources[sources.index('data-source="waiting_feed"') :]
        detail = pages.get(f"/admin/runs/{run.id}").text
        label = re.compile(r'<span class="run-status status-(\w+)">([^<]+)</span>')
        (row_label,) = label.findall(row[: row.index("</tr>")])
        (detail_label,) = label.findall(detail)
        (marker,) = re.findall(r'<span class="running">([^<]+)</span>', source_row[: source_row.index("</tr>")])
        assert row_label == detail_label, (row_label, detail_label)
        return row_label[0], row_label[1], marker

    assert shown() == ("queued", "排队中", "排队中")
    assert site.store.runs.adopt(run.id, source_id="waiting_feed", holder="h1") is not None
    assert shown() == ("running", "运行中", "采集中")
