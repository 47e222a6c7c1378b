"""Contract: every backend serves the sitemaps (every live record page, none withdrawn) and the feeds."""

from __future__ import annotations

from pathlib import Path

import feedparser
import httpx
from lxml import etree

from indexer.backends.base import IndexBackend
from tests.integration.feeds.site import PUBLIC, serve_site
from tests.integration.oai.repository import course

NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
COUNT = 25


def _sitemap_locs(client: httpx.Client, url: str) -> list[str]:
    index = etree.fromstring(client.get(f"{url}/sitemap.xml").content)
    locs = [str(s.findtext(NS + "loc")) for s in index.findall(NS + "sitemap")][1:]  # after the pages child
    found: list[str] = []
    for loc in locs:
        child = etree.fromstring(client.get(url + loc.removeprefix(PUBLIC)).content)
        assert len(child) <= 6
        found += [str(u.findtext(NS + "loc")) for u in child]
    return found


def test_every_backend_lists_live_record_pages_in_sitemaps_and_serves_feeds(
    backend: IndexBackend, tmp_path: Path
) -> None:
    records = [course(n) for n in range(COUNT)]
    backend.upsert(records)
    backend.withdraw([records[0].uid, records[14].uid])
    live = {f"{PUBLIC}/records/{r.uid}" for r in records[1:] if r is not records[14]}
    with serve_site(tmp_path, backend=backend, per_child=6) as url, httpx.Client(timeout=30) as client:
        locs = _sitemap_locs(client, url)
        assert sorted(locs) == sorted(live)
        backend.upsert([course(COUNT)])
        assert f"{PUBLIC}/records/{course(COUNT).uid}" in _sitemap_locs(client, url)
        theme = feedparser.parse(client.get(f"{url}/feeds/themes/闲暇生活.atom").content)
        programme = feedparser.parse(client.get(f"{url}/feeds/programmes/智慧助老.rss").content)
    assert not theme.bozo and not programme.bozo
    leisure = sorted((r for r in records if "闲暇生活" in r.themes), key=lambda r: r.published_at, reverse=True)
    assert [e.link for e in theme.entries] == [f"{PUBLIC}/records/{r.uid}" for r in leisure if r is not records[0]]
    in_programme = {f"{PUBLIC}/records/{r.uid}" for r in records[1:] if "智慧助老" in r.programmes}
    assert {e.link for e in programme.entries} == in_programme and in_programme
