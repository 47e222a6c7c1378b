"""The operator's whole path through the API: register, dry-run, fix, activate, run, check the status."""

from __future__ import annotations

from typing import Any

import httpx

from tests.integration.operator.site import COURSES, PLATFORM, OperatorSite, course_source
from tests.integration.scheduler.conftest import wait_until


def _finished_run(admin: httpx.Client, source_id: str) -> dict[str, Any]:
    answer = admin.post(f"/api/v1/sources/{source_id}/runs")
    assert answer.status_code == 202, answer.text

    def done() -> dict[str, Any] | None:
        body: dict[str, Any] = admin.get(f"/api/v1/runs/{answer.json()['run_id']}").json()
        return body if body["status"] != "running" else None

    result: dict[str, Any] = wait_until(done, what="the run to finish")
    return result


def test_register_dry_run_fix_activate_run_and_status(
    site: OperatorSite, operator: httpx.Client, admin: httpx.Client
) -> None:
    url = site.serve_courses("/courses", COURSES)
    # A first mapping that points the title at a key the platform does not have.
    body = course_source(url, fields={"title": "title_wrong", "description": "summary"})
    created = operator.post("/api/v1/sources", json=body)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/api/v1/sources/my_courses"
    assert created.json()["enabled"] is False and created.json()["platform"] == PLATFORM

    preview = operator.post("/api/v1/sources/my_courses/dry-run").json()
    assert preview["items"] == [] and len(preview["rejected"]) == 3
    assert {r["field"] for r in preview["rejected"]} == {"title"}
    assert preview["requests"][0]["status"] == 200 and preview["requests"][0]["url"].startswith(url)

    fixed = operator.patch("/api/v1/sources/my_courses", json={"fields": {"title": "name", "title_wrong": None}})
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["config"]["fields"] == {"title": "name", "description": "summary"}
    preview = operator.post("/api/v1/sources/my_courses/dry-run").json()
    assert [item["record"]["title"] for item in preview["items"]] == [c["name"] for c in COURSES]
    assert site.backend.content_hashes("my_courses") == {}  # a dry-run writes nothing

    assert site.scheduler.next_run_time("my_courses") is None
    activated = operator.patch("/api/v1/sources/my_courses", json={"enabled": True})
    assert activated.json()["schedulable"] is True
    assert site.scheduler.next_run_time("my_courses") is not None

    run = _finished_run(admin, "my_courses")
    assert run["status"] == "succeeded" and run["counts"]["new"] == 3

    status = operator.get("/api/v1/sources/my_courses").json()
    assert status["health"]["last_success_at"] is not None and status["health"]["consecutive_failures"] == 0
    runs = operator.get("/api/v1/sources/my_courses/runs").json()["items"]
    assert [r["status"] for r in runs] == ["succeeded"]
    found = operator.get("/api/v1/search", params={"q": "太极拳"}).json()
    assert [item["id"] for item in found["items"]] == ["my_courses:c2"]


def test_rejected_records_are_listed_with_their_reasons(
    site: OperatorSite, operator: httpx.Client, admin: httpx.Client
) -> None:
    url = site.serve_courses("/mixed", [*COURSES, {"id": "c9", "summary": "没有标题"}])
    assert operator.post("/api/v1/sources", json=course_source(url, enabled=True)).status_code == 201
    run = _finished_run(admin, "my_courses")
    assert run["status"] == "partial" and run["counts"]["rejected"] == 1
    rejected = operator.get("/api/v1/sources/my_courses/rejected").json()
    assert rejected["total"] == 1
    assert rejected["items"][0]["item_id"] == "c9" and "title" in rejected["items"][0]["reason"]


def test_every_change_is_in_the_audit_log_with_the_acting_key(site: OperatorSite, operator: httpx.Client) -> None:
    url = site.serve_courses("/courses", COURSES)
    operator.post("/api/v1/sources", json=course_source(url))
    operator.patch("/api/v1/sources/my_courses", json={"name": "新名字"})
    operator.delete("/api/v1/sources/my_courses")
    key_id = site.operator_key.split("_")[1]
    entries = site.store.audit.find(target="my_courses")
    assert [e.action for e in entries] == ["source.delete", "source.update", "source.create"]
    assert {e.actor for e in entries} == {f"key:{key_id}"}
    assert entries[1].details == {"changed": {"name": {"from": "我的课程", "to": "新名字"}}}


def test_an_operator_lists_only_their_platforms_sources_and_an_admin_all(
    site: OperatorSite, operator: httpx.Client, other: httpx.Client, admin: httpx.Client
) -> None:
    url = site.serve_courses("/courses", COURSES)
    operator.post("/api/v1/sources", json=course_source(url))
    mine = other.post("/api/v1/sources", json=course_source(url, "their_courses", platform="other_platform"))
    assert mine.status_code == 201, mine.text
    assert [s["id"] for s in operator.get("/api/v1/sources").json()["items"]] == ["my_courses"]
    assert [s["id"] for s in other.get("/api/v1/sources").json()["items"]] == ["their_courses"]
    assert [s["id"] for s in admin.get("/api/v1/sources").json()["items"]] == ["my_courses", "their_courses"]


def test_the_platform_is_filled_in_from_an_operator_key(site: OperatorSite, operator: httpx.Client) -> None:
    body = course_source(site.serve_courses("/courses", COURSES))
    del body["platform"]
    created = operator.post("/api/v1/sources", json=body)
    assert created.status_code == 201 and created.json()["platform"] == PLATFORM


def test_registering_a_taken_id_is_a_conflict(site: OperatorSite, operator: httpx.Client) -> None:
    body = course_source(site.serve_courses("/courses", COURSES))
    assert operator.post("/api/v1/sources", json=body).status_code == 201
    again = operator.post("/api/v1/sources", json={**body, "name": "另一个"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "source_exists"
    assert site.store.sources.get("my_courses").name == "我的课程"
