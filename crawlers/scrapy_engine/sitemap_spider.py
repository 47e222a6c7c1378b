"""The sitemap spider: sitemap index -> sitemaps -> pages newer than `since` -> schema.org items."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy.http import Response, TextResponse

from config.sources import SitemapSourceConfig
from crawlers.errors import ParseError, ResponseTooLargeError
from crawlers.scrapy_engine.base_spider import EngineSpider, check_patterns
from crawlers.scrapy_engine.schema_org import node_id, record_fields
from crawlers.scrapy_engine.sitemaps import SitemapEntry, read_sitemap
from crawlers.scrapy_engine.structured import extract
from indexer.normalize.dates import parse_datetime


class SitemapCrawlSpider(EngineSpider):
    """Walks a sitemap (index) and turns each listed page's JSON-LD or microdata items into records."""

    config: SitemapSourceConfig

    def __init__(self, *, config: SitemapSourceConfig, **kwargs: Any) -> None:
        super().__init__(config=config, **kwargs)
        self.since = parse_datetime(config.since) if config.since else None
        self.newest_lastmod: datetime | None = None
        self.sitemaps_read = 0
        self.pattern = re.compile(config.url_pattern) if config.url_pattern else None

    @classmethod
    def check(cls, config: SitemapSourceConfig) -> None:  # type: ignore[override]
        check_patterns(config.id, {"url_pattern": config.url_pattern})

    def configured_urls(self) -> list[str]:
        return [str(self.config.url)]

    async def start(self) -> AsyncIterator[Any]:
        for request in self._sitemap_request(str(self.config.url)):
            yield request

    def _sitemap_request(self, url: str) -> Iterator[scrapy.Request]:
        if self.sitemaps_read >= self.config.max_sitemaps:
            self.fail(ParseError(url, reason=f"more than max_sitemaps={self.config.max_sitemaps} sitemaps listed"))
        self.sitemaps_read += 1
        yield from self.page_request(url, self.parse_sitemap, listing=True)

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        limit = self.crawler.settings.getint("DOWNLOAD_MAXSIZE")
        try:
            listing = read_sitemap(response.body, url=response.url, max_bytes=limit)
        except (ParseError, ResponseTooLargeError) as exc:
            self.fail(exc)
            return
        self.count("sitemaps")
        for entry in listing.entries:
            url = urljoin(response.url, entry.loc)
            if listing.kind == "sitemapindex":
                yield from self._sitemap_request(url)
            elif self._wanted(entry, url=url):
                yield from self.page_request(url, self.parse_page, listing=False, meta={"edufed_source_id": url})

    def _wanted(self, entry: SitemapEntry, *, url: str) -> bool:
        self.count("pages_listed")
        if self.pattern is not None and not self.pattern.search(url):
            self.count("pages_not_matching")
            return False
        lastmod = parse_datetime(entry.lastmod) if entry.lastmod else None
        if entry.lastmod and lastmod is None:
            self.warn(f"{url}: unreadable lastmod {entry.lastmod!r}; fetched anyway", counted_as="bad_lastmod")
        if lastmod is not None and (self.newest_lastmod is None or lastmod > self.newest_lastmod):
            self.newest_lastmod = lastmod
        if self.since is not None and lastmod is not None and lastmod <= self.since:
            self.count("pages_unchanged")
            return False
        return True

    def parse_page(self, response: Response) -> Iterator[dict[str, Any]]:
        if not isinstance(response, TextResponse):
            self.warn(f"{response.url}: not an HTML page; skipped", counted_as="pages_without_markup")
            return
        page = extract(response.text, url=response.url, types=self.config.schema_types)
        for warning in page.warnings:
            self.warn(warning, counted_as="malformed_markup")
        if not page.items:
            wanted = "/".join(self.config.schema_types)
            self.warn(
                f"{response.url}: no schema.org {wanted} markup; page skipped",
                counted_as="pages_without_markup",
            )
            return
        seen: dict[str, int] = {}
        for node in page.items:
            source_id = node_id(node, page_url=response.url)
            seen[source_id] = seen.get(source_id, 0) + 1
            if seen[source_id] > 1:
                source_id = f"{source_id}#{seen[source_id]}"
            yield {
                "type": "record",
                "source_id": source_id,
                "fields": record_fields(node, page_url=response.url),
                "payload": {"syntax": page.syntax, "item": node},
                "api_url": response.url,
            }

    def cursor(self) -> dict[str, Any] | None:
        if self.newest_lastmod is None:
            return None
        return {"lastmod": self.newest_lastmod.isoformat()}
