"""Whole harvest runs: local HTTP payloads through the record builder into a real SQLite index file."""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from config import load_themes
from config.settings import Settings
from config.source_models import JsonApiSourceConfig
from crawlers.run import RunProgress, RunReport, harvest
from indexer.backends.sqlite import SqliteBackend
from indexer.pipeline import RecordBuilder
from tests.support.feeds import rss_config, serve_feed
from tests.support.http_server import FixtureServer, http_server_fixture  # noqa: F401
from tests.support.json_sources import json_api_config
from tests.support.le_ouchn import DATA_DIR, PAGING_PATH, expected, serve_le_ouchn, source_config
from tests.support.settings import local_http

BAD_DETAIL = "00000000-0000-0000-0000-000000000bad"


@pytest.fixture(scope="module")
def builder() -> RecordBuilder:
    return RecordBuilder(load_themes())


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    http = local_http(retries=1)
    return Settings(data_dir=tmp_path, http=http)


@pytest.fixture
def backend(settings: Settings) -> Iterator[SqliteBackend]:
    index = SqliteBackend(settings.index_path)
    yield index
    index.close()


def run(source: Any, *, settings: Settings, backend: SqliteBackend, builder: RecordBuilder, **kw: Any) -> RunReport:
    report = harvest(source, settings=settings, backend=backend, builder=builder, **kw)
    json.dumps(report.to_dict(), ensure_ascii=False)  # every report must be JSON-ready
    return report


def small_api(server: FixtureServer, items: list[Any], **overrides: Any) -> JsonApiSourceConfig:
    server.route("/items", json={"data": {"items": items}})
    return json_api_config(server, **overrides)


def test_le_ouchn_paging_and_details_end_up_in_the_index(
    http_server: FixtureServer, settings: Settings, backend: SqliteBackend, builder: RecordBuilder
) -> None:
    serve_le_ouchn(http_server)
    report = run(source_config(http_server), settings=settings, backend=backend, builder=builder)
    want = expected()
    assert report.status == "partial"  # two malformed items, one failing detail, one null lesson
    assert report.error is None
    assert (report.fetched, report.new, report.updated, report.unchanged) == (9, 7, 0, 0)
    assert report.rejected == len(want["problems"]) == 2
    assert report.written == 7
    assert backend.count("le_ouchn_test") == 7
    assert any(BAD_DETAIL in w and "HTTP 500" in w for w in report.warnings)
    record = backend.get("le_ouchn_test:4784ff5f-8dc4-11ee-bd5f-fa163ea9b0ea")
    assert record is not None
    assert record.title == "计算机应用基础（第二版）"
    assert [lesson.title for lesson in record.lessons] == [
        "第一讲 认识电脑",
        "第二讲 键盘与鼠标",
        "第三讲 文字处理入门",
    ]
    assert record.url == "https://le.ouchn.cn/courseDetails/4784ff5f-8dc4-11ee-bd5f-fa163ea9b0ea"
    assert record.record_type == "micro_course" and record.platform == "le_ouchn"
    without_detail = backend.get(f"le_ouchn_test:{BAD_DETAIL}")
    assert without_detail is not None and without_detail.title == "家庭理财与防范养老诈骗"
    assert without_detail.lessons == []
    assert report.http.requests == 1 + 3 + 7 + 1  # robots.txt, 3 pages, 7 details, one retry of the 500
    assert report.http.errors_by_status == {"500": 2, "404": 1}  # the bad detail twice, robots.txt absent


def test_a_gbk_feed_ends_up_in_the_index_in_readable_chinese(
    http_server: FixtureServer, settings: Settings, backend: SqliteBackend, builder: RecordBuilder
) -> None:
    serve_feed(http_server, "gbk-declared.xml")
    config = rss_config(http_server, id="shlll_rss", defaults={"record_type": "course"})
    report = run(config, settings=settings, backend=backend, builder=builder)
    assert (report.status, report.new, report.rejected, report.warnings) == ("succeeded", 3, 0, [])
    record = backend.get("shlll_rss:shlll-course-10232")
    assert record is not None
    assert record.title == "沪剧经典唱段赏析"
    assert record.description == "品味沪剧《芦荡火种》《罗汉钱》中的经典唱段。"
    assert record.published_at is not None and record.published_at.isoformat() == "2025-01-07T09:30:00+08:00"


def test_a_second_unchanged_run_counts_unchanged_and_writes_nothing(
    http_server: FixtureServer, settings: Settings, backend: SqliteBackend, builder: RecordBuilder
) -> None:
    serve_le_ouchn(http_server)
    config = source_config(http_server)
    first = run(config, settings=settings, backend=backend, builder=builder)
    stored = backend.get("le_ouchn_test:9a1c3e20-5b7d-11ed-8f3a-fa163e6c2b11")
    second = run(config, settings=settings, backend=backend, builder=builder)
    assert first.new == 7
    assert (second.new, second.updated, second.unchanged, second.written) == (0, 0, 7, 0)
    again = backend.get("le_ouchn_test:9a1c3e20-5b7d-11ed-8f3a-fa163e6c2b11")
    assert stored is not None and again is not None
    assert again.fetched_at == stored.fetched_at  # not rewritten
    assert second.run_id != first.run_id


def test_a_changed_item_counts_as_updated_and_is_rewritten(
    http_server: FixtureServer, settings: Settings, backend: SqliteBackend, builder: RecordBuilder
) -> None:
    serve_le_ouchn(http_server)
    config = source_config(http_server)
    run(config, settings=settings, backend=backend, builder=builder)
    page = json.loads((DATA_DIR / "pages" / "page-1.json").read_text(encoding="utf-8"))
    page["Data"]["PageListInfos"][2]["Subtitle"] = "春夏秋冬的饮食起居与保健方法（新版）"
    http_server.route(PAGING_PATH, query={"PageNum": "1"}, json=page)
    report = run(config, settings=settings, backend=backend, builder=builder)
    assert (report.new, report.updated, report.unchanged, report.written) == (0, 1, 6, 1)
    record = backend.get("le_ouchn_test:c2f0d7a4-1e9b-11ee-a4c1-fa163e0d3f52")
    assert record is not None and record.subtitle == "春夏秋冬的饮食起居与保健方法（新版）"


def test_a_source_failing_with_503_gives_a_failed_report_without_raising(
    http_server: FixtureServer, settings: Settings, backend: SqliteBackend, builder: RecordBuilder
) -> None:
    http_server.route(PAGING_PATH, status=503)
    report = run(source_config(http_server), settings=settings, backend=backend, builder=builder)
    assert report.status == "failed"
    assert report.error is not None and report.error.type == "FetchError"
    assert "HTTP 503" in report.error.message and PAGING_PATH in report.error.message
    assert report.http.errors_by_status["503"] == 2  # the first try and one retry
    assert report.to_dict()["error"]["type"] == "FetchError"
    assert backend.count("le_ouchn_test") == 0


def test_an_unreachable_host_gives_a_failed_report(
    settings: Settings, backend: SqliteBackend, builder: RecordBuilder
) -> None:
    with FixtureServer() as closed:
        config = rss_config(closed)
    report = run(config, settings=settings, backend=backend, builder=builder)
    assert report.status == "failed"
    assert report.error is not None and "ConnectionError" in report.error.message


def test_a_page_that_is_not_json_fails_the_run_but_keeps_earlier_pages(
    http_server: FixtureServer, settings: Settings, backend: SqliteBackend, builder: RecordBuilder
) -> None:
    serve_le_ouchn(http_server, pages={"1": "page-1.json", "2": "page-malformed.json", "3": "page-3.json"})
    report = run(source_config(http_server), settings=settings, backend=backend, builder=builder)
    assert report.status == "failed"
    assert report.error is not None and report.error.type == "ParseError"
    assert "PageNum=2" in report.error.message and "not valid JSON" in report.error.message
    assert (report.new, report.written) == (3, 3)
    assert backend.count("le_ouchn_test") == 3


def test_a_document_that_is_not_a_feed_fails_the_run(
    http_server: FixtureServer, settings: Settings, backend: SqliteBackend, builder: RecordBuilder
) -> None:
    serve_feed(http_server, "not-a-feed.html", content_type="text/html")
    report = run(rss_config(http_server), settings=settings, backend=backend, builder=builder)
    assert report.status == "failed"
    assert report.error is not None and "not an RSS or Atom feed" in report.error.message


def test_a_record_without_a_title_is_rejected_with_its_reason(
    http_server: FixtureServer, settings: Settings, backend: SqliteBackend, builder: RecordBuilder
) -> None:
    items = [{"id": "1", "name": "书法入门"}, {"id": "2", "name": "  "}, {"id": "3", "name": "摄影基础"}]
    report = run(small_api(http_server, items), settings=settings, backend=backend, builder=builder)
    assert report.status == "partial"
    assert (report.fetched, report.new, report.rejected) == (3, 2, 1)
    assert [(r.source_id, r.reason) for r in report.rejections] == [("2", "title: no title")]
    assert backend.get("small_api:2") is None and backend.count("small_api") == 2


def test_a_duplicate_id_keeps_the_first_item_and_rejects_the_rest(
    http_server: FixtureServer, settings: Settings, backend: SqliteBackend, builder: RecordBuilder
) -> None:
    items = [{"id": "7", "name": "第一门"}, {"id": "7", "name": "第二门"}, {"id": "8", "name": "第三门"}]
    report = run(small_api(http_server, items), settings=settings, backend=backend, builder=builder)
    assert (report.new, report.rejected) == (2, 1)
    assert report.rejections[0].source_id == "7" and "duplicate" in report.rejections[0].reason
    record = backend.get("small_api:7")
    assert record is not None and record.title == "第一门"


def test_a_dry_run_builds_records_but_writes_nothing(
    http_server: FixtureServer, settings: Settings, backend: SqliteBackend, builder: RecordBuilder
) -> None:
    serve_le_ouchn(http_server)
    report = run(source_config(http_server), settings=settings, backend=backend, builder=builder, dry_run=True)
    assert report.dry_run and report.new == 7 and report.written == 0
    assert backend.count("le_ouchn_test") == 0
    assert [r["source_id"] for r in report.records] == [r["source_id"] for r in expected()["records"]]
    assert report.records[0]["title"] == "计算机应用基础（第二版）" and "raw" not in report.records[0]


def test_max_records_stops_the_run_early(
    http_server: FixtureServer, settings: Settings, backend: SqliteBackend, builder: RecordBuilder
) -> None:
    serve_le_ouchn(http_server)
    config = source_config(http_server, max_records=2)
    report = run(config, settings=settings, backend=backend, builder=builder)
    assert (report.status, report.fetched, report.new) == ("succeeded", 2, 2)
    assert [r.query["PageNum"] for r in http_server.requests_for(PAGING_PATH)] == ["1"]


def test_progress_is_reported_while_running_and_at_the_end(
    http_server: FixtureServer, settings: Settings, backend: SqliteBackend, builder: RecordBuilder
) -> None:
    serve_feed(http_server, "atom.xml", content_type="application/atom+xml")
    seen: list[RunProgress] = []
    report = run(rss_config(http_server), settings=settings, backend=backend, builder=builder, progress=seen.append)
    assert [p.phase for p in seen] == ["fetching", "fetching", "writing", "done"]
    assert [p.fetched for p in seen] == [1, 2, 2, 2]
    assert seen[-1].written == report.written == 2


def test_a_closed_index_fails_the_run_without_raising(
    http_server: FixtureServer, settings: Settings, backend: SqliteBackend, builder: RecordBuilder
) -> None:
    serve_feed(http_server, "atom.xml")
    backend.close()
    report = run(rss_config(http_server), settings=settings, backend=backend, builder=builder)
    assert report.status == "failed"
    assert report.error is not None and report.error.type == "IndexBackendError"


def test_runs_in_parallel_threads_give_the_garbage_collector_its_settings_back(
    http_server: FixtureServer, settings: Settings, backend: SqliteBackend, builder: RecordBuilder
) -> None:
    """A run relaxes the process-wide collector settings; overlapping runs must not leave them relaxed.

    The second run starts once the first is waiting for its list and ends after it: the last run to end started
    while the settings were already relaxed, and must still put back the ones from before both.
    """
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    page = {"data": {"items": [{"id": "1", "name": "课程"}]}}
    http_server.route("/first", json=page, delay=0.6)
    http_server.route("/second", json=page, delay=1.2)
    relaxed: list[tuple[int, int, int]] = []

    def harvest_one(name: str) -> RunReport:
        return run(json_api_config(http_server, f"/{name}", id=name), settings=settings, backend=backend,
                   builder=builder, progress=lambda _: relaxed.append(gc.get_threshold()))  # fmt: skip

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(harvest_one, "first")
        deadline = time.monotonic() + 10
        while not http_server.requests_for("/first") and time.monotonic() < deadline:
            time.sleep(0.01)  # the first run is inside: it asked for its list
        second = pool.submit(harvest_one, "second")
        reports = [first.result(), second.result()]
    assert [r.status for r in reports] == ["succeeded", "succeeded"]
    assert any(t[0] > before[0] for t in relaxed)  # relaxed while the runs went
    assert gc.get_threshold() == before and gc.get_freeze_count() == frozen
