"""Keys never appear in logs, run reports, audit entries or error bodies."""

from __future__ import annotations

import logging

import httpx
import pytest

from tests.integration.operator.site import COURSES, OperatorSite, course_source
from tests.integration.scheduler.conftest import wait_until


def test_keys_appear_in_no_log_report_audit_entry_or_error_body(
    site: OperatorSite, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    url = site.serve_courses("/c", [*COURSES, {"id": "bad"}])
    with site.client(site.admin_key) as admin:
        issued = admin.post("/api/v1/keys", json={"role": "operator", "platform": "test_platform"}).json()
        new_key = issued["key"]
        with site.client(new_key) as operator:
            seen.append(operator.post("/api/v1/sources", json=course_source(url, enabled=True)).text)
            seen.append(operator.post("/api/v1/sources/my_courses/dry-run").text)
            seen.append(operator.post("/api/v1/sources", json={"id": "Bad"}).text)
            seen.append(operator.get("/api/v1/keys").text)
            seen.append(operator.get("/api/v1/sources/nope").text)
        run = admin.post("/api/v1/sources/my_courses/runs").json()
        wait_until(lambda: admin.get(f"/api/v1/runs/{run['run_id']}").json()["status"] != "running", what="run")
        seen.append(admin.get(f"/api/v1/runs/{run['run_id']}").text)
        seen.append(admin.delete(f"/api/v1/keys/{issued['id']}").text)
        with site.client(new_key) as revoked:
            seen.append(revoked.get("/api/v1/sources").text)
    with httpx.Client(base_url=site.url, timeout=30) as browser:
        seen.append(browser.post("/operator/login", data={"key": new_key}).text)
        seen.append(browser.post("/operator/login", data={"key": site.operator_key[:-1] + "x"}).text)
    stored = [str(e) for e in site.store.audit.find(limit=500)]
    stored += [str(r.report) + str(r.http) + str(r.error_message) for r in site.store.runs.find(limit=50)]
    everything = "\n".join([caplog.text, *seen, *stored])
    assert "my_courses" in everything and issued["id"] in everything  # the texts searched are the real ones
    for key in (new_key, site.admin_key, site.operator_key, site.other_key):
        secret = key.split("_", 2)[2]
        assert secret not in everything
        assert secret[:-1] not in everything
