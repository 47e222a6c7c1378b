"""Oversized responses, decompression bombs and XML entity expansion are cut off with a clear error."""

from __future__ import annotations

import gzip
from typing import Any

import httpx
import pytest

from crawlers.errors import ResponseTooLargeError
from crawlers.fetch import Fetcher
from tests.integration.operator.site import OperatorSite
from tests.support.http_server import FixtureServer, Reply
from tests.support.settings import local_http

CAP = 1_000_000
LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lollollollollollollollollollol">\n'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10))
    + "]>\n"
)


def _fetcher(**changes: Any) -> Fetcher:
    http = local_http(max_response_bytes=CAP, **changes)
    return Fetcher(http, obey_robots=False)


@pytest.mark.parametrize("send_length", [True, False])
def test_a_response_larger_than_the_cap_is_cut_off(http_server: FixtureServer, send_length: bool) -> None:
    http_server.route("/big", body=b"x" * (CAP * 3), send_length=send_length)
    with _fetcher() as fetcher, pytest.raises(ResponseTooLargeError, match="1000000-byte cap"):
        fetcher.get(http_server.url("/big"))
    assert fetcher.log[0].error is not None and fetcher.log[0].error.startswith("too large")


def test_a_gzip_bomb_is_cut_off_once_it_inflates_past_the_cap(http_server: FixtureServer) -> None:
    bomb = gzip.compress(b"\0" * (CAP * 40), compresslevel=9)
    assert len(bomb) < CAP // 10
    http_server.route("/bomb", responses=[Reply(body=bomb, headers={"Content-Encoding": "gzip"})])
    with _fetcher() as fetcher, pytest.raises(ResponseTooLargeError):
        fetcher.get(http_server.url("/bomb"))


def test_a_gzip_body_within_the_cap_is_inflated(http_server: FixtureServer) -> None:
    small = Reply(body=gzip.compress(b"ok" * 1000), headers={"Content-Encoding": "gzip"})
    http_server.route("/small", responses=[small])
    with _fetcher() as fetcher:
        assert fetcher.get(http_server.url("/small")).content == b"ok" * 1000


def _dry_run(site: OperatorSite, client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.post("/api/v1/sources/dry-run", json=body)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def _base(kind: str, **values: Any) -> dict[str, Any]:
    return {"id": f"laughs_{kind}", "kind": kind, "name": "实体炸弹", "platform": "test_platform",
            "platform_name": "测试平台", "obey_robots": False, **values}  # fmt: skip


def test_billion_laughs_in_a_feed_is_not_expanded(site: OperatorSite, operator: httpx.Client) -> None:
    feed = (
        LAUGHS + "<rss version='2.0'><channel><title>t</title><item><title>&lol9;</title>"
        "<link>https://a.example.cn/1</link><guid>1</guid></item></channel></rss>"
    )
    site.platform.route("/feed.xml", body=feed, content_type="application/rss+xml")
    preview = _dry_run(site, operator, _base("rss", url=site.platform.url("/feed.xml")))
    titles = [item["record"]["title"] for item in preview["items"]]
    assert len(titles) == 1 and len(titles[0]) < 100  # expanded, it would be 3 * 10**9 characters
    assert "not well-formed" in preview["warnings"][0]


def test_billion_laughs_in_oai_pmh_is_refused(site: OperatorSite, operator: httpx.Client) -> None:
    site.platform.route("/oai", body=LAUGHS + "<OAI-PMH><x>&lol9;</x></OAI-PMH>", content_type="text/xml")
    preview = _dry_run(site, operator, _base("oai_pmh", base_url=site.platform.url("/oai")))
    assert preview["status"] == "failed" and "entities" in preview["error"]["message"]


def test_billion_laughs_in_a_sitemap_is_refused(site: OperatorSite, operator: httpx.Client) -> None:
    sitemap = (
        LAUGHS + "<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'><url><loc>&lol9;</loc></url></urlset>"
    )
    site.platform.route("/sitemap.xml", body=sitemap, content_type="application/xml")
    preview = _dry_run(site, operator, _base("sitemap", url=site.platform.url("/sitemap.xml")))
    assert preview["status"] == "failed" and preview["items"] == []
    assert preview["error"]["type"] == "ParseError" and "entity" in preview["error"]["message"]
