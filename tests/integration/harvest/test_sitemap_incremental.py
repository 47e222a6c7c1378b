"""The sitemap kind under the incremental contract: 304 sitemaps, pages newer than the cursor, retries, failures."""

from __future__ import annotations

from typing import Any

import pytest

from config.source_models import SitemapSourceConfig
from crawlers.errors import ParseError
from crawlers.fetch import Fetcher
from crawlers.kinds import build_source
from crawlers.kinds.sitemap import SitemapSource
from indexer.record import RawRecord
from tests.support.cms import SITEMAP_DIR, serve_sitemap_site, sitemap_config, sitemap_expected
from tests.support.http_server import FixtureServer, conditional, http_server_fixture  # noqa: F401
from tests.support.settings import local_http

HTTP = local_http()
B_MODIFIED = "Wed, 01 May 2024 00:00:00 GMT"


def crawl(config: SitemapSourceConfig, cursor: dict[str, Any] | None = None) -> tuple[list[RawRecord], SitemapSource]:
    """The records of a crawl from `cursor`, as a run whose catalogue holds every record the last crawl gave."""
    with Fetcher(HTTP, obey_robots=config.obey_robots, delay_seconds=0) as fetcher:
        source = build_source(config, fetcher)
        assert isinstance(source, SitemapSource)
        source.cursor_in = dict(cursor or {})
        source.catalogued = lambda _: True
        records = list(source.iter_records())
    return sorted(records, key=lambda r: r.source_id), source


def xml(server: FixtureServer, root: str, child: str, entries: dict[str, str | None]) -> bytes:
    """A urlset or sitemapindex listing server paths, each with its lastmod when given."""
    parts = []
    for path, lastmod in entries.items():
        stamp = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
        parts.append(f"<{child}><loc>{server.url(path)}</loc>{stamp}</{child}>")
    namespace = "http://www.sitemaps.org/schemas/sitemap/0.9"
    return f'<{root} xmlns="{namespace}">{"".join(parts)}</{root}>'.encode()


def serve_urlset(server: FixtureServer, path: str, entries: dict[str, str | None], **validators: str) -> None:
    body = xml(server, "urlset", "url", entries)
    server.route(path, responder=conditional(body, content_type="application/xml", **validators))


def serve_index(server: FixtureServer, sitemaps: list[str], *, etag: str) -> None:
    body = xml(server, "sitemapindex", "sitemap", dict.fromkeys(sitemaps))
    server.route("/index.xml", responder=conditional(body, content_type="application/xml", etag=etag))


def serve_course(server: FixtureServer, path: str, title: str) -> None:
    block = f'{{"@context": "https://schema.org", "@type": "Course", "name": "{title}"}}'
    page = f'<html><head><script type="application/ld+json">{block}</script></head></html>'
    server.route(path, body=page, content_type="text/html; charset=utf-8")


def small_site(server: FixtureServer) -> SitemapSourceConfig:
    """An index of two sitemaps (one with an ETag, one with Last-Modified) listing three dated courses."""
    serve_index(server, ["/sm/a.xml", "/sm/b.xml"], etag='"index-1"')
    serve_urlset(server, "/sm/a.xml", {"/c/1.html": "2024-03-01", "/c/2.html": "2024-04-01"}, etag='"a-1"')
    serve_urlset(server, "/sm/b.xml", {"/c/3.html": "2024-05-01"}, last_modified=B_MODIFIED)
    for number, title in [(1, "太极拳"), (2, "八段锦"), (3, "手机摄影")]:
        serve_course(server, f"/c/{number}.html", title)
    return sitemap_config(server, url=server.url("/index.xml"), obey_robots=False)


def pages_fetched(server: FixtureServer) -> list[str]:
    return sorted(r.path for r in server.requests if r.path.startswith("/c/"))


def titles(records: list[RawRecord]) -> list[str]:
    return [r.fields["title"] for r in records]


def test_unchanged_sitemaps_answer_304_and_only_changed_pages_are_fetched_later(http_server: FixtureServer) -> None:
    config = small_site(http_server)
    records, first = crawl(config)
    assert titles(records) == ["太极拳", "八段锦", "手机摄影"]
    assert first.scope == "full" and first.complete_listing
    assert first.cursor_out is not None and first.newest_lastmod is not None
    assert first.newest_lastmod.date().isoformat() == "2024-05-01"
    assert first.cursor_out["sitemaps"][http_server.url("/sm/a.xml")]["etag"] == '"a-1"'

    http_server.requests.clear()
    records, second = crawl(config, first.cursor_out)
    assert records == [] and pages_fetched(http_server) == []
    asked = sorted((r.path, r.header("If-None-Match"), r.header("If-Modified-Since")) for r in http_server.requests)
    assert asked == [
        ("/index.xml", '"index-1"', None),
        ("/sm/a.xml", '"a-1"', None),
        ("/sm/b.xml", None, B_MODIFIED),
    ]
    assert second.scope == "full" and second.complete_listing  # the whole sitemap read: a complete listing
    assert second.stats["edufed/sitemaps_not_modified"] == 3
    assert sorted(second.unchanged_ids) == [http_server.url(f"/c/{n}.html") for n in (1, 2, 3)]

    serve_index(http_server, ["/sm/a.xml", "/sm/b.xml", "/sm/c.xml"], etag='"index-2"')
    serve_urlset(http_server, "/sm/b.xml", {"/c/3.html": "2024-06-01", "/c/4.html": "2024-06-02"}, etag='"b-2"')
    serve_urlset(http_server, "/sm/c.xml", {"/c/5.html": "2023-01-01"}, etag='"c-1"')
    serve_course(http_server, "/c/3.html", "手机摄影（第二版）")
    serve_course(http_server, "/c/4.html", "智能手机入门")
    serve_course(http_server, "/c/5.html", "老年大学旧课")
    http_server.requests.clear()
    records, third = crawl(config, second.cursor_out)
    assert pages_fetched(http_server) == ["/c/3.html", "/c/4.html", "/c/5.html"]  # c.xml is new: all its pages
    assert titles(records) == ["手机摄影（第二版）", "智能手机入门", "老年大学旧课"]
    assert third.scope == "full" and third.complete_listing
    assert sorted(third.unchanged_ids) == [http_server.url(f"/c/{n}.html") for n in (1, 2)]
    assert third.newest_lastmod is not None and third.newest_lastmod.date().isoformat() == "2024-06-02"


def test_a_page_that_failed_is_fetched_again_next_run_whatever_its_lastmod(http_server: FixtureServer) -> None:
    entries = {"/c/1.html": "2024-03-01", "/c/2.html": "2024-04-01", "/c/gone.html": "2024-02-01"}
    serve_urlset(http_server, "/sm/a.xml", entries, etag='"a-1"')
    serve_course(http_server, "/c/1.html", "太极拳")
    http_server.route("/c/2.html", status=500, body="服务器错误")
    config = sitemap_config(http_server, url=http_server.url("/sm/a.xml"), obey_robots=False)
    records, first = crawl(config)
    assert titles(records) == ["太极拳"]
    assert first.scope == "incremental" and first.cursor_out is not None  # a hole: not a complete listing
    assert first.cursor_out["retry"] == [http_server.url("/c/2.html")]  # a 404 is gone, not retried
    assert first.cursor_out["sitemaps"][http_server.url("/sm/a.xml")]["etag"] is None

    serve_course(http_server, "/c/2.html", "八段锦")
    http_server.requests.clear()
    records, second = crawl(config, first.cursor_out)
    assert http_server.requests_for("/sm/a.xml")[0].header("If-None-Match") is None
    assert pages_fetched(http_server) == ["/c/2.html"]
    assert titles(records) == ["八段锦"]
    assert second.cursor_out is not None and second.cursor_out["retry"] == []

    http_server.route("/sm/a.xml", body=b"<urlset><url><loc>", content_type="application/xml")
    with Fetcher(HTTP, obey_robots=False, delay_seconds=0) as fetcher:
        source = build_source(config, fetcher)
        source.cursor_in = dict(second.cursor_out)
        with pytest.raises(ParseError, match="malformed sitemap XML"):
            list(source.iter_records())
    assert isinstance(source, SitemapSource) and source.cursor_out is None


def test_a_changed_configuration_crawls_in_full_again(http_server: FixtureServer) -> None:
    config = small_site(http_server)
    _, first = crawl(config)
    http_server.requests.clear()
    changed = config.model_copy(update={"url_pattern": r"/c/[12]\.html$"})
    records, again = crawl(changed, first.cursor_out)
    assert all(r.header("If-None-Match") is None for r in http_server.requests)
    assert titles(records) == ["太极拳", "八段锦"] and again.scope == "full"
    assert any("configuration changed" in n for n in again.notes)


def test_the_recorded_site_is_complete_despite_its_404_and_robots_pages_and_then_incremental(
    http_server: FixtureServer,
) -> None:
    serve_sitemap_site(http_server)
    config = sitemap_config(http_server)
    records, first = crawl(config)
    assert len(records) == len(sitemap_expected(http_server)["records"])
    assert first.scope == "full" and first.complete_listing
    http_server.requests.clear()
    records, again = crawl(config, first.cursor_out)
    assert records == [] and pages_fetched(http_server) == []
    assert [r.path for r in http_server.requests if r.path.endswith(".html")] == []
    assert again.scope == "full" and again.complete_listing
    dated = sum(p.read_text(encoding="utf-8").count("<lastmod>") for p in (SITEMAP_DIR / "sitemaps").glob("*.xml"))
    assert again.stats["edufed/pages_unchanged"] == dated  # every dated page; /member/1029.html is undated


def test_a_full_crawl_comes_round_after_full_crawl_days_and_notices_removed_pages(http_server: FixtureServer) -> None:
    config = small_site(http_server)
    _, first = crawl(config)
    assert first.cursor_out is not None and first.cursor_out["full_at"] is not None

    http_server.requests.clear()
    _, soon = crawl(config, first.cursor_out)  # the last full crawl is minutes old: incremental, all 304
    assert soon.scope == "full" and pages_fetched(http_server) == []
    assert soon.cursor_out is not None and soon.cursor_out["full_at"] == first.cursor_out["full_at"]

    serve_urlset(http_server, "/sm/a.xml", {"/c/1.html": "2024-03-01"}, etag='"a-1"')  # /c/2 taken off, same ETag
    week_old = {**soon.cursor_out, "full_at": "2020-01-01T00:00:00+00:00"}
    http_server.requests.clear()
    records, full = crawl(config, week_old)
    assert [r.header("If-None-Match") for r in http_server.requests if r.path.endswith(".xml")] == [None] * 3
    assert pages_fetched(http_server) == ["/c/1.html", "/c/3.html"]  # every listed page, whatever its lastmod
    assert titles(records) == ["太极拳", "手机摄影"]
    assert full.scope == "full" and full.complete_listing  # so the run may count /c/2 as missing
    assert full.cursor_out is not None and full.cursor_out["full_at"] > "2020"
    assert any("full crawl (last full crawl: 2020-01-01" in note for note in full.notes)

    never = config.model_copy(update={"full_crawl_days": None})
    http_server.requests.clear()
    _, incremental = crawl(never, week_old)
    assert incremental.scope == "full" and pages_fetched(http_server) == []
