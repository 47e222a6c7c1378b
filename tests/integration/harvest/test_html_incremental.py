"""The html kind under the incremental contract: a whole walk is complete, holes and cuts are not."""

from __future__ import annotations

from typing import Any

import pytest

from config.source_models import HtmlSourceConfig
from crawlers.errors import FetchError
from crawlers.fetch import Fetcher
from crawlers.kinds import build_source
from crawlers.kinds.html import HtmlSource
from indexer.record import RawRecord
from tests.support.cms import cms_config, cms_expected, serve_cms, with_base
from tests.support.http_server import FixtureServer, http_server_fixture  # noqa: F401
from tests.support.resume import resume
from tests.support.settings import local_http

HTTP = local_http()
CASE_TWO = "/Pages/News/2022/12/12/5b1f3c2e-8d4a-4c61-9e7b-2a6d0c9f1e84.htm"


def crawl(config: HtmlSourceConfig, cursor: dict[str, Any] | None = None) -> tuple[list[RawRecord], HtmlSource]:
    records, source = resume(config, HtmlSource, cursor, http=HTTP)
    return sorted(records, key=lambda r: r.source_id), source


def test_a_whole_walk_is_complete_though_a_detail_page_is_gone(http_server: FixtureServer) -> None:
    serve_cms(http_server, "lnjyw")
    want = with_base(cms_expected("lnjyw"), http_server.base_url)
    assert any("HTTP 404" in p["reason_contains"] for p in want["problems"])  # the fixture has a gone page
    config = cms_config(http_server, "lnjyw")
    records, first = crawl(config)
    assert [r.source_id for r in records] == [w["source_id"] for w in want["records"]]
    assert first.scope == "full" and first.complete_listing
    again_records, again = crawl(config, first.cursor_out)
    assert [r.source_id for r in again_records] == [r.source_id for r in records]
    assert again.scope == "full" and again.cursor_out == first.cursor_out
    assert not any("configuration changed" in n for n in again.notes)


@pytest.mark.parametrize(
    ("path", "route"),
    [
        (CASE_TWO, {"status": 500, "body": "服务器错误"}),
        ("/Pages/List/zhzl_2.htm", {"body": "<html><body><ul class='newslist'></ul></body></html>"}),
    ],
    ids=["detail-page-500", "list-page-without-links"],
)
def test_a_page_that_could_not_be_harvested_leaves_a_partial_listing(
    http_server: FixtureServer, path: str, route: dict[str, Any]
) -> None:
    serve_cms(http_server, "lnjyw")
    http_server.route(path, content_type="text/html; charset=utf-8", **route)
    records, source = crawl(cms_config(http_server, "lnjyw"))
    assert records and source.scope == "incremental"
    assert source.cursor_out is not None and not source.complete_listing
    assert "1 page could not be harvested (see problems): a partial listing" in source.notes


def test_a_walk_cut_by_max_list_pages_is_incomplete(http_server: FixtureServer) -> None:
    serve_cms(http_server, "shequ")
    records, source = crawl(cms_config(http_server, "shequ"))
    assert records and any("max_list_pages" in w for w in source.warnings)
    assert source.cursor_out is None and not source.complete_listing


def test_a_failing_programme_page_fails_the_run_and_leaves_no_cursor(http_server: FixtureServer) -> None:
    serve_cms(http_server, "caea")
    (path,) = [p for p in cms_expected("caea")["routes"] if p.endswith(".html")]
    http_server.route(path, status=502, body="Bad Gateway")
    with Fetcher(HTTP, delay_seconds=0) as fetcher:
        source = build_source(cms_config(http_server, "caea"), fetcher)
        with pytest.raises(FetchError, match="HTTP 502"):
            list(source.iter_records())
    assert isinstance(source, HtmlSource) and source.cursor_out is None
