"""Operator keys: admins issue them (API and CLI), they are shown once, listed without secrets, revoked at once."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import yaml

from search_api.cli import Console, main
from tests.integration.operator.site import COURSES, OperatorSite, course_source


def test_an_admin_issues_an_operator_key_that_acts_for_its_platform(site: OperatorSite, admin: httpx.Client) -> None:
    new_platform = {"role": "operator", "platform": "shequ_xicheng", "label": "西城社区"}
    refused = admin.post("/api/v1/keys", json=new_platform)
    assert refused.status_code == 422 and refused.json()["error"]["details"][0]["field"] == "platform"
    assert "test_platform (测试平台)" not in refused.text  # no source yet: the key's platform is named alone
    assert "known platforms: " in refused.text and "test_platform" in refused.text and "new_platform" in refused.text
    assert admin.get("/api/v1/keys").json()["items"] and len(site.store.keys.find(platform="shequ_xicheng")) == 0
    answer = admin.post("/api/v1/keys", json={**new_platform, "new_platform": True})
    assert answer.status_code == 201, answer.text
    issued = answer.json()
    assert issued["key"].startswith(f"efk_{issued['id']}_") and answer.headers["cache-control"] == "no-store"
    with site.client(issued["key"]) as new_operator:
        body = course_source(site.serve_courses("/c", COURSES), platform="shequ_xicheng")
        assert new_operator.post("/api/v1/sources", json=body).status_code == 201
        assert new_operator.post("/api/v1/sources", json={**body, "id": "x_courses", "platform": "test_platform"}
                                 ).status_code == 403  # fmt: skip
    listed = admin.get("/api/v1/keys").json()["items"]
    assert issued["id"] in {k["id"] for k in listed}
    assert all("key" not in k and "secret" not in str(k) for k in listed)
    assert issued["key"] not in answer.request.content.decode() and issued["key"] not in str(listed)


def test_a_revoked_key_is_refused_at_once(site: OperatorSite, admin: httpx.Client) -> None:
    issued = admin.post("/api/v1/keys", json={"role": "operator", "platform": "test_platform"}).json()
    with site.client(issued["key"]) as holder:
        assert holder.get("/api/v1/sources").status_code == 200
        revoked = admin.delete(f"/api/v1/keys/{issued['id']}")
        assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
        assert holder.get("/api/v1/sources").status_code == 401
    assert issued["id"] not in {k["id"] for k in admin.get("/api/v1/keys").json()["items"]}
    assert issued["id"] in {k["id"] for k in admin.get("/api/v1/keys", params={"revoked": True}).json()["items"]}
    assert [e.action for e in site.store.audit.find(target=f"key:{issued['id']}")] == ["key.revoke", "key.create"]


def test_a_key_for_a_platform_no_source_has_is_refused_naming_the_known_ones(
    site: OperatorSite, admin: httpx.Client, operator: httpx.Client
) -> None:
    assert operator.post("/api/v1/sources", json=course_source(site.serve_courses("/c", COURSES))).status_code == 201
    refused = admin.post("/api/v1/keys", json={"role": "operator", "platform": "no_such_platform"})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "validation_error"
    assert "'no_such_platform'" in refused.text and "test_platform (测试平台)" in refused.text
    assert admin.post("/api/v1/keys", json={"role": "admin", "platform": "no_such_platform"}).status_code == 422
    assert admin.post("/api/v1/keys", json={"role": "operator", "platform": "test_platform"}).status_code == 201


def test_an_operator_key_needs_a_platform(admin: httpx.Client) -> None:
    answer = admin.post("/api/v1/keys", json={"role": "operator"})
    assert answer.status_code == 422 and answer.json()["error"]["details"][0]["field"] == "platform"
    assert admin.delete("/api/v1/keys/000000000000").status_code == 404


def test_the_cli_creates_lists_and_revokes_keys(tmp_path: Path) -> None:
    config = tmp_path / "settings.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path)}), encoding="utf-8")

    def run(*args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(["keys", *args, "--config", str(config)], console=Console(out=out, err=err))
        return code, out.getvalue(), err.getvalue()

    code, key, note = run("create", "--role", "operator", "--platform", "shequ_demo", "--new-platform",
                          "--label", "演示")  # fmt: skip
    key = key.strip()
    assert code == 0 and key.startswith("efk_") and "shown only this once" in note
    key_id = key.split("_")[1]
    code, listing, _ = run("list")
    assert code == 0 and key_id in listing and "shequ_demo" in listing and key.split("_", 2)[2] not in listing
    assert run("revoke", key_id)[0] == 0
    assert key_id not in run("list")[1] and key_id in run("list", "--revoked")[1]
    assert run("revoke", "000000000000")[0] == 1
    assert run("create", "--role", "operator")[0] == 2
