"""The rss kind under the incremental contract: conditional GET, 304 = unchanged, window feeds never complete."""

from __future__ import annotations

from typing import Any

import pytest

from config.source_models import RssSourceConfig
from crawlers.errors import FetchError, HarvestError, ParseError
from crawlers.fetch import Fetcher
from crawlers.kinds import build_source
from crawlers.kinds.rss import RssSource
from indexer.record import RawRecord
from tests.support.feeds import RSS_DIR, load_case, rss_config
from tests.support.http_server import FixtureServer, conditional, http_server_fixture  # noqa: F401
from tests.support.resume import resume
from tests.support.settings import local_http

SETTINGS = local_http()
LAST_MODIFIED = "Tue, 07 Jan 2025 02:00:00 GMT"


def harvest(config: RssSourceConfig, cursor: dict[str, Any] | None = None) -> tuple[list[RawRecord], RssSource]:
    return resume(config, RssSource, cursor, http=SETTINGS)


def serve(server: FixtureServer, feed: str, **validators: str) -> None:
    body = (RSS_DIR / feed).read_bytes()
    server.route("/feed", responder=conditional(body, content_type="application/rss+xml", **validators))


def expected_ids(case: str) -> list[str]:
    return [r["source_id"] for r in load_case(case)["records"]]


def test_a_gbk_feed_with_an_etag_answers_304_next_time_and_nothing_is_parsed(http_server: FixtureServer) -> None:
    serve(http_server, "gbk-declared.xml", etag='"gbk-1"')
    config = rss_config(http_server)
    records, first = harvest(config)
    assert [(r.source_id, r.fields) for r in records] == [
        (w["source_id"], w["fields"]) for w in load_case("gbk-declared.expected.json")["records"]
    ]
    assert first.cursor_out is not None and first.cursor_out["etag"] == '"gbk-1"'
    again_records, again = harvest(config, first.cursor_out)
    sent = http_server.requests_for("/feed")
    assert [r.header("If-None-Match") for r in sent] == [None, '"gbk-1"']
    assert again_records == [] and again.scope == "unchanged"
    assert again.cursor_out == first.cursor_out
    assert any("304 Not Modified" in n for n in again.notes) and again.warnings == []


def test_last_modified_alone_makes_the_request_conditional(http_server: FixtureServer) -> None:
    serve(http_server, "atom.xml", last_modified=LAST_MODIFIED)
    config = rss_config(http_server)
    _, first = harvest(config)
    records, again = harvest(config, first.cursor_out)
    assert http_server.requests_for("/feed")[1].header("If-Modified-Since") == LAST_MODIFIED
    assert records == [] and again.scope == "unchanged"


def test_a_changed_feed_gives_its_new_records_and_new_validators(http_server: FixtureServer) -> None:
    serve(http_server, "gbk-declared.xml", etag='"v1"')
    config = rss_config(http_server)
    _, first = harvest(config)
    serve(http_server, "rss091.xml", etag='"v2"')
    records, again = harvest(config, first.cursor_out)
    assert [r.source_id for r in records] == expected_ids("rss091.expected.json")
    assert again.scope == "incremental" and again.cursor_out is not None
    assert again.cursor_out["etag"] == '"v2"'


def test_a_server_without_validators_is_recognised_by_the_same_bytes(http_server: FixtureServer) -> None:
    serve(http_server, "utf8-bom.xml")
    config = rss_config(http_server)
    records, first = harvest(config)
    assert records and first.cursor_out is not None and first.cursor_out["etag"] is None
    again_records, again = harvest(config, first.cursor_out)
    assert again_records == [] and again.scope == "unchanged"
    assert any("the same bytes as last time" in n for n in again.notes)


def test_a_window_feed_is_a_partial_listing_unless_configured_complete(http_server: FixtureServer) -> None:
    serve(http_server, "rss10-rdf.xml", etag='"w"')
    _, window = harvest(rss_config(http_server))
    assert window.scope == "incremental" and window.cursor_out is not None
    assert window.complete_listing is False
    _, whole = harvest(rss_config(http_server, complete_listing=True))
    assert whole.scope == "full" and whole.complete_listing is True


def test_a_feed_parsed_only_as_far_as_it_went_is_partial_and_read_again(http_server: FixtureServer) -> None:
    serve(http_server, "bozo.xml", etag='"bozo"')
    config = rss_config(http_server, complete_listing=True)
    records, first = harvest(config)
    assert records and first.scope == "incremental" and first.incomplete_reason is not None
    assert first.cursor_out is None  # an incomplete listing: no cursor, so the next run reads it again
    again_records, again = harvest(config, first.cursor_out)
    assert http_server.requests_for("/feed")[1].header("If-None-Match") is None
    assert [r.source_id for r in again_records] == [r.source_id for r in records]


def test_a_changed_configuration_asks_unconditionally(http_server: FixtureServer) -> None:
    serve(http_server, "gbk-declared.xml", etag='"gbk-1"')
    _, first = harvest(rss_config(http_server))
    records, again = harvest(rss_config(http_server, encoding="gb18030"), first.cursor_out)
    assert http_server.requests_for("/feed")[1].header("If-None-Match") is None
    assert [r.source_id for r in records] == expected_ids("gbk-declared.expected.json")
    assert any("configuration changed" in n for n in again.notes)


@pytest.mark.parametrize(
    ("route", "error", "message"),
    [
        ({"status": 500, "body": "服务器错误"}, FetchError, "failed: HTTP 500"),
        ({"body": "<html><body>维护中</body></html>", "content_type": "text/html"}, ParseError, "not an RSS"),
        ({"status": 304}, ParseError, "304 Not Modified to an unconditional request"),
    ],
)
def test_a_failing_feed_raises_a_clear_error_and_leaves_no_cursor(
    http_server: FixtureServer, route: dict[str, Any], error: type[HarvestError], message: str
) -> None:
    http_server.route("/feed", **route)
    with Fetcher(SETTINGS) as fetcher:
        source = build_source(rss_config(http_server), fetcher)
        with pytest.raises(error, match=message):
            list(source.iter_records())
    assert isinstance(source, RssSource) and source.cursor_out is None


def test_an_unknown_host_fails_the_run_with_a_fetch_error_and_no_cursor(http_server: FixtureServer) -> None:
    config = rss_config(http_server, url="http://feed.no-such-host.invalid/rss")
    with Fetcher(SETTINGS) as fetcher:
        source = build_source(config, fetcher)
        with pytest.raises(FetchError, match="no-such-host.invalid"):
            list(source.iter_records())
    assert isinstance(source, RssSource) and source.cursor_out is None
