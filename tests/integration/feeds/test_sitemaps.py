"""sitemap.xml, its child sitemaps and robots.txt, checked against the sitemaps.org protocol 0.9."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from lxml import etree

from indexer.backends.changes import now_stamp
from indexer.backends.sqlite import SqliteBackend
from search_api.services.sitemaps import MAX_CHILD_BYTES, MAX_URLS, plan_children, render_child
from tests.integration.feeds.site import PUBLIC, serve_site
from tests.integration.oai.repository import course

NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
# W3C datetime (https://www.w3.org/TR/NOTE-datetime) at seconds precision, with a time zone designator
W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")


def _xml(response: httpx.Response, root: str) -> etree._Element:
    """The document of a 200 answer, after the protocol's checks on the root, its namespace and its size."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    assert len(response.content) <= MAX_CHILD_BYTES
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    doc = etree.fromstring(response.content)
    assert doc.tag == NS + root and doc.nsmap == {None: NS.strip("{}")}
    return doc


def _children(client: httpx.Client, url: str) -> list[list[tuple[str, str]]]:
    """(loc, lastmod) of every URL of every record child the index lists, child by child."""
    index = _xml(client.get(f"{url}/sitemap.xml"), "sitemapindex")
    locs = [s.findtext(NS + "loc") for s in index.findall(NS + "sitemap")]
    assert [child.tag for s in index for child in s] == [NS + "loc"] + [NS + "loc", NS + "lastmod"] * (len(locs) - 1)
    assert locs[0] == f"{PUBLIC}/sitemaps/pages.xml"
    assert all(W3C.match(str(m.text)) for m in index.iter(NS + "lastmod"))
    found = []
    for n, loc in enumerate(locs[1:], start=1):
        assert loc == f"{PUBLIC}/sitemaps/records-{n}.xml"
        child = _xml(client.get(f"{url}/sitemaps/records-{n}.xml"), "urlset")
        found.append([(str(u.findtext(NS + "loc")), str(u.findtext(NS + "lastmod"))) for u in child])
    return found


def test_the_sitemap_index_splits_live_record_pages_into_children_of_the_limit_and_leaves_out_withdrawn_ones(
    index: SqliteBackend, tmp_path: Path
) -> None:
    records = [course(n) for n in range(30)]
    index.upsert(records)
    index.withdraw([records[4].uid, records[11].uid])
    with serve_site(tmp_path, backend=index, per_child=7) as url, httpx.Client(timeout=30) as client:
        children = _children(client, url)
        assert [len(c) for c in children] == [7, 7, 7, 7]
        locs = [loc for child in children for loc, _ in child]
        live = [r.uid for r in records if r.uid not in (records[4].uid, records[11].uid)]
        assert sorted(locs) == sorted(f"{PUBLIC}/records/{uid}" for uid in live) and len(set(locs)) == 28
        assert all(W3C.match(lastmod) for child in children for _, lastmod in child)
        index.withdraw([records[0].uid])
        index.upsert([course(40)])
        again = [loc for child in _children(client, url) for loc, _ in child]
        assert f"{PUBLIC}/records/{records[0].uid}" not in again and f"{PUBLIC}/records/{course(40).uid}" in again
        assert len(again) == 28
        assert client.get(f"{url}/sitemaps/records-5.xml").status_code == 404
        assert client.get(f"{url}/sitemaps/records-0.xml").status_code == 404
        pages = _xml(client.get(f"{url}/sitemaps/pages.xml"), "urlset")
        assert [u.findtext(NS + "loc") for u in pages] == [f"{PUBLIC}/"]


def test_a_child_is_cut_before_it_would_pass_its_byte_limit(index: SqliteBackend) -> None:
    index.upsert([course(n) for n in range(12)])
    one = len(render_child(index, plan_children(index, base=PUBLIC, per_child=1).children[0], base=PUBLIC,
                           until=now_stamp()))  # fmt: skip
    plan = plan_children(index, base=PUBLIC, per_child=MAX_URLS, max_bytes=one * 2)
    sizes = [len(render_child(index, child, base=PUBLIC, until=plan.until)) for child in plan.children]
    assert len(plan.children) >= 4 and sum(c.count for c in plan.children) == 12
    assert all(size <= one * 2 for size in sizes)
    assert len(plan_children(index, base=PUBLIC).children) == 1


def test_robots_txt_names_the_sitemap_at_the_public_url_or_the_requested_host(
    index: SqliteBackend, tmp_path: Path
) -> None:
    with serve_site(tmp_path, backend=index) as url:
        public = httpx.get(f"{url}/robots.txt")
    with serve_site(tmp_path, backend=index, public_url=None) as url:
        local = httpx.get(f"{url}/robots.txt")
        index_doc = _xml_local(httpx.get(f"{url}/sitemap.xml"))
    assert public.status_code == 200 and public.headers["content-type"].startswith("text/plain")
    assert f"Sitemap: {PUBLIC}/sitemap.xml" in public.text.splitlines()
    assert "Disallow: /admin" in public.text and "Disallow: /?" in public.text
    assert f"Sitemap: {url}/sitemap.xml" in local.text.splitlines()
    assert index_doc.findtext(f"{NS}sitemap/{NS}loc") == f"{url}/sitemaps/pages.xml"


def _xml_local(response: httpx.Response) -> etree._Element:
    assert response.status_code == 200
    return etree.fromstring(response.content)
