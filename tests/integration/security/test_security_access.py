"""Roles: operators act only for their own platform (403 otherwise), never as admins; no or revoked key -> 401."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.operator.site import COURSES, OperatorSite, course_source


@pytest.fixture
def their_source(site: OperatorSite, other: httpx.Client) -> str:
    body = course_source(site.serve_courses("/theirs", COURSES), "their_courses", platform="other_platform")
    assert other.post("/api/v1/sources", json=body).status_code == 201
    return "their_courses"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/sources/their_courses", None),
        ("PATCH", "/api/v1/sources/their_courses", {"name": "改掉"}),
        ("DELETE", "/api/v1/sources/their_courses", None),
        ("POST", "/api/v1/sources/their_courses/dry-run", None),
        ("GET", "/api/v1/sources/their_courses/runs", None),
        ("GET", "/api/v1/sources/their_courses/rejected", None),
    ],
)
def test_an_operator_cannot_touch_another_platforms_source(
    site: OperatorSite, operator: httpx.Client, their_source: str, method: str, path: str, body: object
) -> None:
    before = site.store.sources.get(their_source)
    answer = operator.request(method, path, json=body)
    assert answer.status_code == 403, answer.text
    assert answer.json()["error"]["code"] == "forbidden"
    assert site.store.sources.get(their_source) == before


def test_an_operator_cannot_register_or_dry_run_as_another_platform(site: OperatorSite, operator: httpx.Client) -> None:
    body = course_source(site.serve_courses("/c", COURSES), platform="other_platform")
    assert operator.post("/api/v1/sources", json=body).status_code == 403
    assert operator.post("/api/v1/sources/dry-run", json=body).status_code == 403
    assert site.store.sources.ids() == [] and site.platform.requests == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/keys"), ("POST", "/api/v1/keys"), ("DELETE", "/api/v1/keys/abc"),
        ("GET", "/api/v1/runs"), ("GET", "/api/v1/admin/sources"), ("GET", "/api/v1/holds"),
        ("GET", "/api/v1/quarantine"), ("POST", "/api/v1/sources/their_courses/runs"),
        ("POST", "/api/v1/sources/their_courses/pause"),
    ],
)  # fmt: skip
def test_an_operator_cannot_reach_admin_endpoints(
    operator: httpx.Client, their_source: str, method: str, path: str
) -> None:
    answer = operator.request(method, path, json={"role": "admin"} if method == "POST" else None)
    assert answer.status_code == 403, answer.text


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer efk_000000000000_" + "a" * 43, "Basic abc", "Bearer x"])
def test_a_missing_or_unknown_key_is_401(site: OperatorSite, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    with httpx.Client(base_url=site.url, headers=headers, timeout=30) as client:
        for method, path in (("GET", "/api/v1/sources"), ("POST", "/api/v1/sources/dry-run"), ("GET", "/api/v1/keys")):
            answer = client.request(method, path, json={})
            assert answer.status_code == 401 and answer.json()["error"]["code"] == "unauthorized", path


def test_a_revoked_operator_key_is_401(site: OperatorSite, operator: httpx.Client) -> None:
    assert operator.get("/api/v1/sources").status_code == 200
    site.store.keys.revoke(site.operator_key.split("_")[1])
    assert operator.get("/api/v1/sources").status_code == 401


def test_an_operator_page_session_sees_only_its_platform(
    site: OperatorSite, their_source: str, operator: httpx.Client
) -> None:
    with httpx.Client(base_url=site.url, follow_redirects=True, timeout=30) as browser:
        browser.post("/operator/login", data={"key": site.operator_key})
        assert "their_courses" not in browser.get("/operator").text
        assert browser.get(f"/operator/sources/{their_source}").status_code == 403
