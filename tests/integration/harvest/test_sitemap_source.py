"""The sitemap kind against a local site: index -> plain and gzip sitemaps -> JSON-LD / microdata pages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from config import load_themes
from config.settings import Settings
from config.source_models import SitemapSourceConfig
from crawlers.errors import FetchError, ParseError
from crawlers.fetch import Fetcher
from crawlers.kinds import build_source
from crawlers.kinds.sitemap import SitemapSource
from crawlers.run import harvest
from crawlers.scrapy_engine.schema_org import iso_duration_seconds
from crawlers.scrapy_engine.structured import extract
from indexer.backends.sqlite import SqliteBackend
from indexer.pipeline import RecordBuilder
from indexer.record import RawRecord
from tests.support.cms import serve_sitemap_site, sitemap_config, sitemap_expected
from tests.support.http_server import FixtureServer, http_server_fixture  # noqa: F401
from tests.support.settings import local_http

HTTP = local_http()


def crawl(config: SitemapSourceConfig) -> tuple[list[RawRecord], SitemapSource, Fetcher]:
    with Fetcher(HTTP, obey_robots=config.obey_robots, delay_seconds=0) as fetcher:
        source = build_source(config, fetcher)
        assert isinstance(source, SitemapSource)
        return sorted(source.iter_records(), key=lambda r: r.source_id), source, fetcher


def test_a_sitemap_index_gives_one_record_per_marked_up_page(http_server: FixtureServer) -> None:
    serve_sitemap_site(http_server)
    want = sitemap_expected(http_server)
    records, source, _ = crawl(sitemap_config(http_server))
    assert [r.source_id for r in records] == [w["source_id"] for w in want["records"]]
    for record, wanted in zip(records, want["records"], strict=True):
        assert record.fields == wanted["fields"], record.source_id
        assert record.api_url is not None and record.payload["item"]["@type"]
    assert len(source.warnings) == len(want["warnings_containing"])
    for fragment in want["warnings_containing"]:
        assert any(fragment in w for w in source.warnings), fragment
    assert [
        (p.source_id, w["reason_contains"] in p.reason) for p, w in zip(source.problems, want["problems"], strict=True)
    ] == [(w["source_id"], True) for w in want["problems"]]


def test_the_gzip_sitemap_is_read_and_its_pages_fetched(http_server: FixtureServer) -> None:
    serve_sitemap_site(http_server)
    records, _, _ = crawl(sitemap_config(http_server))
    assert len(http_server.requests_for("/sitemaps/videos.xml.gz")) == 1
    assert http_server.url("/video/2048.html") in [r.source_id for r in records]


def test_microdata_is_read_when_a_page_has_no_json_ld(http_server: FixtureServer) -> None:
    serve_sitemap_site(http_server)
    records, _, _ = crawl(sitemap_config(http_server))
    by_id = {r.source_id: r for r in records}
    assert by_id[http_server.url("/course/1026.html")].payload["syntax"] == "microdata"
    assert by_id[http_server.url("/course/1025.html")].payload["syntax"] == "json-ld"


def test_since_skips_pages_not_modified_after_it_and_the_cursor_is_the_newest_lastmod(
    http_server: FixtureServer,
) -> None:
    serve_sitemap_site(http_server)
    want = sitemap_expected(http_server)
    records, source, _ = crawl(sitemap_config(http_server, since=want["since"]))
    fetched = sorted(r.path for r in http_server.requests if r.path.endswith(".html"))
    assert fetched == want["fetched_pages_since"]
    assert len(records) == 3
    assert source.newest_lastmod == datetime.fromisoformat(want["newest_lastmod"])
    assert source.stats["edufed/pages_unchanged"] == 5  # 1025, 1026, 1028, about, 2049
    assert source.complete_listing is False


def test_a_robots_disallowed_page_is_never_requested_and_is_reported(http_server: FixtureServer) -> None:
    serve_sitemap_site(http_server)
    _, source, fetcher = crawl(sitemap_config(http_server))
    assert http_server.requests_for("/member/1029.html") == []
    refused = [e for e in fetcher.log if e.url.endswith("/member/1029.html")]
    assert [(e.sent, e.robots) for e in refused] == [(False, "disallowed")]
    assert source.stats["robotstxt/forbidden"] == 1
    assert not any("robots.txt" in w for w in source.warnings)  # the site asked for it: a note, not a warning
    assert source.stats["edufed/robots_disallowed"] == 1


def test_robots_off_fetches_the_page_robots_would_refuse(http_server: FixtureServer) -> None:
    serve_sitemap_site(http_server)
    crawl(sitemap_config(http_server, obey_robots=False))
    assert len(http_server.requests_for("/member/1029.html")) == 1
    assert http_server.requests_for("/robots.txt") == []


def test_malformed_sitemap_xml_fails_the_crawl_after_nothing_is_lost(http_server: FixtureServer) -> None:
    serve_sitemap_site(http_server)
    http_server.route(
        "/sitemaps/courses.xml",
        body=b"<?xml version='1.0'?><urlset><url><loc>x</loc>",
        content_type="application/xml",
    )
    with Fetcher(HTTP, delay_seconds=0) as fetcher:
        source = build_source(sitemap_config(http_server), fetcher)
        with pytest.raises(ParseError) as caught:
            list(source.iter_records())
    assert caught.value.url == http_server.url("/sitemaps/courses.xml")
    assert "malformed sitemap XML" in str(caught.value)
    assert isinstance(source, SitemapSource) and source.newest_lastmod is None


def test_a_sitemap_answering_500_fails_the_crawl_with_its_status(http_server: FixtureServer) -> None:
    http_server.route("/sitemap_index.xml", status=500, body="服务器错误")
    with Fetcher(HTTP, obey_robots=False, delay_seconds=0) as fetcher:
        source = build_source(sitemap_config(http_server, obey_robots=False), fetcher)
        with pytest.raises(FetchError) as caught:
            list(source.iter_records())
    assert caught.value.status == 500
    assert str(caught.value) == f"fetching {http_server.url('/sitemap_index.xml')} failed: HTTP 500"


def test_a_document_that_is_not_a_sitemap_is_a_parse_error(http_server: FixtureServer) -> None:
    http_server.route("/sitemap_index.xml", body="<html><body>首页</body></html>", content_type="text/xml")
    with Fetcher(HTTP, obey_robots=False, delay_seconds=0) as fetcher:
        source = build_source(sitemap_config(http_server, obey_robots=False), fetcher)
        with pytest.raises(ParseError, match="not a sitemap: the root element is <html>"):
            list(source.iter_records())


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT1H30M", 5400),
        ("PT45S", 45),
        ("P1DT2H", 93600),
        ("PT5M30.5S", 330),
        ("pt2m", 120),
        ("P1W", 604800),
        ("P3M", None),
        ("P1Y", None),
        ("PT", None),
        ("90分钟", None),
        (None, None),
    ],
)
def test_iso_8601_durations_become_seconds(text: Any, seconds: int | None) -> None:
    assert iso_duration_seconds(text) == seconds


def test_json_ld_items_are_found_in_graphs_lists_and_nested_graphs() -> None:
    block = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebPage", "name": "页"},
            {"@graph": [{"@type": "schema:VideoObject", "name": "视频"}]},
            {"@type": ["LearningResource", "CreativeWork"], "name": "资源"},
        ],
    }
    script = f'<script type="application/ld+json; charset=utf-8">{json.dumps(block)}</script>'
    page = f"<html><head>{script}</head></html>"
    found = extract(page, url="http://x/", types=["VideoObject", "LearningResource"])
    assert [n["name"] for n in found.items] == ["视频", "资源"] and found.syntax == "json-ld"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, http=HTTP)


@pytest.fixture
def backend(settings: Settings) -> Iterator[SqliteBackend]:
    index = SqliteBackend(settings.index_path)
    yield index
    index.close()


def test_a_sitemap_harvest_ends_up_in_the_index_and_a_rerun_writes_nothing(
    http_server: FixtureServer, settings: Settings, backend: SqliteBackend
) -> None:
    serve_sitemap_site(http_server)
    builder = RecordBuilder(load_themes())
    config = sitemap_config(http_server)
    first = harvest(config, settings=settings, backend=backend, builder=builder)
    assert first.error is None and first.status == "partial"  # one 404 page, four warnings
    assert (first.new, first.rejected, first.warning_count) == (5, 1, 4)
    assert backend.count("city_lll") == 5
    assert first.http.requests == len([r for r in http_server.requests])
    stored = backend.get(f"city_lll:{http_server.url('/course/1024.html')}#course")
    assert stored is not None and stored.duration_seconds == 21600 and len(stored.lessons) == 2
    second = harvest(config, settings=settings, backend=backend, builder=builder)
    assert (second.new, second.updated, second.unchanged, second.written) == (0, 0, 5, 0)
