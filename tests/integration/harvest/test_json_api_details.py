"""json_api detail requests (le.ouchn's shape) across runs: only new or changed items' details are asked, the
rest are refreshed in a rolling window with their validators, and an item whose detail is skipped stays listed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config.source_models import JsonApiSourceConfig
from crawlers.kinds.details import refresh_slot, today
from tests.integration.state.conftest import postgres_admin, state_url_fixture  # noqa: F401 (fixtures)
from tests.support.harvest_state import Harness
from tests.support.http_server import FixtureServer, conditional, http_server_fixture  # noqa: F401
from tests.support.le_ouchn import PAGING_PATH, detail_path, source_config

PAGE_SIZE = 20  # tests/data/le_ouchn/source.yaml


def course(number: int, *, learners: int = 100) -> dict[str, Any]:
    return {
        "Id": f"c{number:04d}",
        "Name": f"老年智能手机课堂 第{number}讲",
        "Subtitle": "手把手教您用手机",
        "Teacher": "李晓梅",
        "SourceName": "国家开放大学老年大学",
        "StudentCount": learners,
        "Tag": "智能技术",
    }


def detail_body(item: dict[str, Any], *, version: int) -> bytes:
    modules = [{"Id": f"{item['Id']}-m{n}", "Title": f"第{n}节（第{version}版）"} for n in (1, 2)]
    return json.dumps({"Data": {"Name": item["Name"], "Modules": modules}}, ensure_ascii=False).encode("utf-8")


class Catalogue:
    """A le.ouchn-shaped course list with ETag'd detail documents on a fixture server."""

    def __init__(self, server: FixtureServer, items: list[dict[str, Any]]) -> None:
        self.server = server
        self.versions: dict[str, int] = {}
        self.serve(items)

    def serve(self, items: list[dict[str, Any]]) -> None:
        pages = [items[i : i + PAGE_SIZE] for i in range(0, len(items), PAGE_SIZE)] or [[]]
        for number, page in enumerate(pages, start=1):
            body = {"Data": {"PageListInfos": page, "PageCount": len(pages)}}
            self.server.route(PAGING_PATH, query={"PageNum": str(number)}, json=body)
        for item in items:
            self.detail(item, version=self.versions.get(item["Id"], 1))

    def detail(self, item: dict[str, Any], *, version: int) -> None:
        self.versions[item["Id"]] = version
        body = detail_body(item, version=version)
        etag = f'"{item["Id"]}-v{version}"'
        self.server.route(
            detail_path(item["Id"]), responder=conditional(body, etag=etag, content_type="application/json")
        )

    def detail_requests(self) -> list[tuple[str, str | None]]:
        """(course id, If-None-Match) of every detail request so far, then forget them."""
        asked = [
            (r.path.split("/")[3], r.header("If-None-Match"))
            for r in self.server.requests
            if r.path.endswith("Details")
        ]
        self.server.requests.clear()
        return asked


def config(server: FixtureServer, **detail: Any) -> JsonApiSourceConfig:
    base = source_config(server, obey_robots=False)
    assert base.detail is not None
    return base.model_copy(update={"detail": base.detail.model_copy(update=detail)})


def age_details(harness: Harness, source_id: str, days: int) -> None:
    """Move the stored detail memos `days` into the past, as if the last run had been that long ago."""
    stored = harness.store.cursors.get(source_id)
    memos = json.loads(stored["details"])
    for memo in memos.values():
        memo[4] -= days
    harness.store.cursors.put(source_id, {"details": json.dumps(memos)})


@pytest.fixture
def harness(tmp_path: Path, state_url: str) -> Iterator[Harness]:
    with Harness.open(tmp_path / "data", state_url) as opened:
        yield opened


ITEMS = [course(n) for n in range(1, 46)]  # three list pages


def test_an_unchanged_re_harvest_asks_no_detail_again_and_keeps_every_record(
    harness: Harness, http_server: FixtureServer
) -> None:
    catalogue = Catalogue(http_server, ITEMS)
    source = config(http_server)
    first = harness.run(source)
    assert (first.status, first.new, len(catalogue.detail_requests())) == ("succeeded", 45, 45)
    hashes = harness.index_hashes(source.id)
    for _ in range(3):  # more than withdraw_after_missed_runs: nothing skipped is ever counted missing
        harness.reopen_state()  # what a run remembers survives a restart
        again = harness.run(source)
        assert (again.status, again.complete, again.scope) == ("succeeded", True, "full")
        assert (again.fetched, again.unchanged, again.new, again.updated, again.written) == (45, 45, 0, 0, 0)
        assert again.http.requests == 3  # the three list pages, no detail
        assert catalogue.detail_requests() == []
    assert harness.index_hashes(source.id) == hashes
    assert set(harness.missed(source.id).values()) == {0}
    harness.assert_consistent(source.id)


def test_a_changed_or_new_list_item_has_its_detail_read_in_the_same_run(
    harness: Harness, http_server: FixtureServer
) -> None:
    catalogue = Catalogue(http_server, ITEMS)
    source = config(http_server)
    harness.run(source)
    catalogue.detail_requests()
    changed = course(7, learners=5000)
    catalogue.detail(changed, version=2)
    catalogue.serve([*ITEMS[:6], changed, *ITEMS[7:], course(99)])
    again = harness.run(source)
    assert sorted(catalogue.detail_requests()) == [("c0007", None), ("c0099", None)]
    assert (again.new, again.updated, again.unchanged) == (1, 1, 44)
    record = harness.backend.get(f"{source.id}:c0007")
    assert record is not None and record.learner_count == 5000
    assert [lesson.title for lesson in record.lessons] == ["第1节（第2版）", "第2节（第2版）"]


def test_unchanged_details_are_refreshed_in_their_slot_with_validators_and_a_304_is_unchanged(
    harness: Harness, http_server: FixtureServer
) -> None:
    catalogue = Catalogue(http_server, ITEMS)
    source = config(http_server, refresh_days=7)
    harness.run(source)
    catalogue.detail_requests()
    age_details(harness, source.id, 1)  # a day later: only the items whose slot is today
    in_slot = sorted(i["Id"] for i in ITEMS if refresh_slot(i["Id"], 7) == today() % 7)
    assert 0 < len(in_slot) < len(ITEMS)
    daily = harness.run(source)
    assert sorted(catalogue.detail_requests()) == [(i, f'"{i}-v1"') for i in in_slot]
    assert (daily.unchanged, daily.written, daily.status) == (45, 0, "succeeded")
    catalogue.detail(ITEMS[0], version=2)  # a detail changes while its list item stays the same
    age_details(harness, source.id, 7)  # a whole cycle later: every detail is due
    weekly = harness.run(source)
    assert sorted(catalogue.detail_requests()) == [(i["Id"], f'"{i["Id"]}-v1"') for i in ITEMS]  # as last read
    assert (weekly.updated, weekly.unchanged) == (1, 44)
    record = harness.backend.get(f"{source.id}:c0001")
    assert record is not None and record.lessons[0].title == "第1节（第2版）"
    assert harness.run(source).http.requests == 3  # all refreshed now: the next run asks none


def test_a_failed_detail_is_asked_again_next_run_and_a_withdrawn_record_is_read_back(
    harness: Harness, http_server: FixtureServer
) -> None:
    catalogue = Catalogue(http_server, ITEMS[:5])
    http_server.route(detail_path("c0003"), status=500, body="服务器内部错误")
    source = config(http_server)
    first = harness.run(source)
    assert first.status == "partial" and first.warning_count == 1
    catalogue.detail_requests()
    catalogue.serve(ITEMS[:5])
    second = harness.run(source)
    assert catalogue.detail_requests() == [("c0003", None)]
    assert (second.status, second.updated) == ("succeeded", 1)
    harness.backend.withdraw([f"{source.id}:c0004"])  # the catalogue lost it: the memo must not keep it out
    third = harness.run(source)
    assert catalogue.detail_requests() == [("c0004", None)]
    assert harness.backend.get(f"{source.id}:c0004") is not None and third.written == 1
