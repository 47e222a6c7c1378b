"""The Scrapy crawl engine: child life cycle, Retry-After, timeouts, size cap, many runs in one process."""

from __future__ import annotations

import os
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from config import load_themes
from config.settings import Settings
from config.source_models import SitemapSourceConfig
from crawlers.errors import FetchError
from crawlers.fetch import Fetcher
from crawlers.kinds import build_source
from crawlers.kinds.sitemap import SitemapSource
from crawlers.run import harvest
from crawlers.scrapy_engine.errors import EngineCrashedError, EngineProtocolError, EngineTimeoutError
from crawlers.scrapy_engine.process import CrawlJob, EngineProcess
from indexer.backends.sqlite import SqliteBackend
from indexer.pipeline import RecordBuilder
from tests.support.cms import cms_config, serve_cms, serve_sitemap_site, sitemap_config
from tests.support.http_server import FixtureServer, Reply, http_server_fixture  # noqa: F401
from tests.support.settings import local_http

HTTP = local_http(retries=1)


def course_page(name: str) -> bytes:
    block = f'{{"@context": "https://schema.org", "@type": "Course", "name": "{name}"}}'
    return f'<html><head><script type="application/ld+json">{block}</script></head></html>'.encode()


def small_site(server: FixtureServer, paths: list[str]) -> SitemapSourceConfig:
    """A one-sitemap site listing `paths` (routes for the pages are the caller's), robots.txt absent."""
    urls = "".join(f"<url><loc>{server.url(p)}</loc></url>" for p in paths)
    server.route(
        "/sitemap.xml",
        body=f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>',
        content_type="application/xml",
    )
    return sitemap_config(server, url=server.url("/sitemap.xml"))


def start(config: SitemapSourceConfig, fetcher: Fetcher) -> tuple[SitemapSource, Iterator[object]]:
    source = build_source(config, fetcher)
    assert isinstance(source, SitemapSource)
    return source, iter(source.iter_records())


def test_retry_after_is_waited_for_before_the_retry(http_server: FixtureServer) -> None:
    config = small_site(http_server, ["/c/1.html"])
    http_server.route(
        "/c/1.html",
        responses=[
            Reply(status=503, body=b"busy", headers={"Retry-After": "1"}),
            Reply(body=course_page("重试后的课程"), headers={"Content-Type": "text/html; charset=utf-8"}),
        ],
    )
    with Fetcher(HTTP, delay_seconds=0) as fetcher:
        records = list(build_source(config, fetcher).iter_records())
    sent = http_server.requests_for("/c/1.html")
    assert [r.fields["title"] for r in records] == ["重试后的课程"]  # type: ignore[attr-defined]
    assert len(sent) == 2 and sent[1].received_at - sent[0].received_at >= 1.0


def test_a_retry_after_beyond_the_limit_is_not_waited_for(http_server: FixtureServer) -> None:
    config = small_site(http_server, [])
    http_server.route("/sitemap.xml", status=429, body="slow down", headers={"Retry-After": "3600"})
    settings = HTTP.model_copy(update={"max_retry_after_seconds": 5})
    with Fetcher(settings, delay_seconds=0) as fetcher, pytest.raises(FetchError) as caught:
        list(build_source(config, fetcher).iter_records())
    assert caught.value.status == 429 and caught.value.cause == "retry-after too long"
    assert "asks to retry after 3600 s, longer than the 5 s limit" in str(caught.value)
    assert len(http_server.requests_for("/sitemap.xml")) == 1


def test_5xx_pages_are_retried_then_rejected(http_server: FixtureServer) -> None:
    config = small_site(http_server, ["/c/bad.html"])
    http_server.route("/c/bad.html", status=502, body="bad gateway")
    with Fetcher(HTTP, delay_seconds=0) as fetcher:
        source = build_source(config, fetcher)
        assert list(source.iter_records()) == []
    assert len(http_server.requests_for("/c/bad.html")) == 1 + HTTP.retries
    assert [p.reason for p in source.problems] == [
        f"page not harvested: fetching {http_server.url('/c/bad.html')} failed: HTTP 502"
    ]


def test_a_page_over_the_size_cap_is_rejected_and_the_crawl_goes_on(http_server: FixtureServer) -> None:
    config = small_site(http_server, ["/c/big.html", "/c/ok.html"])
    http_server.route("/c/big.html", body=b"<html>" + b"x" * 5000 + b"</html>", content_type="text/html")
    http_server.route("/c/ok.html", body=course_page("小页面"), content_type="text/html; charset=utf-8")
    with Fetcher(HTTP.model_copy(update={"max_response_bytes": 2000}), delay_seconds=0) as fetcher:
        source = build_source(config, fetcher)
        records = list(source.iter_records())
    assert [r.fields["title"] for r in records] == ["小页面"]
    assert len(source.problems) == 1 and "larger than the 2000-byte cap" in source.problems[0].reason


def test_a_page_that_times_out_is_rejected_with_the_timeout(http_server: FixtureServer) -> None:
    config = small_site(http_server, ["/c/slow.html"])
    http_server.route("/c/slow.html", body=course_page("慢"), delay=10, content_type="text/html")
    with Fetcher(HTTP.model_copy(update={"timeout_seconds": 0.5, "retries": 0}), delay_seconds=0) as fetcher:
        source = build_source(config, fetcher)
        assert list(source.iter_records()) == []
    assert "timed out after 0.5 s" in source.problems[0].reason


def test_the_user_agent_from_settings_is_sent_everywhere(http_server: FixtureServer) -> None:
    serve_sitemap_site(http_server)
    agent = "edufed-test/1.0 (+https://edufed.example/contact)"
    with Fetcher(HTTP.model_copy(update={"user_agent": agent}), delay_seconds=0) as fetcher:
        list(build_source(sitemap_config(http_server), fetcher).iter_records())
    assert http_server.requests and {r.header("User-Agent") for r in http_server.requests} == {agent}


def test_a_host_refusing_connections_fails_the_crawl_with_one_clear_error_and_no_traceback(
    http_server: FixtureServer, caplog: pytest.LogCaptureFixture
) -> None:
    config = sitemap_config(http_server, url=f"http://127.0.0.1:{closed_port()}/sitemap.xml", obey_robots=False)
    with Fetcher(HTTP, obey_robots=False, delay_seconds=0) as fetcher:
        source, records = start(config, fetcher)
        with pytest.raises(FetchError, match="Connection refused|ConnectionRefused"):
            list(records)
    relayed = [r.getMessage() for r in caplog.records if r.name == "crawlers.scrapy_engine.child"]
    assert any("crawl of city_lll failed" in line for line in relayed)
    assert not any("Traceback" in line for line in relayed), "\n".join(relayed)


def closed_port() -> int:
    """A loopback port nothing listens on (bound for a moment by this process, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_killed_child_fails_the_run_with_a_clear_error(http_server: FixtureServer) -> None:
    config = small_site(http_server, ["/c/fast.html", "/c/stuck.html"])
    http_server.route("/c/fast.html", body=course_page("快"), content_type="text/html; charset=utf-8")
    http_server.route("/c/stuck.html", body=course_page("慢"), delay=30, content_type="text/html; charset=utf-8")
    with Fetcher(HTTP, delay_seconds=0) as fetcher:
        source, records = start(config, fetcher)
        next(records)
        assert source.engine is not None and source.engine.pid is not None
        os.kill(source.engine.pid, signal.SIGKILL)
        with pytest.raises(EngineCrashedError) as caught:
            next(records)
    assert caught.value.exit_code == -signal.SIGKILL
    assert str(caught.value).startswith(f"crawl engine for 'city_lll' was killed by signal {int(signal.SIGKILL)}")


def test_a_hanging_crawl_is_stopped_at_its_time_limit(http_server: FixtureServer) -> None:
    config = small_site(http_server, ["/c/stuck.html"]).model_copy(update={"run_timeout_seconds": 3})
    http_server.route("/c/stuck.html", body=course_page("慢"), delay=30)
    with Fetcher(HTTP.model_copy(update={"timeout_seconds": 60}), delay_seconds=0) as fetcher:
        source = build_source(config, fetcher)
        assert isinstance(source, SitemapSource)
        with pytest.raises(EngineTimeoutError, match="did not finish within 3 s"):
            list(source.iter_records())
    assert source.engine is not None and source.engine.returncode is not None  # stopped and reaped


def test_stopping_the_iteration_early_stops_the_child(http_server: FixtureServer) -> None:
    config = small_site(http_server, ["/c/fast.html", "/c/stuck.html"])
    http_server.route("/c/fast.html", body=course_page("快"), content_type="text/html; charset=utf-8")
    http_server.route("/c/stuck.html", body=course_page("慢"), delay=30)
    with Fetcher(HTTP, delay_seconds=0) as fetcher:
        source, records = start(config, fetcher)
        next(records)
        records.close()  # type: ignore[attr-defined]
    assert source.engine is not None and source.engine.returncode is not None


def test_a_child_that_writes_garbage_is_a_protocol_error() -> None:
    job = CrawlJob(source={"id": "junk"}, http={}, obey_robots=True, delay_seconds=0)
    engine = EngineProcess(job, timeout_seconds=30, command=[sys.executable, "-c", "print('hello')"])
    with pytest.raises(EngineProtocolError, match="wrote a bad line"):
        list(engine.events())


def test_a_child_that_exits_early_reports_its_code_and_last_words() -> None:
    script = "import sys; sys.stderr.write('ERROR boom: 崩溃了\\n'); sys.exit(3)"
    job = CrawlJob(source={"id": "junk"}, http={}, obey_robots=True, delay_seconds=0)
    engine = EngineProcess(job, timeout_seconds=30, command=[sys.executable, "-c", script])
    with pytest.raises(EngineCrashedError) as caught:
        list(engine.events())
    assert caught.value.exit_code == 3
    assert (
        str(caught.value)
        == "crawl engine for 'junk' exited with code 3 before finishing; last output: ERROR boom: 崩溃了"
    )


def test_three_harvests_in_a_row_succeed_in_one_process(http_server: FixtureServer, tmp_path: Path) -> None:
    serve_sitemap_site(http_server)
    serve_cms(http_server, "lnjyw")
    settings = Settings(data_dir=tmp_path, http=HTTP)
    backend = SqliteBackend(settings.index_path)
    builder = RecordBuilder(load_themes())
    try:
        reports = [
            harvest(config, settings=settings, backend=backend, builder=builder)
            for config in (
                sitemap_config(http_server),
                cms_config(http_server, "lnjyw"),
                sitemap_config(http_server),
            )
        ]
    finally:
        backend.close()
    assert [r.error for r in reports] == [None, None, None]
    assert [(r.new, r.unchanged) for r in reports] == [(5, 0), (4, 0), (0, 5)]
