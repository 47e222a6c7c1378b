"""The shipped config/sources.yaml, block by block, harvested from fixture servers shaped like the real platforms.

Each source is taken exactly as shipped; only the URLs it fetches move to the fixture server (paths and queries
kept) and its host pause is dropped. Expectations: tests/data/platforms/expected.json.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from config import load_sources, load_themes
from config.loader import BUNDLED_DIR
from config.settings import Settings
from config.source_models import CrawlSourceBase, SourceBase
from crawlers.run import RunReport, harvest
from indexer.backends.sqlite import SqliteBackend
from indexer.pipeline import RecordBuilder
from indexer.record import Record
from tests.support.http_server import FixtureServer, http_server_fixture  # noqa: F401
from tests.support.platforms import expectations, foreign_urls, rebase, serve_platform
from tests.support.settings import local_http

SHIPPED = {source.id: source for source in load_sources()}
EXPECTED = expectations()
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens, the connection is refused


@pytest.fixture(scope="module")
def builder() -> RecordBuilder:
    return RecordBuilder(load_themes())


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, http=local_http())


@pytest.fixture
def backend(settings: Settings) -> Iterator[SqliteBackend]:
    index = SqliteBackend(settings.index_path)
    yield index
    index.close()


def run(source: SourceBase, *, settings: Settings, backend: SqliteBackend, builder: RecordBuilder) -> RunReport:
    return harvest(source, settings=settings, backend=backend, builder=builder)


def logged_requests(server: FixtureServer) -> list[list[Any]]:
    """[path, query] of every request but robots.txt, in a stable order (crawls fetch in parallel)."""
    found = [[r.path, r.query] for r in server.requests if r.path != "/robots.txt"]
    return sorted(found, key=lambda pair: json.dumps(pair, sort_keys=True, ensure_ascii=False))


def as_list(value: str | list[str] | None) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def test_every_shipped_source_validates_and_is_polite() -> None:
    assert SHIPPED, "config/sources.yaml lists no source"
    for source in SHIPPED.values():
        assert source.delay_seconds is not None and source.delay_seconds >= 1, source.id
        assert source.obey_robots, source.id
        assert source.schedule.jitter_seconds > 0, source.id
        if isinstance(source, CrawlSourceBase):
            assert 1 <= source.concurrency <= 2, source.id


def test_every_shipped_source_is_covered_by_a_platform_fixture() -> None:
    enabled = {sid for sid, source in SHIPPED.items() if source.enabled}
    assert enabled, "no shipped source is enabled"
    assert enabled - set(EXPECTED) == set(), "enabled sources without a fixture in tests/data/platforms"
    assert set(SHIPPED) ^ set(EXPECTED) == set(), "sources and tests/data/platforms/expected.json disagree"


def test_every_disabled_source_says_what_is_missing() -> None:
    text = (BUNDLED_DIR / "sources.yaml").read_text(encoding="utf-8")
    comments: dict[str, str] = {}
    block: list[str] = []
    for line in text.splitlines():
        if found := re.match(r"\s+- id: (\w+)", line):
            comments[found.group(1)] = "\n".join(block)
        block = [*block, line] if line.strip().startswith("#") else []
    for sid, source in SHIPPED.items():
        assert ("# disabled:" in comments[sid]) == (not source.enabled), sid


@pytest.mark.parametrize("source_id", sorted(SHIPPED))
def test_rebasing_moves_only_the_fetched_urls(source_id: str) -> None:
    shipped = SHIPPED[source_id]
    moved = rebase(shipped, "http://127.0.0.1:8001")
    dumped = moved.model_dump(mode="json")
    assert foreign_urls(dumped, "http://127.0.0.1:8001") == []
    original = shipped.model_dump(mode="json")
    for kept in ("url_template", "headers"):  # record links and Referers keep naming the real platform
        assert dumped.get(kept) == original.get(kept), kept
    for key in ("url", "version_url", "start_urls", "detail_urls"):
        for old, new in zip(as_list(original.get(key)), as_list(dumped.get(key)), strict=True):
            assert (urlsplit(new).path, urlsplit(new).query) == (urlsplit(old).path, urlsplit(old).query), key


@pytest.mark.parametrize("source_id", sorted(SHIPPED))
def test_a_shipped_source_harvests_its_platform_fixture(
    http_server: FixtureServer, settings: Settings, backend: SqliteBackend, builder: RecordBuilder, source_id: str
) -> None:
    shipped, want = SHIPPED[source_id], EXPECTED[source_id]
    serve_platform(http_server, want["routes"])
    report = run(rebase(shipped, http_server.base_url), settings=settings, backend=backend, builder=builder)

    assert report.error is None, report.error
    assert (report.status, report.rejected) == (want["status"], want["rejected"]), report.rejections
    assert report.new == backend.count(source_id) == len(want["records"])
    assert http_server.requests[0].path == "/robots.txt"
    assert logged_requests(http_server) == want["requests"]
    assert {r.header("User-Agent") for r in http_server.requests} == {settings.http.user_agent}
    for request in http_server.requests_for(urlsplit(str(getattr(shipped, "url", ""))).path):
        assert all(request.header(k) == v for k, v in getattr(shipped, "headers", {}).items())
    records = sorted(backend.iter_records(source_id), key=lambda r: r.source_id)
    assert [r.source_id for r in records] == [w["source_id"] for w in want["records"]]
    for record, wanted in zip(records, want["records"], strict=True):
        assert_record(record, wanted, shipped=shipped, server=http_server)


def assert_record(record: Record, wanted: dict[str, Any], *, shipped: SourceBase, server: FixtureServer) -> None:
    where = record.uid
    assert (record.title, record.record_type, record.themes) == (
        wanted["title"],
        wanted["record_type"],
        wanted["themes"],
    ), where
    assert (record.platform, record.platform_name) == (shipped.platform, shipped.platform_name), where
    if wanted["url"].startswith("/"):  # a CMS record is the page itself, fetched from the fixture
        fetched_from = urlsplit(server.base_url).netloc
        assert (urlsplit(record.url).netloc, urlsplit(record.url).path) == (fetched_from, wanted["url"]), where
    else:
        assert record.url == wanted["url"], where
    if "lessons" in wanted:
        assert len(record.lessons) == wanted["lessons"], where


@pytest.mark.parametrize("source_id", ["le_ouchn", "goschool_lnjy_news"])
def test_an_unreachable_platform_fails_its_run_and_keeps_the_records(
    http_server: FixtureServer, settings: Settings, backend: SqliteBackend, builder: RecordBuilder, source_id: str
) -> None:
    shipped = SHIPPED[source_id]
    serve_platform(http_server, EXPECTED[source_id]["routes"])
    first = run(rebase(shipped, http_server.base_url), settings=settings, backend=backend, builder=builder)
    assert first.error is None and first.new > 0

    report = run(rebase(shipped, UNREACHABLE), settings=settings, backend=backend, builder=builder)
    assert report.status == "failed"
    assert report.error is not None and report.error.type == "FetchError"
    assert "127.0.0.1:9" in report.error.message and "refused" in report.error.message.lower()
    assert (report.new, report.updated, report.written) == (0, 0, 0)
    assert backend.count(source_id) == first.new
