"""Deleting a source through the API under the mass-deletion rules: held until an admin approves or rejects.

A source with records in the catalogue is disabled and its records' withdrawal held (202); the admin's
decision withdraws or keeps them; a source without records (or whose held deletion was approved) is
unregistered at once (200). Every step is in the audit log.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.integration.operator.site import (  # noqa: F401 (postgres_site_fixture is a fixture)
    COURSES,
    OTHER_PLATFORM,
    OperatorSite,
    course_source,
    make_settings,
    operator_site,
    postgres_site_fixture,
)
from tests.integration.scheduler.conftest import wait_until
from tests.integration.state.conftest import postgres_admin  # noqa: F401 (a fixture)

SOURCE = "my_courses"
UIDS = sorted(f"{SOURCE}:{c['id']}" for c in COURSES)


def _harvested(site: OperatorSite, operator: httpx.Client, admin: httpx.Client, **changes: Any) -> None:
    """Register the fixture course list as an enabled source and run it once, to the end."""
    url = site.serve_courses("/courses", COURSES)
    client = admin if changes.get("platform") == OTHER_PLATFORM else operator
    created = client.post("/api/v1/sources", json=course_source(url, enabled=True, **changes))
    assert created.status_code == 201, created.text
    source_id = created.json()["id"]
    started = admin.post(f"/api/v1/sources/{source_id}/runs")
    assert started.status_code == 202, started.text

    def finished() -> bool:
        run = admin.get(f"/api/v1/runs/{started.json()['run_id']}").json()
        return run["status"] != "running" and site.store.leases.get(source_id) is None

    wait_until(finished, what="the run to finish and release its lease")
    assert site.backend.count(source_id) == len(COURSES)


def _found(client: httpx.Client, q: str) -> list[str]:
    return [item["id"] for item in client.get("/api/v1/search", params={"q": q}).json()["items"]]


def _actions(site: OperatorSite, source_id: str = SOURCE) -> list[str]:
    return [entry.action for entry in site.store.audit.find(target=source_id)]


def _request_deletion(client: httpx.Client, source_id: str = SOURCE) -> dict[str, Any]:
    answer = client.delete(f"/api/v1/sources/{source_id}")
    assert answer.status_code == 202, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_deleting_a_source_with_records_disables_it_and_holds_their_withdrawal(
    site: OperatorSite, operator: httpx.Client, admin: httpx.Client
) -> None:
    _harvested(site, operator, admin)
    body = _request_deletion(operator)
    assert body["deleted"] is False and body["status"] == "held" and body["held_records"] == len(COURSES)

    assert _found(operator, "太极拳") == [f"{SOURCE}:c2"]  # still in the catalogue until an admin decides
    source = operator.get(f"/api/v1/sources/{SOURCE}").json()
    assert source["enabled"] is False and source["schedulable"] is False
    assert site.scheduler.next_run_time(SOURCE) is None
    holds = admin.get("/api/v1/holds", params={"source": SOURCE, "status": "pending"}).json()["items"]
    key_id = site.operator_key.split("_")[1]
    assert [(h["id"], h["uids"], h["reason"]) for h in holds] == [
        (body["hold_id"], UIDS, f"source deleted by key:{key_id}")
    ]
    runs = operator.get(f"/api/v1/sources/{SOURCE}/runs").json()["items"]
    assert (runs[0]["trigger"], runs[0]["status"]) == ("delete", "held")
    assert _actions(site)[0] == "source.delete_requested"
    assert site.store.audit.find(target=SOURCE)[0].details == {
        "hold_id": body["hold_id"], "held_records": len(COURSES), "was_enabled": True
    }  # fmt: skip


def test_while_a_deletion_waits_the_source_cannot_be_deleted_again_or_enabled(
    site: OperatorSite, operator: httpx.Client, admin: httpx.Client
) -> None:
    _harvested(site, operator, admin)
    hold_id = _request_deletion(operator)["hold_id"]
    again = operator.delete(f"/api/v1/sources/{SOURCE}")
    assert again.status_code == 409 and again.json()["error"]["code"] == "deletion_pending"
    assert str(hold_id) in again.json()["error"]["message"]
    enabled = operator.patch(f"/api/v1/sources/{SOURCE}", json={"enabled": True})
    assert enabled.status_code == 409 and enabled.json()["error"]["code"] == "deletion_pending"
    assert operator.post(f"/api/v1/holds/{hold_id}/approve").status_code == 403  # only an admin decides
    run = admin.post(f"/api/v1/sources/{SOURCE}/runs")  # not even an admin harvests it meanwhile
    assert run.status_code == 409 and run.json()["error"]["code"] == "deletion_pending"
    assert len(admin.get("/api/v1/holds", params={"source": SOURCE}).json()["items"]) == 1


def test_approving_withdraws_the_records_hides_the_source_and_a_second_delete_unregisters_it(
    site: OperatorSite, operator: httpx.Client, admin: httpx.Client
) -> None:
    _harvested(site, operator, admin)
    hold_id = _request_deletion(operator)["hold_id"]
    approved = admin.post(f"/api/v1/holds/{hold_id}/approve")
    assert approved.status_code == 200, approved.text

    assert _found(operator, "太极拳") == [] and site.backend.count(SOURCE) == 0
    assert SOURCE not in [s["id"] for s in operator.get("/api/v1/sources").json()["items"]]
    assert SOURCE not in [s["id"] for s in admin.get("/api/v1/sources").json()["items"]]
    assert SOURCE not in [s["id"] for s in admin.get("/api/v1/admin/sources").json()["items"]]
    changed = operator.patch(f"/api/v1/sources/{SOURCE}", json={"enabled": True})
    assert changed.status_code == 409 and changed.json()["error"]["code"] == "source_deleted"

    removed = operator.delete(f"/api/v1/sources/{SOURCE}")
    assert removed.status_code == 200, removed.text
    assert removed.json() == {"id": SOURCE, "deleted": True, "withdrawn_records": 0}
    assert SOURCE not in site.store.sources.ids()
    assert operator.get(f"/api/v1/sources/{SOURCE}").status_code == 404
    assert _actions(site)[:3] == ["source.delete", "hold.approve", "source.delete_requested"]
    url = site.serve_courses("/courses", COURSES)
    assert operator.post("/api/v1/sources", json=course_source(url)).status_code == 201  # the id is free again


def test_rejecting_keeps_the_records_and_the_source_stays_disabled_until_enabled(
    site: OperatorSite, operator: httpx.Client, admin: httpx.Client
) -> None:
    _harvested(site, operator, admin)
    hold_id = _request_deletion(operator)["hold_id"]
    rejected = admin.post(f"/api/v1/holds/{hold_id}/reject")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"

    assert _found(operator, "太极拳") == [f"{SOURCE}:c2"] and site.backend.count(SOURCE) == len(COURSES)
    listed = {s["id"]: s for s in operator.get("/api/v1/sources").json()["items"]}
    assert listed[SOURCE]["enabled"] is False and site.scheduler.next_run_time(SOURCE) is None
    enabled = operator.patch(f"/api/v1/sources/{SOURCE}", json={"enabled": True})
    assert enabled.status_code == 200 and enabled.json()["schedulable"] is True
    assert site.scheduler.next_run_time(SOURCE) is not None
    assert _actions(site)[:3] == ["source.update", "hold.reject", "source.delete_requested"]


def test_a_source_without_records_is_unregistered_at_once(site: OperatorSite, operator: httpx.Client) -> None:
    url = site.serve_courses("/courses", COURSES)
    assert operator.post("/api/v1/sources", json=course_source(url)).status_code == 201
    deleted = operator.delete(f"/api/v1/sources/{SOURCE}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"id": SOURCE, "deleted": True, "withdrawn_records": 0}
    assert SOURCE not in site.store.sources.ids() and site.store.holds.find() == []
    assert _actions(site) == ["source.delete", "source.create"]


def test_an_admin_deletes_another_platforms_source_under_the_same_hold_and_its_operator_may_not(
    site: OperatorSite, operator: httpx.Client, other: httpx.Client, admin: httpx.Client
) -> None:
    _harvested(site, operator, admin, id="their_courses", platform=OTHER_PLATFORM)
    refused = operator.delete("/api/v1/sources/their_courses")
    assert refused.status_code == 403 and site.store.holds.find() == []
    body = _request_deletion(admin, "their_courses")
    admin_id = site.admin_key.split("_")[1]
    hold = site.store.holds.get(body["hold_id"])
    assert hold.reason == f"source deleted by key:{admin_id}" and len(hold.uids) == len(COURSES)
    assert other.get("/api/v1/sources/their_courses").json()["enabled"] is False


def test_the_delete_button_on_the_operator_page_says_the_deletion_waits_for_approval(
    site: OperatorSite, operator: httpx.Client, admin: httpx.Client
) -> None:
    _harvested(site, operator, admin)
    with httpx.Client(base_url=site.url, timeout=60, follow_redirects=True) as browser:
        assert browser.post("/operator/login", data={"key": site.operator_key}).status_code == 200
        page = browser.get(f"/operator/sources/{SOURCE}").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        answer = browser.post(f"/operator/sources/{SOURCE}/delete", data={"csrf": csrf.group(1)})
    assert answer.status_code == 200 and str(answer.url).endswith("/operator?done=deletion_held")
    assert "管理员批准后它的课程从目录中撤下" in answer.text
    assert [h.source_id for h in site.store.holds.find(status="pending")] == [SOURCE]


def test_a_deletion_is_held_approved_and_unregistered_on_postgresql(postgres_site: OperatorSite) -> None:
    site = postgres_site
    with site.client(site.operator_key) as operator, site.client(site.admin_key) as admin:
        _harvested(site, operator, admin)
        hold_id = _request_deletion(operator)["hold_id"]
        assert admin.post(f"/api/v1/holds/{hold_id}/approve").status_code == 200
        assert _found(operator, "太极拳") == [] and operator.get("/api/v1/sources").json()["items"] == []
        assert operator.delete(f"/api/v1/sources/{SOURCE}").status_code == 200
    assert SOURCE not in site.store.sources.ids()
    assert _actions(site)[:3] == ["source.delete", "hold.approve", "source.delete_requested"]
