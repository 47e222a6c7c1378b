"""The admin API over a real server: keys, run now, pause/resume, runs, held deletions, quarantine, audit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from crawlers.state import QuarantineItem, RunOutcome
from tests.integration.admin.conftest import AdminSite
from tests.integration.scheduler.conftest import BAD_ITEMS, GOOD_ITEMS, serve_items

ADMIN_CALLS = [
    ("GET", "/api/v1/admin/sources"),
    ("POST", "/api/v1/sources/feed/runs"),
    ("POST", "/api/v1/sources/feed/pause"),
    ("POST", "/api/v1/sources/feed/resume"),
    ("GET", "/api/v1/runs"),
    ("GET", "/api/v1/runs/abc"),
    ("GET", "/api/v1/holds"),
    ("POST", "/api/v1/holds/1/approve"),
    ("POST", "/api/v1/holds/1/reject"),
    ("GET", "/api/v1/quarantine"),
]


@pytest.mark.parametrize(("method", "path"), ADMIN_CALLS)
def test_admin_endpoints_refuse_callers_without_an_admin_key(site: AdminSite, method: str, path: str) -> None:
    with httpx.Client(base_url=site.url, timeout=30) as anonymous:
        missing = anonymous.request(method, path)
        operator = anonymous.request(method, path, headers={"Authorization": f"Bearer {site.operator_key}"})
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthorized"
    assert operator.status_code == 403
    assert set(operator.json()["error"]) == {"code", "message", "details"}


def test_run_now_answers_202_with_the_run_whose_counts_match_the_platform(
    site: AdminSite, admin: httpx.Client, run_source: Callable[[str], dict[str, Any]]
) -> None:
    source_id = site.register("feed", items=GOOD_ITEMS + BAD_ITEMS)
    run = run_source(source_id)
    assert (run["status"], run["trigger"], run["source_id"]) == ("partial", "manual", source_id)
    served = len(GOOD_ITEMS) + len(BAD_ITEMS)
    assert run["counts"]["fetched"] == served and run["counts"]["new"] == len(GOOD_ITEMS)
    assert run["counts"]["rejected"] == len(BAD_ITEMS)
    assert run["http"]["requests"] == len(site.platform.requests_for(f"/{source_id}/items")) == 1
    assert run["duration_seconds"] >= 0 and run["error"] is None
    rejected = admin.get(run["links"]["rejected"]).json()
    assert rejected["total"] == len(BAD_ITEMS) and {i["run_id"] for i in rejected["items"]} == {run["id"]}
    assert all(item["reason"] for item in rejected["items"])
    audit = site.store.audit.find(action="source.run", target=source_id)
    assert len(audit) == 1 and audit[0].actor.startswith("key:")


def test_run_now_of_a_source_already_running_is_a_conflict(site: AdminSite, admin: httpx.Client) -> None:
    source_id = site.register("slow_feed")
    serve_items(site.platform, source_id, GOOD_ITEMS, delay=3)
    first = admin.post(f"/api/v1/sources/{source_id}/runs")
    second = admin.post(f"/api/v1/sources/{source_id}/runs")
    assert first.status_code == 202 and first.headers["Location"] == f"/api/v1/runs/{first.json()['run_id']}"
    assert second.status_code == 409 and second.json()["error"]["code"] == "run_in_progress"
    unknown = admin.post("/api/v1/sources/no_such_feed/runs")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"


def test_run_now_of_a_source_not_enabled_runs_nothing_until_confirmed_live(
    site: AdminSite, admin: httpx.Client
) -> None:
    source_id = site.register("new_feed", enabled=False)
    refused = admin.post(f"/api/v1/sources/{source_id}/runs")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_enabled"
    assert "publishes its records to learners" in refused.json()["error"]["message"]
    assert {d["field"] for d in refused.json()["error"]["details"]} == {"dry_run", "confirm_live"}
    assert site.store.runs.find(source_id=source_id) == [] and site.platform.requests_for(f"/{source_id}/items") == []
    assert admin.post(f"/api/v1/sources/{source_id}/runs", params={"confirm_live": "false"}).status_code == 409

    confirmed = admin.post(f"/api/v1/sources/{source_id}/runs", params={"confirm_live": "true"})
    assert confirmed.status_code == 202 and confirmed.json()["run_id"]
    audit = site.store.audit.find(action="source.run", target=source_id)
    assert len(audit) == 1 and audit[0].details["confirmed_live"] is True


def test_openapi_documents_the_live_confirmation_of_run_now(site: AdminSite) -> None:
    operation = httpx.get(site.url + "/openapi.json").json()["paths"]["/api/v1/sources/{source_id}/runs"]["post"]
    confirm = next(p for p in operation["parameters"] if p["name"] == "confirm_live")
    assert confirm["in"] == "query" and "go live" in confirm["description"]
    assert "not_enabled" in operation["responses"]["409"]["description"]


def _source(admin: httpx.Client, source_id: str) -> dict[str, Any]:
    items = admin.get("/api/v1/admin/sources").json()["items"]
    return next(item for item in items if item["id"] == source_id)


def test_pause_and_resume_switch_the_source_and_its_schedule(site: AdminSite, admin: httpx.Client) -> None:
    source_id = site.register("feed")
    assert _source(admin, source_id)["next_run_at"] is not None
    assert admin.post(f"/api/v1/sources/{source_id}/pause").json() == {"id": source_id, "paused": True}
    paused = _source(admin, source_id)
    assert paused["paused"] and paused["next_run_at"] is None and paused["status"] == "amber"
    assert site.scheduler.next_run_time(source_id) is None
    assert admin.post(f"/api/v1/sources/{source_id}/resume").json() == {"id": source_id, "paused": False}
    assert _source(admin, source_id)["next_run_at"] is not None
    actions = [entry.action for entry in site.store.audit.find(target=source_id)]
    assert actions == ["source.resume", "source.pause"]


def test_sources_show_health_as_red_amber_and_green(
    site: AdminSite, admin: httpx.Client, run_source: Callable[[str], dict[str, Any]]
) -> None:
    good, broken, fresh = site.register("good_feed"), site.register("broken_feed"), site.register("new_feed")
    assert run_source(good)["status"] == "succeeded"
    serve_items(site.platform, broken, [], status=500)
    for _ in range(site.settings.scheduler.alert_after_failures):
        assert run_source(broken)["status"] == "failed"
    rows = admin.get("/api/v1/admin/sources", params={"sort": "health"}).json()["items"]
    by_id = {row["id"]: row for row in rows}
    assert by_id[broken]["status"] == "red" and by_id[broken]["consecutive_failures"] == 3
    assert by_id[good]["status"] == "green" and by_id[good]["freshness_seconds"] >= 0
    assert by_id[good]["last_success_at"] is not None and by_id[broken]["last_success_at"] is None
    assert by_id[fresh]["status"] == "amber" and by_id[fresh]["last_run"] is None
    assert [row["status"] for row in rows] == ["red", "amber", "green"]
    by_freshness = admin.get("/api/v1/admin/sources", params={"sort": "freshness"}).json()["items"]
    assert by_freshness[-1]["id"] == good  # never-harvested sources count as the stalest
    assert admin.get("/api/v1/admin/sources", params={"sort": "bogus"}).status_code == 422


def test_runs_filter_by_source_and_status(
    site: AdminSite, admin: httpx.Client, run_source: Callable[[str], dict[str, Any]]
) -> None:
    ok, bad = site.register("ok_feed"), site.register("bad_feed")
    serve_items(site.platform, bad, [], status=503)
    ok_run, bad_run = run_source(ok), run_source(bad)
    failed = admin.get("/api/v1/runs", params={"status": "failed"}).json()["items"]
    assert [r["id"] for r in failed] == [bad_run["id"]]
    assert bad_run["error"]["type"] == "FetchError" and "503" in bad_run["error"]["message"]
    assert bad_run["http"]["errors_by_status"] == {"503": 1}
    mine = admin.get("/api/v1/runs", params={"source": ok}).json()["items"]
    assert [r["id"] for r in mine] == [ok_run["id"]]
    wrong = admin.get("/api/v1/runs", params={"status": "exploded"})
    assert wrong.status_code == 422 and wrong.json()["error"]["details"][0]["field"] == "status"
    assert admin.get("/api/v1/runs/no-such-run").status_code == 404


def test_approving_a_hold_withdraws_its_records_and_rejecting_keeps_them(
    site: AdminSite, admin: httpx.Client, run_source: Callable[[str], dict[str, Any]]
) -> None:
    source_id = site.register("feed")
    run = run_source(source_id)
    uids = [f"{source_id}:{item['id']}" for item in GOOD_ITEMS]
    first = site.store.holds.create(source_id, uids[:2], run_id=run["id"], reason="2 of 5 records vanished")
    second = site.store.holds.create(source_id, uids[2:], run_id=run["id"], reason="3 of 5 records vanished")
    pending = admin.get("/api/v1/holds").json()["items"]
    assert {h["id"] for h in pending} == {first.id, second.id}
    approved = admin.post(f"/api/v1/holds/{first.id}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert site.backend.count(source_id) == len(GOOD_ITEMS) - 2
    assert admin.post(f"/api/v1/holds/{first.id}/approve").status_code == 409
    assert admin.post(f"/api/v1/holds/{second.id}/reject").json()["status"] == "rejected"
    assert site.backend.count(source_id) == len(GOOD_ITEMS) - 2
    assert admin.get("/api/v1/holds").json()["items"] == []
    assert len(admin.get("/api/v1/holds", params={"status": ""}).json()["items"]) == 2
    assert admin.post("/api/v1/holds/99999/approve").status_code == 404
    decided = [e.action for e in site.store.audit.find(target=source_id) if e.action.startswith("hold.")]
    assert decided == ["hold.reject", "hold.approve"]


def test_quarantine_pages_by_source_and_run(site: AdminSite, admin: httpx.Client) -> None:
    source_id = site.register("feed")
    run = site.store.runs.start(source_id, trigger="manual")
    site.store.runs.finish(run.id, RunOutcome(status="partial"))
    site.store.quarantine.add(source_id, [QuarantineItem(f"x{i}", "缺少标题") for i in range(5)], run_id=run.id)
    page = admin.get("/api/v1/quarantine", params={"source": source_id, "limit": 3}).json()
    assert page["total"] == 5 and len(page["items"]) == 3 and page["next_before"]
    rest = admin.get("/api/v1/quarantine", params={"run": run.id, "before": page["next_before"]}).json()
    assert len(rest["items"]) == 2 and rest["next_before"] is None
