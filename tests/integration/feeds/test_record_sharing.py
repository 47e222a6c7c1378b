"""What a chat's link preview and a search engine read on a record page: Open Graph, canonical, Course JSON-LD."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import lxml.html

from indexer.backends.sqlite import SqliteBackend
from tests.integration.feeds.site import PUBLIC, serve_site
from tests.integration.oai.repository import course


def _page(url: str) -> lxml.html.HtmlElement:
    response = httpx.get(url)
    assert response.status_code == 200
    return lxml.html.fromstring(response.text)


def _meta(doc: lxml.html.HtmlElement) -> dict[str, str]:
    return {m.get("property"): m.get("content") for m in doc.cssselect("meta[property^='og:']")}


def test_a_record_page_carries_open_graph_title_and_platform_one_canonical_link_and_a_valid_course(
    index: SqliteBackend, tmp_path: Path
) -> None:
    record = course(3)
    index.upsert([record])
    with serve_site(tmp_path, backend=index) as url:
        doc = _page(f"{url}/records/{record.uid}?q=x&page=2")
    meta = _meta(doc)
    assert meta["og:title"] == f"{record.title}｜{record.platform_name}"
    assert meta["og:url"] == f"{PUBLIC}/records/{record.uid}" and meta["og:type"] == "website"
    assert meta["og:description"].startswith(record.platform_name) and meta["og:site_name"]
    assert doc.cssselect("meta[name=description]")[0].get("content").startswith(record.platform_name)
    [canonical] = doc.cssselect("link[rel=canonical]")
    assert canonical.get("href") == f"{PUBLIC}/records/{record.uid}"
    [script] = doc.cssselect("script[type='application/ld+json']")
    data = json.loads(script.text)
    assert data["@context"] == "https://schema.org" and data["@type"] == "Course"
    assert data["name"] == record.title and data["description"] and data["provider"]["name"]


def test_without_a_public_url_the_preview_names_the_host_the_page_was_asked_on(
    index: SqliteBackend, tmp_path: Path
) -> None:
    record = course(5)
    index.upsert([record])
    with serve_site(tmp_path, backend=index, public_url=None) as url:
        doc = _page(f"{url}/records/{record.uid}")
    assert _meta(doc)["og:url"] == f"{url}/records/{record.uid}"
    assert [c.get("href") for c in doc.cssselect("link[rel=canonical]")] == [f"/records/{record.uid}"]
