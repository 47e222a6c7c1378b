"""What the Scrapy-crawled kinds tell a run about their listing: broken list pages and sitemaps withdraw nothing,
unchanged pages answer 304 and stay listed, pages gone from a sitemap leave, an emptied site is held."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config.sources import HtmlSourceConfig, SitemapSourceConfig
from crawlers.run import RunReport
from tests.support.cms import sitemap_config
from tests.support.harvest_state import Harness
from tests.support.http_server import FixtureServer, LoggedRequest, Reply, conditional, http_server_fixture  # noqa: F401

NEXT = '<div class="pages"><a class="next" href="/list_{n}.htm">下一页</a></div>'


def list_page(numbers: list[int], *, following: int | None) -> bytes:
    items = "".join(f'<li><a href="/Pages/News/2024/01/02/item-{n}.htm">课程 {n}</a></li>' for n in numbers)
    pages = NEXT.format(n=following) if following else '<div class="pages"></div>'
    return f'<html><body><ul class="list">{items}</ul>{pages}</body></html>'.encode()


def detail_page(number: int, *, version: int = 1) -> bytes:
    return f"<html><body><h1>老年人学用智能手机 第{number}讲 v{version}</h1></body></html>".encode()


def serve_section(server: FixtureServer, count: int, *, per_page: int = 3) -> None:
    """`count` detail pages listed `per_page` a list page, every page with an ETag (304 when asked with it)."""
    pages = [list(range(start, min(start + per_page, count) + 1)) for start in range(1, count + 1, per_page)] or [[]]
    for index, numbers in enumerate(pages, start=1):
        following = index + 1 if index < len(pages) else None
        body = list_page(numbers, following=following)
        server.route(f"/list_{index}.htm", responder=conditional(body, etag=f'"list-{index}-{len(numbers)}"',
                                                                 content_type="text/html; charset=utf-8"))  # fmt: skip
    for number in range(1, count + 1):
        serve_detail(server, number)


def serve_detail(server: FixtureServer, number: int, *, version: int = 1) -> None:
    server.route(
        f"/Pages/News/2024/01/02/item-{number}.htm",
        responder=conditional(
            detail_page(number, version=version), etag=f'"item-{number}-{version}"', content_type="text/html"
        ),
    )


def section_config(server: FixtureServer, **changes: Any) -> HtmlSourceConfig:
    values: dict[str, Any] = {
        "id": "section", "kind": "html", "name": "某社区教育网 课程", "platform": "shequ_demo",
        "platform_name": "某社区教育网", "start_urls": [server.url("/list_1.htm")], "item_links": "ul.list li a",
        "next_page": "div.pages a.next", "fields": {"title": "h1"}, "obey_robots": False,
    }  # fmt: skip
    values.update(changes)
    return HtmlSourceConfig.model_validate(values)


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    with Harness.open(tmp_path) as opened:
        yield opened


def assert_nothing_lost(harness: Harness, report: RunReport, *, live: int) -> None:
    assert report.withdrawn == 0 and report.held is None
    assert len(harness.live_hashes(report.source_id)) == live
    assert set(harness.missed(report.source_id).values()) == {0}
    harness.assert_consistent(report.source_id)


def test_a_list_page_cut_short_fails_the_run_and_two_such_runs_withdraw_nothing(
    http_server: FixtureServer, harness: Harness
) -> None:
    serve_section(http_server, 12)
    config = section_config(http_server)
    first = harness.run(config)
    assert (first.status, first.new) == ("succeeded", 12)
    whole = list_page([4, 5, 6], following=3)
    cut = whole[: whole.index(b"item-5")]  # 200, no Content-Length, the connection closes mid-list
    http_server.route("/list_2.htm", responses=[Reply(body=cut, headers={"Content-Type": "text/html"},
                                                      send_length=False)])  # fmt: skip
    for _ in range(2):
        report = harness.run(config)
        assert report.status == "failed" and report.error is not None
        assert "ends before </html>" in report.error.message and "/list_2.htm" in report.error.message
        assert_nothing_lost(harness, report, live=12)


def test_a_list_page_short_of_its_content_length_fails_the_run(http_server: FixtureServer, harness: Harness) -> None:
    serve_section(http_server, 6)
    config = section_config(http_server)
    assert harness.run(config).status == "succeeded"
    body = list_page([4, 5, 6], following=None)
    http_server.route("/list_2.htm", responses=[Reply(body=body[:80], send_length=False, headers={
        "Content-Type": "text/html", "Content-Length": str(len(body))})])  # fmt: skip
    report = harness.run(config)
    assert report.status == "failed" and report.error is not None
    assert "Content-Length" in report.error.message and "truncated" in report.error.message
    assert_nothing_lost(harness, report, live=6)


def test_a_list_page_redirecting_in_a_loop_fails_the_run(http_server: FixtureServer, harness: Harness) -> None:
    serve_section(http_server, 6)
    config = section_config(http_server)
    assert harness.run(config).status == "succeeded"
    http_server.route("/list_2.htm", status=302, headers={"Location": http_server.url("/list_2b.htm")})
    http_server.route("/list_2b.htm", status=302, headers={"Location": http_server.url("/list_2.htm")})
    report = harness.run(config)
    assert report.status == "failed" and report.error is not None
    assert "redirect loop" in report.error.message and "/list_2b.htm" in report.error.message
    assert_nothing_lost(harness, report, live=6)


def test_a_sitemap_redirecting_to_itself_fails_the_run(http_server: FixtureServer, harness: Harness) -> None:
    http_server.route("/sitemap.xml", status=301, headers={"Location": http_server.url("/sitemap.xml")})
    report = harness.run(sitemap_config(http_server, url=http_server.url("/sitemap.xml"), obey_robots=False))
    assert report.status == "failed" and report.error is not None
    assert "redirect loop" in report.error.message and report.complete is False


def urlset(server: FixtureServer, paths: list[str]) -> bytes:
    urls = "".join(f"<url><loc>{server.url(p)}</loc><lastmod>2024-03-01</lastmod></url>" for p in paths)
    return f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'.encode()


def serve_sitemap(server: FixtureServer, numbers: list[int], *, robots: str = "User-agent: *\nAllow: /\n") -> None:
    paths = [f"/course/{n}.html" for n in numbers]
    body = urlset(server, paths)
    server.route("/sitemap.xml", responder=conditional(body, etag=f'"sm-{len(numbers)}-{sum(numbers)}"',
                                                       content_type="application/xml"))  # fmt: skip
    server.route("/robots.txt", body=robots)
    for number, path in zip(numbers, paths, strict=True):
        block = f'{{"@context": "https://schema.org", "@type": "Course", "name": "太极拳 第{number}课"}}'
        page = f'<html><head><script type="application/ld+json">{block}</script></head></html>'
        server.route(path, body=page, content_type="text/html; charset=utf-8")


def course_sitemap(server: FixtureServer, **changes: Any) -> SitemapSourceConfig:
    return sitemap_config(server, url=server.url("/sitemap.xml"), **changes)


def pages_asked(server: FixtureServer) -> list[LoggedRequest]:
    return [r for r in server.requests if r.path.startswith("/course/")]


def test_a_clean_sitemap_crawl_with_pages_robots_disallows_succeeds_and_notes_them(
    http_server: FixtureServer, harness: Harness
) -> None:
    serve_sitemap(http_server, [1, 2, 3], robots="User-agent: *\nDisallow: /course/3.html\n")
    report = harness.run(course_sitemap(http_server))
    assert (report.status, report.new, report.warning_count) == ("succeeded", 2, 0)
    assert any("robots.txt" in note and "/course/3.html" in note for note in report.notes)
    assert sorted(r.path for r in pages_asked(http_server)) == ["/course/1.html", "/course/2.html"]


def test_a_page_taken_off_the_sitemap_is_withdrawn_within_two_runs_without_fetching_pages(
    http_server: FixtureServer, harness: Harness
) -> None:
    serve_sitemap(http_server, [1, 2, 3, 4])
    config = course_sitemap(http_server, max_withdraw_share=0.5)
    first = harness.run(config)
    assert (first.status, first.new, first.scope) == ("succeeded", 4, "full")
    serve_sitemap(http_server, [1, 2, 3])
    gone = f"{config.id}:{http_server.url('/course/4.html')}"
    reports = []
    for _ in range(2):
        http_server.requests.clear()
        reports.append(harness.run(config))
        assert pages_asked(http_server) == []  # the whole sitemap read, no page fetched again
    assert [(r.status, r.scope, r.unchanged, r.withdrawn) for r in reports] == [
        ("succeeded", "full", 3, 0),
        ("succeeded", "full", 3, 1),
    ]
    assert gone not in harness.live_hashes(config.id) and len(harness.live_hashes(config.id)) == 3
    harness.assert_consistent(config.id)


def test_an_unchanged_html_reharvest_is_asked_conditionally_and_every_record_stays(
    http_server: FixtureServer, harness: Harness
) -> None:
    serve_section(http_server, 9)
    config = section_config(http_server)
    first = harness.run(config)
    assert (first.status, first.new) == ("succeeded", 9)
    for _ in range(2):  # withdraw_after_missed_runs runs: a 304 page's records are listed every time
        http_server.requests.clear()
        again = harness.run(config)
        assert (again.status, again.new, again.updated, again.unchanged, again.withdrawn) == ("succeeded", 0, 0, 9, 0)
        assert len(http_server.requests) == 12 and all(r.header("If-None-Match") for r in http_server.requests)
        assert again.http.bytes == 0  # every page answered 304: no body
    serve_detail(http_server, 5, version=2)
    changed = harness.run(config)
    assert (changed.status, changed.updated, changed.unchanged) == ("succeeded", 1, 8)
    assert_nothing_lost(harness, changed, live=9)


def test_a_section_that_suddenly_lists_nothing_is_held(http_server: FixtureServer, harness: Harness) -> None:
    serve_section(http_server, 6)
    config = section_config(http_server)
    assert harness.run(config).status == "succeeded"
    http_server.route("/list_1.htm", body=list_page([], following=None), content_type="text/html")
    report = harness.run(config)
    assert report.status == "held" and report.held is not None and report.withdrawn == 0
    assert len(harness.live_hashes(config.id)) == 6


def test_a_sitemap_that_suddenly_lists_nothing_is_held(http_server: FixtureServer, harness: Harness) -> None:
    serve_sitemap(http_server, [1, 2, 3])
    config = course_sitemap(http_server)
    assert harness.run(config).status == "succeeded"
    serve_sitemap(http_server, [])
    report = harness.run(config)
    assert report.status == "held" and report.held is not None and report.withdrawn == 0
    assert len(harness.live_hashes(config.id)) == 3
