"""The one rule every kind's run follows: status words, incomplete listings, empty listings, robots.txt skips,
and unchanged listings that count as complete (a deletion leaves within two scheduled runs)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from config.source_models import JsonApiSourceConfig, RssSourceConfig, SourceBase, StaticCatalogSourceConfig
from tests.support.feeds import rss_config
from tests.support.harvest_state import Harness, courses
from tests.support.http_server import FixtureServer, conditional, http_server_fixture  # noqa: F401
from tests.support.json_sources import json_api_config
from tests.support.le_ouchn import detail_path, source_config

ITEMS = courses(10)
Serve = Callable[[FixtureServer, list[dict[str, Any]], int], SourceBase]


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    with Harness.open(tmp_path / "data") as opened:
        yield opened


def feed_body(items: list[dict[str, Any]], *, complete: bool = False, broken: bool = False) -> bytes:
    marker = "<fh:complete/>" if complete else ""
    entries = "".join(
        f"<item><guid>{i['id']}</guid><title>{i['name']}</title><link>https://example.edu.cn/n/{i['id']}</link></item>"
        for i in items
    )
    tail = "<item><guid>x</guid><title>断" if broken else "</channel></rss>"
    head = (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0' xmlns:fh='http://purl.org/syndication/history/1.0'>"
    )
    return f"{head}<channel><title>社区学习动态</title>{marker}{entries}{tail}".encode()


def serve_feed(server: FixtureServer, items: list[dict[str, Any]], version: int, **flags: bool) -> SourceBase:
    body = feed_body(items, **flags)
    server.route("/feed", responder=conditional(body, etag=f'"{version}"', content_type="application/rss+xml"))
    return rss_config(server, id="news_feed", obey_robots=False)


def serve_window_feed(server: FixtureServer, items: list[dict[str, Any]], version: int) -> SourceBase:
    return serve_feed(server, items, version)


def serve_complete_feed(server: FixtureServer, items: list[dict[str, Any]], version: int) -> SourceBase:
    config = serve_feed(server, items, version)
    assert isinstance(config, RssSourceConfig)
    return config.model_copy(update={"complete_listing": True})


def serve_list(server: FixtureServer, items: list[dict[str, Any]], version: int) -> SourceBase:
    body = json.dumps({"data": {"items": items}}, ensure_ascii=False).encode("utf-8")
    server.route("/items", responder=conditional(body, etag=f'"{version}"', content_type="application/json"))
    return json_api_config(server, obey_robots=False)


def serve_catalogue(server: FixtureServer, items: list[dict[str, Any]], version: int) -> SourceBase:
    parts = [f"part_{version}.json"] if items else []
    index = {"module": "elder_edu", "module_version": version, "urls": parts}
    server.route("/version/data_version.json", json=index)
    records = [{"id": i["id"], "title": i["name"], "status": "ONLINE"} for i in items]
    server.route(f"/version/part_{version}.json", json=records)
    return StaticCatalogSourceConfig.model_validate(
        {
            "id": "elder_catalogue",
            "kind": "static_catalog",
            "name": "老年教育资源目录",
            "platform": "test_platform",
            "platform_name": "测试平台",
            "version_url": server.url("/version/data_version.json"),
            "url_template": "https://example.edu.cn/r/{id}",
            "fields": {"title": "title"},
            "obey_robots": False,
        }
    )


def test_a_malformed_feed_is_a_partial_incomplete_run_that_withdraws_nothing(
    harness: Harness, http_server: FixtureServer
) -> None:
    config = serve_complete_feed(http_server, ITEMS, 1)
    assert harness.run(config).complete
    serve_feed(http_server, ITEMS[:6], 2, complete=True, broken=True)
    broken = harness.run(config.model_copy(update={"withdraw_after_missed_runs": 1}))
    assert (broken.status, broken.complete, broken.scope, broken.withdrawn, broken.held) == (
        "partial",
        False,
        None,
        0,
        None,
    )
    assert broken.incomplete is not None and "not well-formed" in broken.incomplete
    assert harness.store.runs.get(broken.run_id).report["incomplete"] == broken.incomplete  # type: ignore[index]
    assert set(harness.missed(config.id).values()) == {0}
    assert len(harness.index_hashes(config.id)) == 10


# json_api lists and complete feeds were held already (test_withdrawal.py); these two failed or succeeded.
@pytest.mark.parametrize("serve", [serve_catalogue, serve_window_feed], ids=lambda f: f.__name__)
def test_a_source_that_suddenly_lists_nothing_is_held_whatever_its_kind(
    harness: Harness, http_server: FixtureServer, serve: Serve
) -> None:
    config = serve(http_server, ITEMS, 1)
    assert harness.run(config).status == "succeeded"
    serve(http_server, [], 2)
    empty = harness.run(config)
    assert (empty.status, empty.error, empty.withdrawn, empty.complete) == ("held", None, 0, True)
    assert empty.held is not None and empty.held.reason == "the source listed no records; it had 10"
    assert set(harness.store.holds.get(empty.held.hold_id).uids) == set(harness.index_hashes(config.id))
    assert len(harness.index_hashes(config.id)) == 10


@pytest.mark.parametrize("serve", [serve_list, serve_catalogue, serve_complete_feed], ids=lambda f: f.__name__)
def test_a_deletion_leaves_within_two_scheduled_runs_though_the_listing_is_then_unchanged(
    harness: Harness, http_server: FixtureServer, serve: Serve
) -> None:
    config = serve(http_server, ITEMS, 1)
    harness.run(config)
    serve(http_server, ITEMS[1:], 2)  # the platform deletes one record
    first = harness.run(config)
    assert (first.scope, first.withdrawn) == ("full", 0)
    second = harness.run(config)  # nothing changed since: not one record downloaded
    assert (second.scope, second.status, second.complete, second.fetched) == ("unchanged", "succeeded", True, 0)
    assert second.withdrawn == 1
    assert set(harness.index_hashes(config.id)) == {f"{config.id}:{i['id']}" for i in ITEMS[1:]}
    harness.assert_consistent(config.id)


def test_a_detail_robots_txt_disallows_is_a_note_not_a_warning(harness: Harness, http_server: FixtureServer) -> None:
    items = [{"Id": f"c{n}", "Name": f"书法入门 第{n}讲", "StudentCount": n} for n in (1, 2)]
    http_server.route("/robots.txt", body=f"User-agent: *\nDisallow: {detail_path('c2')}\n")
    http_server.route("/api/Course/Paging", json={"Data": {"PageListInfos": items, "PageCount": 1}})
    http_server.route(detail_path("c1"), json={"Data": {"Name": "书法入门 第1讲", "Modules": []}})
    config: JsonApiSourceConfig = source_config(http_server)
    report = harness.run(config)
    assert (report.status, report.warnings, report.new) == ("succeeded", [], 2)
    assert f"1 URLs not requested: robots.txt disallows them (first: {http_server.url(detail_path('c2'))})" in (
        report.notes
    )
    assert http_server.requests_for(detail_path("c2")) == []


def test_a_feed_without_paging_that_seems_whole_says_so_and_one_declaring_it_is_complete(
    harness: Harness, http_server: FixtureServer
) -> None:
    config = serve_window_feed(http_server, courses(37), 1)
    dry = harness.run(config, dry_run=True)
    assert any("seems to list its whole catalogue: 37 items, no paging" in n for n in dry.notes)
    assert any("complete_listing: true" in n for n in dry.notes)
    serve_feed(http_server, courses(37), 2, complete=True)
    declared = harness.run(config)
    assert (declared.scope, declared.complete) == ("full", True)
    assert any("declares itself complete" in n for n in declared.notes)
