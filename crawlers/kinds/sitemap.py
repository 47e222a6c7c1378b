"""The `sitemap` kind: sitemap index -> sitemaps -> pages -> schema.org JSON-LD / microdata, via Scrapy.

Incremental runs (crawlers/scrapy_engine/sitemap_spider.py has the details): the cursor keeps each sitemap's
ETag / Last-Modified, the newest `lastmod` listed, the pages to try again and the record ids each page gave.
Every crawl reads the whole sitemap and fetches only the pages that changed; the others name their records as
unchanged. So every crawl that read the whole sitemap and harvested every page it had to is a complete listing
(scope "full"), and a page taken off the sitemap counts as missing at once. `config.since` is a floor under the
cursor; with it set no crawl is a complete listing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from config.source_models import SitemapSourceConfig
from crawlers.kinds.base import register
from crawlers.scrapy_engine.source import EngineSource


@register("sitemap")
class SitemapSource(EngineSource):
    """Pages listed by a sitemap, as raw records from their Course / LearningResource / VideoObject markup."""

    config: SitemapSourceConfig

    @property
    def newest_lastmod(self) -> datetime | None:
        """The newest lastmod listed, as stored after a complete crawl (None before it or on failure)."""
        value = (self.cursor_out or {}).get("lastmod")
        return datetime.fromisoformat(value) if isinstance(value, str) else None

    def forget_pages(self, cursor: dict[str, Any], urls: set[str]) -> dict[str, Any]:
        """Also forget the validators of the sitemaps listing those pages: a 304 would not name them again."""
        pages = cursor.get("pages")
        sitemaps = cursor.get("sitemaps")
        if isinstance(pages, dict) and isinstance(sitemaps, dict):
            stale = {pages[url].get("sitemap") for url in urls if isinstance(pages.get(url), dict)}
            cursor = {**cursor, "sitemaps": {
                url: {**entry, "etag": None, "last_modified": None} if url in stale else entry
                for url, entry in sitemaps.items()
            }}  # fmt: skip
        return super().forget_pages(cursor, urls)
