"""Stored XSS: titles, descriptions and config values holding HTML or script are inert on every page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.integration.operator.site import OperatorSite, course_source
from tests.integration.scheduler.conftest import wait_until

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
SVG = "<svg onload=alert(3)>"
HOSTILE = [
    # Entity-escaped markup survives normalization as literal text: the pages must escape it again.
    {"id": "x1", "name": "书法&lt;script&gt;alert(1)&lt;/script&gt;",
     "summary": "太极拳 &lt;img src=x onerror=alert(2)&gt;"},
    {"id": "x2", "name": f"太极拳{SCRIPT}", "summary": f"<p>养生{IMG}</p>"},
    {"id": SVG, "summary": "没有标题，被拒收"},
]  # fmt: skip


@contextmanager
def _signed_in(site: OperatorSite, path: str, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.url, follow_redirects=True, timeout=60) as client:
        assert client.post(f"{path}/login", data={"key": key}).status_code == 200
        yield client


@pytest.fixture
def hostile_pages(site: OperatorSite) -> dict[str, str]:
    """Every page that shows the hostile records and config, by name."""
    url = site.serve_courses("/hostile", HOSTILE)
    body = course_source(url, name=f"课程{IMG}", platform_name=f"平台{SCRIPT}", enabled=True)
    pages: dict[str, str] = {}
    with site.client(site.admin_key) as admin:
        assert admin.post("/api/v1/sources", json=body).status_code == 201
        run = admin.post("/api/v1/sources/my_courses/runs").json()
        wait_until(lambda: admin.get(f"/api/v1/runs/{run['run_id']}").json()["status"] != "running", what="run")
        wait_until(lambda: site.store.leases.get("my_courses") is None, what="the run's end")
    with httpx.Client(base_url=site.url, timeout=60) as public:
        pages["search"] = public.get("/", params={"q": "书法"}).text
        pages["browse"] = public.get("/", params={"q": "太极拳"}).text
        pages["record"] = public.get("/records/my_courses:x1").text
    with _signed_in(site, "/operator", site.operator_key) as operator:
        pages["operator list"] = operator.get("/operator").text
        pages["operator source"] = operator.get("/operator/sources/my_courses").text
        page = operator.get("/operator/sources/my_courses").text
        token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        pages["operator preview"] = operator.post("/operator/sources/my_courses/dry-run", data={"csrf": token}).text
    with _signed_in(site, "/admin", site.admin_key) as admin_pages:
        pages["admin"] = admin_pages.get("/admin").text
        pages["admin source"] = admin_pages.get("/admin/sources/my_courses").text
        run_id = site.store.runs.find(source_id="my_courses")[0].id
        pages["admin run"] = admin_pages.get(f"/admin/runs/{run_id}").text
    return pages


def test_markup_from_platforms_and_operators_is_escaped_on_every_page(hostile_pages: dict[str, Any]) -> None:
    for name, html in hostile_pages.items():
        for payload in (SCRIPT, IMG, SVG, "onerror=alert(2)>"):
            assert payload not in html, f"{payload} is live on the {name} page"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile_pages["record"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile_pages["search"]
    assert "课程&lt;img src=x onerror=alert(2)&gt;" in hostile_pages["operator source"]
    assert "&lt;svg onload=alert(3)&gt;" in hostile_pages["operator source"]  # the rejected item's id
    assert "&lt;script&gt;" in hostile_pages["operator preview"]
    assert "&lt;img src=x onerror=alert(2)&gt;" in hostile_pages["admin"]
