"""Dry-runs: the first items as normalized records with per-field warnings, the request log, within bounds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.operator.site import COURSES, OperatorSite, course_source, make_settings, operator_site
from tests.support.http_server import FixtureServer


def _warnings(preview: dict[str, Any]) -> dict[str, set[str]]:
    return {item["record"]["source_id"]: {w["field"] for w in item["warnings"]} for item in preview["items"]}


def test_a_dry_run_warns_per_field_and_rejects_what_cannot_be_a_record(
    site: OperatorSite, operator: httpx.Client
) -> None:
    items = [
        {"id": "ok", "name": "太极拳养生", "summary": "老年人健身", "time": "2024-03-01"},
        {"id": "html", "name": "<b>书法</b>入门", "summary": "<p>毛笔<script>x()</script></p>", "time": "2024-03-01"},
        {"id": "date", "name": "智能手机防诈骗", "summary": "防范电信诈骗", "time": "上个月的某一天"},
        {"id": "notheme", "name": "第七单元", "summary": "无", "time": "2024-03-01"},
        {"id": "ok", "name": "太极拳养生（重复）", "summary": "老年人健身", "time": "2024-03-01"},
        {"id": "notitle", "summary": "没有标题"},
    ]
    url = site.serve_courses("/preview", items)
    answer = operator.post("/api/v1/sources/dry-run", json=course_source(url))
    assert answer.status_code == 200, answer.text
    preview = answer.json()
    assert preview["status"] == "ok" and preview["fetched"] == 6
    warnings = _warnings(preview)
    assert warnings["ok"] == set()
    assert "title" in warnings["html"] and "description" in warnings["html"]
    assert warnings["date"] == {"published_at"}
    assert "themes" in warnings["notheme"]
    html = next(i for i in preview["items"] if i["record"]["source_id"] == "html")
    assert "<" not in html["record"]["title"] + html["record"]["description"]
    assert {(r["source_id"], r["field"]) for r in preview["rejected"]} == {("ok", "duplicate"), ("notitle", "title")}
    assert all(r["reason_zh"] for r in preview["rejected"])
    assert [(r["method"], r["status"], r["robots"]) for r in preview["requests"]] == [("GET", 200, "not checked")]
    assert site.store.sources.ids() == []  # an unsaved config stays unsaved


def test_a_dry_run_shows_robots_decisions_in_the_request_log(site: OperatorSite, operator: httpx.Client) -> None:
    site.platform.route("/robots.txt", body="User-agent: *\nDisallow: /private/\n")
    url = site.serve_courses("/private/courses", COURSES)
    preview = operator.post("/api/v1/sources/dry-run", json=course_source(url, obey_robots=True)).json()
    assert preview["status"] == "failed" and preview["error"]["type"] == "RobotsDisallowedError"
    assert [r["robots"] for r in preview["requests"]] == ["robots.txt", "disallowed"]
    assert site.platform.requests_for("/private/courses") == []


def test_a_dry_run_stops_after_the_configured_number_of_items(tmp_path: Path, http_server: FixtureServer) -> None:
    with operator_site(tmp_path, http_server, settings=make_settings(tmp_path, dry_run_records=2)) as site:
        url = site.serve_courses("/many", [{"id": f"c{i}", "name": f"书法第{i}讲"} for i in range(50)])
        with site.client(site.operator_key) as operator:
            preview = operator.post("/api/v1/sources/dry-run", json=course_source(url)).json()
    assert preview["fetched"] == 2 and len(preview["items"]) == 2 and preview["limits"]["records"] == 2


def test_a_dry_run_cuts_off_a_response_larger_than_its_byte_cap(tmp_path: Path, http_server: FixtureServer) -> None:
    with operator_site(tmp_path, http_server, settings=make_settings(tmp_path, dry_run_max_bytes=10_000)) as site:
        url = site.serve_courses("/big", [{"id": f"c{i}", "name": "书法" * 50} for i in range(200)])
        with site.client(site.operator_key) as operator:
            preview = operator.post("/api/v1/sources/dry-run", json=course_source(url)).json()
    assert preview["status"] == "failed" and preview["error"]["type"] == "ResponseTooLargeError"
    assert "10000-byte cap" in preview["error"]["message"]


@pytest.mark.parametrize("delay", [3.0])
def test_a_dry_run_gives_up_on_a_server_slower_than_its_time_limit(
    tmp_path: Path, http_server: FixtureServer, delay: float
) -> None:
    with operator_site(tmp_path, http_server, settings=make_settings(tmp_path, dry_run_seconds=1.0)) as site:
        url = site.serve_courses("/slow", COURSES, delay=delay)
        with site.client(site.operator_key) as operator:
            preview = operator.post("/api/v1/sources/dry-run", json=course_source(url)).json()
    assert preview["status"] == "failed" and "timed out" in preview["error"]["message"]
    assert preview["elapsed_seconds"] < delay


def test_a_saved_source_can_be_dry_run_and_nothing_is_recorded(site: OperatorSite, operator: httpx.Client) -> None:
    operator.post("/api/v1/sources", json=course_source(site.serve_courses("/courses", COURSES)))
    preview = operator.post("/api/v1/sources/my_courses/dry-run").json()
    assert [i["uid"] for i in preview["items"]] == ["my_courses:c1", "my_courses:c2", "my_courses:c3"]
    assert site.store.runs.find(source_id="my_courses") == []
