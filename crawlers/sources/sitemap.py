"""The `sitemap` kind: sitemap index -> sitemaps -> pages -> schema.org JSON-LD / microdata, via Scrapy.

Incremental runs: `config.since` skips pages whose lastmod is not newer. After a crawl that ended without
error, `newest_lastmod` is the newest lastmod listed (skipped pages included); the harvest run stores it and
passes it back as `since` next time. A run with `since` set lists only changed pages, so it is not a complete
listing: records missing from it must not count towards withdrawal.
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
        """The cursor to persist: the newest lastmod of a completed crawl (None before it or on failure)."""
        value = (self.cursor or {}).get("lastmod")
        return datetime.fromisoformat(value) if isinstance(value, str) else None

    @property
    def complete_listing(self) -> bool:
        """Whether this run saw every page (no `since` cursor), so absences may count towards withdrawal."""
        return self.config.since is None
