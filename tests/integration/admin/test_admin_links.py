"""Admins split a wrong merge or join a missed one through the API; the decision holds through re-harvests and
`edufed reindex`, and the audit log has it."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from config.loader import load_themes
from crawlers.run import RunReport, harvest
from indexer.pipeline import RecordBuilder
from search_api.cli import Console, main
from tests.integration.admin.conftest import AdminSite
from tests.integration.scheduler.conftest import api_source, serve_items

FIELDS = {"title": "name", "instructors": "teacher", "description": "intro"}


def _course(teacher: str, intro: str = "") -> list[dict[str, Any]]:
    return [{"id": "k1", "name": "书法入门", "teacher": teacher, "intro": intro}]


def _register(site: AdminSite, source_id: str, platform: str, items: list[dict[str, Any]]) -> str:
    serve_items(site.platform, source_id, items)
    config = api_source(site.platform, source_id, platform=platform, platform_name=f"{platform} 平台", fields=FIELDS)
    site.store.sources.add(config, created_by="test")
    return f"{source_id}:k1"


def _clusters(site: AdminSite, *uids: str) -> list[str | None]:
    found = [site.backend.get(uid) for uid in uids]
    return [r.cluster_id if r else "missing" for r in found]


def _reindex(site: AdminSite, tmp_path: Path) -> None:
    config = tmp_path / "reindex.yaml"
    config.write_text(f"data_dir: {site.settings.data_dir}\nstate_db_url: {site.settings.state_db_url}\n",
                      encoding="utf-8")  # fmt: skip
    out, err = io.StringIO(), io.StringIO()
    code = main(["reindex", "--workers", "1", "--config", str(config)], console=Console(out=out, err=err))
    assert code == 0, err.getvalue()


@pytest.fixture
def run_source(site: AdminSite) -> Callable[[str], RunReport]:
    """Harvest a registered source now, in this process, into the service's index (as its scheduler would)."""
    builder = RecordBuilder(load_themes(site.settings.themes_file))

    def run(source_id: str) -> RunReport:
        config = site.store.sources.get(source_id).config
        return harvest(config, settings=site.settings, backend=site.backend, builder=builder, state=site.store)

    return run


@pytest.fixture
def pair(site: AdminSite, run_source: Callable[[str], RunReport]) -> Callable[[str, str], tuple[str, str]]:
    """Harvest 书法入门 from two platforms with the given teachers; the two uids."""

    def make(teacher_a: str, teacher_b: str) -> tuple[str, str]:
        a = _register(site, "links_a", "platform_a", _course(teacher_a))
        b = _register(site, "links_b", "platform_b", _course(teacher_b))
        run_source("links_a")
        run_source("links_b")
        return a, b

    return make


def test_an_admin_splits_a_merged_pair_and_it_stays_split(
    site: AdminSite, admin: httpx.Client, pair: Callable[[str, str], tuple[str, str]],
    run_source: Callable[[str], RunReport], tmp_path: Path,
) -> None:  # fmt: skip
    a, b = pair("王秀兰", "王秀兰老师")
    before = admin.get(f"/api/v1/admin/records/{a}/links").json()
    assert before["cluster_id"] is not None and [m["uid"] for m in before["members"]] == [a, b]
    assert [e["text"] for e in before["evidence"]] == ["同一主讲 王秀兰"]
    answer = admin.post(f"/api/v1/admin/records/{a}/links", json={"other": b, "kind": "split", "note": "两门课"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["record"]["cluster_id"] is None
    assert answer.json()["record"]["decisions"][0] | {"decided_at": None} == {
        "a": a, "b": b, "kind": "split", "decided_by": answer.json()["decision"]["decided_by"], "decided_at": None,
        "note": "两门课"}  # fmt: skip
    assert _clusters(site, a, b) == [None, None]
    entries = site.store.audit.find(action="link.split", target=a)
    assert (
        len(entries) == 1
        and entries[0].actor.startswith("key:")
        and entries[0].details == {"other": b, "note": "两门课"}
    )
    serve_items(site.platform, "links_b", _course("王秀兰", intro="重新采集：简介改了，记录要重写"))
    assert run_source("links_b").updated == 1
    assert _clusters(site, a, b) == [None, None]
    _reindex(site, tmp_path)
    assert _clusters(site, a, b) == [None, None]


def test_an_admin_joins_a_missed_pair_and_can_undo_it(
    site: AdminSite, admin: httpx.Client, pair: Callable[[str, str], tuple[str, str]],
    run_source: Callable[[str], RunReport], tmp_path: Path,
) -> None:  # fmt: skip
    a, b = pair("王秀兰", "李建国")
    assert _clusters(site, a, b) == [None, None]
    answer = admin.post(f"/api/v1/admin/records/{b}/links", json={"other": a, "kind": "join"})
    assert answer.status_code == 200, answer.text
    view = admin.get(f"/api/v1/admin/records/{a}/links").json()
    assert view["cluster_id"] is not None and [m["uid"] for m in view["members"]] == [a, b]
    assert view["evidence"][0]["text"].startswith("管理员合并（key:")
    serve_items(site.platform, "links_a", _course("王秀兰", intro="重新采集：简介改了，记录要重写"))
    assert run_source("links_a").updated == 1
    _reindex(site, tmp_path)
    assert _clusters(site, a, b)[0] == _clusters(site, a, b)[1] is not None
    assert len(site.store.audit.find(action="link.join", target=b)) == 1
    undone = admin.delete(f"/api/v1/admin/records/{a}/links/{b}")
    assert undone.status_code == 200 and undone.json()["undone"]["kind"] == "join"
    assert _clusters(site, a, b) == [None, None]
    assert len(site.store.audit.find(action="link.undo", target=a)) == 1


def test_bad_link_decisions_are_clear_errors_and_store_nothing(
    site: AdminSite, admin: httpx.Client, pair: Callable[[str, str], tuple[str, str]]
) -> None:
    a, b = pair("王秀兰", "王秀兰")
    cases = [
        (f"/api/v1/admin/records/{a}/links", {"other": "nowhere:1", "kind": "split"}, 404),
        ("/api/v1/admin/records/nowhere:1/links", {"other": a, "kind": "join"}, 404),
        (f"/api/v1/admin/records/{a}/links", {"other": a, "kind": "split"}, 422),
        (f"/api/v1/admin/records/{a}/links", {"other": b, "kind": "merge"}, 422),
        (f"/api/v1/admin/records/{a}/links", {"other": b, "kind": "split", "extra": 1}, 422),
    ]
    for path, body, status in cases:
        answer = admin.post(path, json=body)
        assert answer.status_code == status, (body, answer.text)
        assert set(answer.json()["error"]) == {"code", "message", "details"}
    assert admin.delete(f"/api/v1/admin/records/{a}/links/{b}").status_code == 404
    with httpx.Client(base_url=site.url, timeout=30) as anonymous:
        operator = anonymous.post(f"/api/v1/admin/records/{a}/links", json={"other": b, "kind": "split"},
                                  headers={"Authorization": f"Bearer {site.operator_key}"})  # fmt: skip
    assert operator.status_code == 403
    assert site.store.links.all() == [] and site.store.audit.find(action="link.split") == []
    assert _clusters(site, a, b)[0] == _clusters(site, a, b)[1] is not None


@contextmanager
def _signed_in(site: AdminSite) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.url, timeout=30) as client:
        assert client.post("/admin/login", data={"key": site.admin_key}).status_code == 303
        yield client


def test_the_record_page_shows_members_and_evidence_and_its_buttons_split_and_undo(
    site: AdminSite, pair: Callable[[str, str], tuple[str, str]]
) -> None:
    a, b = pair("王秀兰", "王秀兰")
    with _signed_in(site) as pages:
        assert 'action="/admin/records"' in pages.get("/admin").text
        found = pages.get("/admin/records", params={"uid": a})
        assert found.status_code == 303 and found.headers["location"] == f"/admin/records/{quote(a, safe='')}"
        page = pages.get(found.headers["location"]).text
        assert b in page and "同一主讲 王秀兰" in page and "不是同一课程，拆开" in page
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        forged = pages.post(f"/admin/records/{a}/links", data={"kind": "split", "other": b, "csrf": "x"})
        assert forged.headers["location"].endswith("?error=csrf") and site.store.links.all() == []
        form = {"csrf": csrf.group(1), "kind": "split", "other": b, "next": f"/admin/records/{a}"}
        done = pages.post(f"/admin/records/{a}/links", data=form)
        assert done.status_code == 303 and done.headers["location"].endswith("?done=split")
        assert _clusters(site, a, b) == [None, None]
        page = pages.get(f"/admin/records/{a}").text
        assert "没有和其他平台的记录合并" in page and "撤销" in page
        undo = pages.post(f"/admin/records/{a}/links/undo", data={"csrf": csrf.group(1), "other": b})
        assert undo.headers["location"].endswith("?done=undone")
        assert _clusters(site, a, b)[0] == _clusters(site, a, b)[1] is not None
        unknown = pages.post(f"/admin/records/{a}/links", data=form | {"kind": "join", "other": "nowhere:1"})
        assert unknown.headers["location"].endswith("?error=record_not_found")
