"""The `sitemap` kind: sitemap index -> sitemaps -> pages -> schema.org JSON-LD / microdata, via Scrapy.

Incremental runs (crawlers/scrapy_engine/sitemap_spider.py has the details): the cursor keeps each sitemap's
ETag / Last-Modified, the newest `lastmod` listed and the pages to try again. The first crawl (or the first
after a config change) lists every page: scope "full" when every page was harvested. Later crawls fetch only
what changed: scope "incremental", or "unchanged" when nothing did. `config.since` is a floor under the cursor;
with it set no crawl is a complete listing.
"""

from __future__ import annotations

from datetime import datetime

from config.sources import SitemapSourceConfig
from crawlers.scrapy_engine.source import EngineSource
from crawlers.sources.base import register


@register("sitemap")
class SitemapSource(EngineSource):
    """Pages listed by a sitemap, as raw records from their Course / LearningResource / VideoObject markup."""

    config: SitemapSourceConfig

    @property
    def newest_lastmod(self) -> datetime | None:
        """The newest lastmod listed, as stored after a complete crawl (None before it or on failure)."""
        value = (self.cursor_out or {}).get("lastmod")
        return datetime.fromisoformat(value) if isinstance(value, str) else None
