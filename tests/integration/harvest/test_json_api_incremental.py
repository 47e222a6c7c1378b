"""The json_api kind under the incremental contract: conditional pages, whole listings, clean failures."""

from __future__ import annotations

import json
from typing import Any

import pytest

from config.source_models import JsonApiSourceConfig
from crawlers.errors import FetchError, HarvestError, ParseError
from crawlers.fetch import Fetcher
from crawlers.kinds import build_source
from crawlers.kinds.json_api import JsonApiSource
from indexer.record import RawRecord
from tests.support.http_server import FixtureServer, Reply, conditional, http_server_fixture  # noqa: F401
from tests.support.json_sources import json_api_config
from tests.support.le_ouchn import PAGING_PATH, expected, serve_le_ouchn, source_config
from tests.support.resume import resume
from tests.support.settings import local_http

SETTINGS = local_http(retries=1)
PAGES = {
    "1": [{"id": "1-1", "name": "太极拳入门"}, {"id": "1-2", "name": "八段锦"}],
    "2": [{"id": "2-1", "name": "手机挂号"}, {"id": "2-2", "name": "防范诈骗"}],
    "3": [],
}


def harvest(config: JsonApiSourceConfig, cursor: dict[str, Any] | None = None) -> tuple[list[RawRecord], JsonApiSource]:
    return resume(config, JsonApiSource, cursor, http=SETTINGS)


def small_api(server: FixtureServer, **overrides: Any) -> JsonApiSourceConfig:
    return json_api_config(server, **{"obey_robots": False, **overrides})


def body(items: list[dict[str, str]]) -> bytes:
    return json.dumps({"data": {"items": items}}, ensure_ascii=False).encode("utf-8")


def serve_pages(server: FixtureServer, pages: dict[str, list[dict[str, str]]], *, version: str = "v1") -> None:
    for number, items in pages.items():
        etag = f'"{version}-p{number}"'
        server.route("/items", query={"p": number}, responder=conditional(body(items), etag=etag))


def sent_pages(server: FixtureServer) -> list[tuple[str, str | None]]:
    return [(r.query["p"], r.header("If-None-Match")) for r in server.requests_for("/items")]


def test_an_unchanged_paged_list_answers_304_on_every_page_and_nothing_is_parsed(
    http_server: FixtureServer,
) -> None:
    serve_pages(http_server, PAGES)
    config = small_api(http_server, page_param="p")
    records, first = harvest(config)
    assert [r.source_id for r in records] == ["1-1", "1-2", "2-1", "2-2"]
    assert first.scope == "full" and first.complete_listing
    assert first.cursor_out is not None and [p["etag"] for p in first.cursor_out["pages"]] == [
        '"v1-p1"',
        '"v1-p2"',
        '"v1-p3"',
    ]
    http_server.requests.clear()
    again_records, again = harvest(config, first.cursor_out)
    assert sent_pages(http_server) == [("1", '"v1-p1"'), ("2", '"v1-p2"'), ("3", '"v1-p3"')]
    assert again_records == [] and again.scope == "unchanged"
    assert again.cursor_out == first.cursor_out
    assert any("none of its 3 pages changed" in n for n in again.notes)


def test_a_change_on_a_later_page_reads_the_whole_list_again(http_server: FixtureServer) -> None:
    serve_pages(http_server, PAGES)
    config = small_api(http_server, page_param="p")
    _, first = harvest(config)
    changed = [{"id": "2-1", "name": "手机挂号（新版）"}, {"id": "2-3", "name": "老年大学招生"}]
    serve_pages(http_server, {**PAGES, "2": changed}, version="v2")
    http_server.requests.clear()
    records, again = harvest(config, first.cursor_out)
    assert sent_pages(http_server) == [("1", '"v1-p1"'), ("2", '"v1-p2"'), ("1", None), ("3", None)]
    assert [(r.source_id, r.fields["title"]) for r in records] == [
        ("1-1", "太极拳入门"),
        ("1-2", "八段锦"),
        ("2-1", "手机挂号（新版）"),
        ("2-3", "老年大学招生"),
    ]
    assert again.scope == "full" and again.cursor_out is not None
    assert again.cursor_out["pages"][1]["etag"] == '"v2-p2"'


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_single_document_without_validators_is_unchanged_while_its_bytes_are(
    http_server: FixtureServer, method: str
) -> None:
    http_server.route("/items", body=body(PAGES["1"]), content_type="application/json")
    config = small_api(http_server, method=method)
    _, first = harvest(config)
    records, again = harvest(config, first.cursor_out)
    assert records == [] and again.scope == "unchanged"
    assert all(r.header("If-None-Match") is None for r in http_server.requests_for("/items"))
    http_server.route("/items", body=body(PAGES["2"]), content_type="application/json")
    records, changed = harvest(config, again.cursor_out)
    assert [r.source_id for r in records] == ["2-1", "2-2"] and changed.scope == "full"


def test_a_304_to_a_post_that_could_not_ask_for_one_is_a_parse_error(http_server: FixtureServer) -> None:
    http_server.route("/items", body=body(PAGES["1"]), content_type="application/json")
    config = small_api(http_server, method="POST")
    _, first = harvest(config)
    http_server.route("/items", status=304)
    with pytest.raises(ParseError, match="304 Not Modified to an unconditional request"):
        harvest(config, first.cursor_out)


def test_a_list_with_detail_requests_is_always_read_in_full(http_server: FixtureServer) -> None:
    serve_le_ouchn(http_server)
    config = source_config(http_server)
    _, first = harvest(config)
    assert first.scope == "full" and first.cursor_out is not None and len(first.cursor_out["pages"]) == 3
    records, again = harvest(config, first.cursor_out)
    assert [r.source_id for r in records] == [w["source_id"] for w in expected()["records"]]
    assert again.scope == "full" and any("detail requests" in n for n in again.notes)
    assert all(r.header("If-None-Match") is None for r in http_server.requests_for(PAGING_PATH))


def test_a_list_cut_by_max_pages_is_incomplete_and_leaves_no_cursor(http_server: FixtureServer) -> None:
    serve_pages(http_server, PAGES)
    records, source = harvest(small_api(http_server, page_param="p", max_pages=1))
    assert [r.source_id for r in records] == ["1-1", "1-2"]
    assert source.cursor_out is None and source.complete_listing is False


@pytest.mark.parametrize(
    ("reply", "error", "message"),
    [
        (Reply(body=body(PAGES["2"])[:-9]), ParseError, "not valid JSON"),
        (
            Reply(body=body(PAGES["2"])[:30], headers={"Content-Length": "900"}, send_length=False),
            FetchError,
            "Connection broken: IncompleteRead",
        ),
        (Reply(status=502, body=b"Bad Gateway"), FetchError, "failed: HTTP 502"),
        (Reply(status=304), ParseError, "304 Not Modified to an unconditional request"),
    ],
)
def test_a_failing_page_raises_a_clear_error_and_leaves_no_cursor(
    http_server: FixtureServer, reply: Reply, error: type[HarvestError], message: str
) -> None:
    serve_pages(http_server, PAGES)
    http_server.route("/items", query={"p": "2"}, responses=[reply])
    got: list[str] = []
    with Fetcher(SETTINGS, obey_robots=False) as fetcher:
        source = build_source(small_api(http_server, page_param="p"), fetcher)
        with pytest.raises(error, match=message):
            got.extend(r.source_id for r in source.iter_records())
    assert got == ["1-1", "1-2"]
    assert isinstance(source, JsonApiSource) and source.cursor_out is None


def test_a_page_failing_during_the_conditional_check_leaves_no_cursor(http_server: FixtureServer) -> None:
    serve_pages(http_server, PAGES)
    config = small_api(http_server, page_param="p")
    _, first = harvest(config)
    http_server.route("/items", query={"p": "2"}, status=500, body="服务器错误")
    with pytest.raises(FetchError, match="HTTP 500"):
        harvest(config, first.cursor_out)
    assert len([q for q, _ in sent_pages(http_server) if q == "2"]) == 1 + 2  # first run, then one retry


def test_an_unknown_host_fails_with_a_fetch_error(http_server: FixtureServer) -> None:
    config = small_api(http_server, url="http://api.no-such-host.invalid/items")
    with Fetcher(SETTINGS, obey_robots=False) as fetcher:
        source = build_source(config, fetcher)
        with pytest.raises(FetchError, match="no-such-host.invalid"):
            list(source.iter_records())
    assert isinstance(source, JsonApiSource) and source.cursor_out is None
