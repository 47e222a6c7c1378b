"""Search limits come from settings.search: query length, page size, page depth (then the cursor)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lxml import html as lxml_html

from tests.integration.api.catalogue import PAGING_THEME, catalogue_server, sample_records

MAX_PAGE = 2
MAX_SIZE = 4


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    tmp: Path = tmp_path_factory.mktemp("tight")
    limits = {"max_query_chars": 6, "max_page_size": MAX_SIZE, "default_page_size": 3, "max_page": MAX_PAGE}
    with catalogue_server(tmp, **limits) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


def test_limits_follow_the_settings(tight: httpx.Client) -> None:
    assert tight.get("/api/v1/search", params={"size": MAX_SIZE}).status_code == 200
    assert tight.get("/api/v1/search", params={"size": MAX_SIZE + 1}).status_code == 422
    assert tight.get("/api/v1/search", params={"q": "书法书法书法"}).status_code == 200
    assert tight.get("/api/v1/search", params={"q": "书法书法书法书"}).status_code == 422
    assert tight.get("/api/v1/search", params={"page": MAX_PAGE + 1}).status_code == 422
    assert tight.get("/api/v1/search").json()["size"] == 3


def test_cursor_pages_past_the_deepest_page_number(tight: httpx.Client) -> None:
    params: dict[str, str | int] = {"theme": PAGING_THEME, "size": MAX_SIZE}
    seen: list[str] = []
    for page in range(1, 30):
        body = tight.get("/api/v1/search", params={**params, "page": page} if page <= MAX_PAGE else params).json()
        seen += [item["id"] for item in body["items"]]
        if not body["next_cursor"]:
            break
        params = {**params, "cursor": body["next_cursor"]} if page >= MAX_PAGE else params
    assert len(seen) == len(set(seen)) == sum(PAGING_THEME in r.themes for r in sample_records())


def test_page_links_switch_to_the_cursor_after_the_deepest_page(tight: httpx.Client) -> None:
    url = f"/?theme={PAGING_THEME}&size={MAX_SIZE}"
    seen: list[str] = []
    for _ in range(30):
        doc = lxml_html.fromstring(tight.get(url).text)
        seen += [a.get("href") for a in doc.cssselect(".result-title a")]
        links = {a.text: a.get("href") for a in doc.cssselect(".pager a")}
        if "下一页" not in links:
            break
        url = links["下一页"]
    assert "cursor=" in url and "回到第一页" in links
    assert len(seen) == len(set(seen)) == sum(PAGING_THEME in r.themes for r in sample_records())
