"""What the Scrapy-crawled kinds tell a run about their listing: broken list pages and sitemaps withdraw nothing,
unchanged pages stay listed (a list page answers 304, a detail page whose list entry is unchanged is not asked
until its refresh slot), pages gone from a list or sitemap leave, an emptied site is held.

Every harvest starts a crawl child (~3 s, most of it Scrapy's import and crawler set-up), so the tests that need
a harvested catalogue share one first harvest per site (`section_site`, `sitemap_site`): each starts from a copy
of the catalogue it left, against the same server, with the site's routes put back as they were.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from config.source_models import HtmlDetailPages, HtmlSourceConfig, SitemapSourceConfig
from crawlers.kinds.refresh import refresh_slot, today
from crawlers.run import RunReport
from tests.support.cms import sitemap_config
from tests.support.harvest_state import Harness
from tests.support.http_server import FixtureServer, LoggedRequest, Reply, conditional, http_server_fixture  # noqa: F401

NEXT = '<div class="pages"><a class="next" href="/list_{n}.htm">下一页</a></div>'
SECTION_SIZE = 12  # four list pages of three
DETAILS = "/Pages/News/2024/01/02/"


def list_page(numbers: list[int], *, following: int | None, renamed: frozenset[int] = frozenset()) -> bytes:
    items = "".join(
        f'<li><a href="{DETAILS}item-{n}.htm">课程 {n}{"（修订）" if n in renamed else ""}</a></li>' for n in numbers
    )
    pages = NEXT.format(n=following) if following else '<div class="pages"></div>'
    return f'<html><body><ul class="list">{items}</ul>{pages}</body></html>'.encode()


def detail_page(number: int, *, version: int = 1) -> bytes:
    return f"<html><body><h1>老年人学用智能手机 第{number}讲 v{version}</h1></body></html>".encode()


def serve_list(server: FixtureServer, index: int, numbers: list[int], **kw: Any) -> None:
    body = list_page(numbers, **kw)
    etag = f'"list-{index}-{len(numbers)}-{sum(numbers)}-{sorted(kw.get("renamed", ()))}"'
    server.route(f"/list_{index}.htm", responder=conditional(body, etag=etag, content_type="text/html; charset=utf-8"))


def serve_section(server: FixtureServer, count: int, *, per_page: int = 3) -> None:
    """`count` detail pages listed `per_page` a list page, every page with an ETag (304 when asked with it)."""
    pages = [list(range(start, min(start + per_page, count) + 1)) for start in range(1, count + 1, per_page)] or [[]]
    for index, numbers in enumerate(pages, start=1):
        serve_list(server, index, numbers, following=index + 1 if index < len(pages) else None)
    for number in range(1, count + 1):
        serve_detail(server, number)


def serve_detail(server: FixtureServer, number: int, *, version: int = 1) -> None:
    server.route(
        f"{DETAILS}item-{number}.htm",
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


def detail_requests(server: FixtureServer) -> dict[str, str | None]:
    """Detail page asked -> the If-None-Match it came with."""
    return {r.path.removeprefix(DETAILS): r.header("If-None-Match") for r in server.requests if DETAILS in r.path}


@dataclass
class Site:
    """A site served for the whole module, its first harvest (report, pages asked) and the catalogue (index and
    state files) that harvest left."""

    server: FixtureServer
    snapshot: Path
    first: RunReport
    asked: list[str]


@contextmanager
def first_harvested(site: Site, tmp_path: Path) -> Iterator[Harness]:
    """A copy of the catalogue after the site's first harvest, for one test to change as it likes."""
    copy = tmp_path / "catalogue"
    shutil.copytree(site.snapshot, copy)
    site.server.requests.clear()
    with Harness.open(copy) as harness:
        yield harness


@pytest.fixture(scope="module")
def section_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with FixtureServer() as server:
        serve_section(server, SECTION_SIZE)
        snapshot = tmp_path_factory.mktemp("section")
        with Harness.open(snapshot) as harness:
            first = harness.run(section_config(server))
        assert (first.status, first.new, first.scope) == ("succeeded", SECTION_SIZE, "full")
        assert len(detail_requests(server)) == SECTION_SIZE
        yield Site(server, snapshot, first, [r.path for r in server.requests])


@pytest.fixture
def section(section_site: Site, tmp_path: Path) -> Iterator[Harness]:
    serve_section(section_site.server, SECTION_SIZE)  # what an earlier test changed is put back
    with first_harvested(section_site, tmp_path) as harness:
        yield harness


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    with Harness.open(tmp_path) as opened:
        yield opened


def assert_nothing_lost(harness: Harness, report: RunReport, *, live: int) -> None:
    assert report.withdrawn == 0 and report.held is None
    assert len(harness.live_hashes(report.source_id)) == live
    assert set(harness.missed(report.source_id).values()) == {0}
    harness.assert_consistent(report.source_id)


def assert_failed(report: RunReport, *words: str) -> None:
    assert report.status == "failed" and report.error is not None
    assert all(word in report.error.message for word in words), report.error.message


def test_broken_list_pages_fail_their_runs_and_three_such_runs_withdraw_nothing(
    section_site: Site, section: Harness
) -> None:
    server, config = section_site.server, section_config(section_site.server)
    whole = list_page([4, 5, 6], following=3)
    # 200 without Content-Length, the connection closing mid-list
    cut = Reply(body=whole[: whole.index(b"item-5")], headers={"Content-Type": "text/html"}, send_length=False)
    server.route("/list_2.htm", responses=[cut])
    report = section.run(config)
    assert_failed(report, "ends before </html>", "/list_2.htm")
    assert_nothing_lost(section, report, live=SECTION_SIZE)
    # short of the Content-Length it announced
    short = Reply(body=whole[:80], send_length=False, headers={"Content-Type": "text/html",
                                                               "Content-Length": str(len(whole))})  # fmt: skip
    server.route("/list_2.htm", responses=[short])
    report = section.run(config)
    assert_failed(report, "Content-Length", "truncated")
    assert_nothing_lost(section, report, live=SECTION_SIZE)
    # redirected in a loop (Scrapy's duplicate filter would have dropped it without a word)
    server.route("/list_2.htm", status=302, headers={"Location": server.url("/list_2b.htm")})
    server.route("/list_2b.htm", status=302, headers={"Location": server.url("/list_2.htm")})
    report = section.run(config)
    assert_failed(report, "redirect loop", "/list_2b.htm")
    assert_nothing_lost(section, report, live=SECTION_SIZE)  # three failed runs: more than withdraw_after_missed_runs


def test_a_section_that_suddenly_lists_nothing_is_held(section_site: Site, section: Harness) -> None:
    server, config = section_site.server, section_config(section_site.server)
    server.route("/list_1.htm", body=list_page([], following=None), content_type="text/html")
    report = section.run(config)
    assert report.status == "held" and report.held is not None and report.withdrawn == 0
    assert len(section.live_hashes(config.id)) == SECTION_SIZE


def test_an_unchanged_html_reharvest_asks_only_its_list_pages_and_a_new_or_changed_entry_is_read_at_once(
    section_site: Site, section: Harness
) -> None:
    server, config = section_site.server, section_config(section_site.server)
    again = section.run(config)
    assert (again.status, again.scope, again.new, again.updated, again.unchanged) == ("succeeded", "full", 0, 0, 12)
    assert [r.path for r in server.requests] == [f"/list_{n}.htm" for n in (1, 2, 3, 4)]
    assert all(r.header("If-None-Match") for r in server.requests) and again.http.bytes == 0  # all 304
    assert any("12 detail pages not asked" in note for note in again.notes)
    assert_nothing_lost(section, again, live=SECTION_SIZE)
    before = section.live_hashes(config.id)

    server.requests.clear()
    serve_list(server, 2, [4, 5, 6], following=3, renamed=frozenset({5}))  # item 5's entry changed, and its page
    serve_detail(server, 5, version=2)
    serve_detail(server, 7, version=2)  # item 7's page changed, its entry did not: read in its refresh slot
    serve_list(server, 4, [10, 11, 13], following=None)  # item 12 taken off, item 13 new
    serve_detail(server, 13)
    changed = section.run(config)
    assert (changed.status, changed.scope, changed.new, changed.updated, changed.unchanged) == (
        "succeeded", "full", 1, 1, 10)  # fmt: skip
    assert detail_requests(server) == {"item-5.htm": '"item-5-1"', "item-13.htm": None}
    live = section.live_hashes(config.id)
    assert live[f"{config.id}:item-7"] == before[f"{config.id}:item-7"]
    assert live[f"{config.id}:item-5"] != before[f"{config.id}:item-5"] and f"{config.id}:item-13" in live
    missed = section.missed(config.id)
    assert missed.pop(f"{config.id}:item-12") == 1 and set(missed.values()) == {0}  # missing at once
    section.assert_consistent(config.id)


def age_pages(harness: Harness, source_id: str, days: dict[str, int]) -> None:
    """Move each stored detail page memo `days[page]` (or `days["*"]`) days into the past."""
    pages = json.loads(harness.store.cursors.get(source_id)["pages"])
    for url, memo in pages.items():
        memo["day"] -= days.get(url.rsplit("/", 1)[-1], days["*"])
    harness.store.cursors.put(source_id, {"pages": json.dumps(pages)})


def test_details_are_refreshed_in_their_slot_with_validators_and_a_record_the_catalogue_lost_is_read_in_full(
    section_site: Site, section: Harness
) -> None:
    server = section_site.server
    config = section_config(server).model_copy(update={"detail": HtmlDetailPages(refresh_days=7)})
    age_pages(section, config.id, {"*": 1, "item-3.htm": 30})  # a day later; item 3 missed a whole cycle
    section.backend.withdraw([f"{config.id}:item-8"])  # the catalogue lost it: its memo must not keep it out
    serve_detail(server, 3, version=2)
    in_slot = {n for n in range(1, 13) if refresh_slot(server.url(f"{DETAILS}item-{n}.htm"), 7) == today() % 7}
    report = section.run(config)
    expected = {f"item-{n}.htm": f'"item-{n}-1"' for n in in_slot | {3}} | {"item-8.htm": None}
    assert detail_requests(server) == expected
    assert (report.status, report.scope, report.new, report.updated) == ("succeeded", "full", 1, 1)
    assert any("1 remembered detail page gave records the catalogue does not hold live" in n for n in report.notes)
    pages = json.loads(section.store.cursors.get(config.id)["pages"])
    days = {url.rsplit("/", 1)[-1]: memo["day"] for url, memo in pages.items()}
    assert {page for page, day in days.items() if day == today()} == set(expected)  # read or confirmed today
    assert_nothing_lost(section, report, live=SECTION_SIZE)


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


ROBOTS = "User-agent: *\nDisallow: /course/5.html\n"


@pytest.fixture(scope="module")
def sitemap_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Four course pages and a fifth that robots.txt disallows (the first harvest's own test reads its report)."""
    with FixtureServer() as server:
        serve_sitemap(server, [1, 2, 3, 4, 5], robots=ROBOTS)
        snapshot = tmp_path_factory.mktemp("sitemap")
        with Harness.open(snapshot) as harness:
            first = harness.run(course_sitemap(server))
        yield Site(server, snapshot, first, [r.path for r in pages_asked(server)])


@pytest.fixture
def sitemap(sitemap_site: Site, tmp_path: Path) -> Iterator[Harness]:
    serve_sitemap(sitemap_site.server, [1, 2, 3, 4, 5], robots=ROBOTS)
    with first_harvested(sitemap_site, tmp_path) as harness:
        yield harness


def test_a_sitemap_redirecting_to_itself_fails_the_run(http_server: FixtureServer, harness: Harness) -> None:
    http_server.route("/sitemap.xml", status=301, headers={"Location": http_server.url("/sitemap.xml")})
    report = harness.run(sitemap_config(http_server, url=http_server.url("/sitemap.xml"), obey_robots=False))
    assert report.status == "failed" and report.error is not None
    assert "redirect loop" in report.error.message and report.complete is False


def test_a_clean_sitemap_crawl_with_pages_robots_disallows_succeeds_and_notes_them(sitemap_site: Site) -> None:
    first = sitemap_site.first  # the shared first harvest
    assert (first.status, first.new, first.scope, first.warning_count) == ("succeeded", 4, "full", 0)
    assert any("robots.txt" in note and "/course/5.html" in note for note in first.notes)
    assert sorted(sitemap_site.asked) == [f"/course/{n}.html" for n in (1, 2, 3, 4)]


def test_a_page_taken_off_the_sitemap_is_withdrawn_within_two_runs_without_fetching_pages(
    sitemap_site: Site, sitemap: Harness
) -> None:
    server = sitemap_site.server
    config = course_sitemap(server, max_withdraw_share=0.5)
    serve_sitemap(server, [1, 2, 3, 5], robots=ROBOTS)
    gone = f"{config.id}:{server.url('/course/4.html')}"
    reports = []
    for _ in range(2):
        server.requests.clear()
        reports.append(sitemap.run(config))
        assert pages_asked(server) == []  # the whole sitemap read, no page fetched again
    assert [(r.status, r.scope, r.unchanged, r.withdrawn) for r in reports] == [
        ("succeeded", "full", 3, 0),
        ("succeeded", "full", 3, 1),
    ]
    assert gone not in sitemap.live_hashes(config.id) and len(sitemap.live_hashes(config.id)) == 3
    sitemap.assert_consistent(config.id)


def test_a_sitemap_that_suddenly_lists_nothing_is_held(sitemap_site: Site, sitemap: Harness) -> None:
    config = course_sitemap(sitemap_site.server)
    serve_sitemap(sitemap_site.server, [], robots=ROBOTS)
    report = sitemap.run(config)
    assert report.status == "held" and report.held is not None and report.withdrawn == 0
    assert len(sitemap.live_hashes(config.id)) == 4
