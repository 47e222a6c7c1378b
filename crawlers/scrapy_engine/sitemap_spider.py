"""The sitemap spider: sitemap index -> sitemaps -> pages changed since the last run -> schema.org items.

Incremental runs start from the cursor of the last complete crawl: each sitemap's ETag / Last-Modified (a
sitemap answering 304 lists nothing new, so none of its pages is fetched; an index answering 304 still has
its stored sitemaps asked), the newest `lastmod` seen (only pages listed as modified after it are fetched)
and the pages that could not be harvested last time (fetched again whatever their lastmod). A sitemap that
was not there last time has all its pages fetched. `config.since` stays a floor under all of this.

Every crawl that read the whole sitemap (the index and every sitemap in it, without error) is a complete listing
of pages, whether it fetched them or not: the cursor keeps the record ids each page gave (`pages`), so a page left
unfetched because it is unchanged names its records as listed (a `listed` event) and a page gone from the sitemap
names nothing, and its records count as missing at once. When the last full crawl (`full_at` in the cursor) is
`config.full_crawl_days` old, a crawl still ignores the cursor and fetches every page, for changes no lastmod
told of.

A sitemap keeps its validators only when a 304 for it is trustworthy: every entry has a lastmod (an undated
page may change while its sitemap stays the same) and none of its pages failed.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from config.source_models import SitemapSourceConfig
from crawlers.errors import ParseError, ResponseTooLargeError
from crawlers.scrapy_engine.base_spider import GONE_STATUSES, EngineSpider, check_patterns, request_of
from crawlers.scrapy_engine.schema_org import node_id, record_fields
from crawlers.scrapy_engine.signals import send_event
from crawlers.scrapy_engine.sitemaps import SitemapEntry, SitemapListing, read_sitemap
from crawlers.scrapy_engine.structured import extract
from indexer.normalize.dates import parse_datetime

NOT_MODIFIED = 304


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


class SitemapCrawlSpider(EngineSpider):
    """Walks a sitemap (index) and turns each listed page's JSON-LD or microdata items into records."""

    config: SitemapSourceConfig

    def __init__(self, *, config: SitemapSourceConfig, **kwargs: Any) -> None:
        super().__init__(config=config, **kwargs)
        stored = self.stored
        known = stored.get("sitemaps")
        self.known: dict[str, dict[str, Any]] = known if isinstance(known, dict) else {}
        self.floor = parse_datetime(config.since) if config.since else None
        self.started = datetime.now(UTC)
        self.full_at = parse_datetime(stored.get("full_at"), now=self.started) if self.known else None
        self.full_due = bool(self.known) and self._full_crawl_due()
        remembered = stored.get("pages")
        self.remembered: dict[str, dict[str, Any]] = remembered if isinstance(remembered, dict) else {}
        # a cursor without `pages` (made before they were kept) cannot name unfetched pages' records: crawl in full
        self.incremental = bool(self.known) and not self.full_due and isinstance(remembered, dict)
        self.pages_out: dict[str, dict[str, Any]] = {}
        last = parse_datetime(stored.get("lastmod")) if self.incremental else None
        self.since = _later(self.floor, last)
        self.retry = set(stored.get("retry") or []) if self.incremental else set()
        self.newest_lastmod: datetime | None = last  # a sitemap answering 304 must not move it back
        self.seen: dict[str, dict[str, Any]] = {}
        self.sitemaps_read = 0
        self.pattern = re.compile(config.url_pattern) if config.url_pattern else None

    def _full_crawl_due(self) -> bool:
        """Whether the last full crawl is full_crawl_days old (or unknown): then this one lists every page."""
        days = self.config.full_crawl_days
        if days is None or self.floor is not None:  # with a floor no crawl is ever a complete listing
            return False
        return self.full_at is None or self.started - self.full_at >= timedelta(days=days)

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
        stored = self.known.get(url, {}) if self.incremental else {}
        headers = {}
        if stored.get("etag"):
            headers["If-None-Match"] = stored["etag"]
        if stored.get("last_modified"):
            headers["If-Modified-Since"] = stored["last_modified"]
        meta = {"handle_httpstatus_list": [NOT_MODIFIED]} if headers else {}
        yield from self.page_request(url, self.parse_sitemap, listing=True, headers=headers, meta=meta)

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        url = str(response.meta.get("edufed_url") or response.url)
        if response.status == NOT_MODIFIED:
            yield from self._not_modified(url)
            return
        limit = self.crawler.settings.getint("DOWNLOAD_MAXSIZE")
        try:
            listing = read_sitemap(response.body, url=response.url, max_bytes=limit)
        except (ParseError, ResponseTooLargeError) as exc:
            self.fail(exc)
            return
        self.count("sitemaps")
        entry: dict[str, Any] = {
            "etag": _header(response, b"ETag"),
            "last_modified": _header(response, b"Last-Modified"),
        }
        self.seen[url] = entry
        if listing.kind == "sitemapindex":
            entry["children"] = [urljoin(response.url, e.loc) for e in listing.entries]
            for child in entry["children"]:
                yield from self._sitemap_request(child)
            return
        yield from self._pages(listing, response=response, sitemap=url, entry=entry)

    def _not_modified(self, url: str) -> Iterator[scrapy.Request]:
        """A sitemap unchanged since the last run: its pages are skipped, an index's sitemaps asked again."""
        stored = self.known.get(url)
        if stored is None:
            self.fail(ParseError(url, reason="answered 304 Not Modified to an unconditional request"))
            return
        self.count("sitemaps_not_modified")
        self.seen[url] = stored
        for page, entry in self.remembered.items():
            if entry.get("sitemap") == url:
                self._carry(page, entry)
        for child in stored.get("children") or []:
            yield from self._sitemap_request(child)

    def _carry(self, page: str, entry: dict[str, Any]) -> None:
        """A page left unfetched as unchanged: the records it gave last time are listed again."""
        ids = entry.get("ids")
        if not isinstance(ids, list):
            return
        self.pages_out[page] = entry
        if ids:
            self.count("pages_carried")
            send_event(self.crawler, {"type": "listed", "url": page, "source_ids": ids})

    def _pages(
        self, listing: SitemapListing, *, response: Response, sitemap: str, entry: dict[str, Any]
    ) -> Iterator[scrapy.Request]:
        new_sitemap = self.incremental and sitemap not in self.known
        if new_sitemap:
            self.count("sitemaps_new")
        since = self.floor if new_sitemap else self.since
        dated = True
        for found in listing.entries:
            url = urljoin(response.url, found.loc)
            lastmod = parse_datetime(found.lastmod) if found.lastmod else None
            dated = dated and lastmod is not None
            if self._wanted(found, url=url, lastmod=lastmod, since=since):
                meta = {"edufed_source_id": url, "edufed_sitemap": sitemap}
                for request in self.page_request(url, self.parse_page, listing=False, meta=meta):
                    self.count("pages_requested")
                    yield request
        entry["dated"] = dated

    def _wanted(self, entry: SitemapEntry, *, url: str, lastmod: datetime | None, since: datetime | None) -> bool:
        self.count("pages_listed")
        if self.pattern is not None and not self.pattern.search(url):
            self.count("pages_not_matching")
            return False
        if entry.lastmod and lastmod is None:
            self.warn(f"{url}: unreadable lastmod {entry.lastmod!r}; fetched anyway", counted_as="bad_lastmod")
        self.newest_lastmod = _later(self.newest_lastmod, lastmod)
        if url in self.retry:
            self.count("pages_retried")
            return True
        if since is not None and lastmod is not None and lastmod <= since:
            remembered = self.remembered.get(url)
            if remembered is not None or (self.floor is not None and lastmod <= self.floor):
                self.count("pages_unchanged")
                if remembered is not None:
                    self._carry(url, remembered)
                return False
            self.count("pages_unremembered")  # unchanged, but what it gave is not known: fetched to know it
        return True

    def parse_page(self, response: Response) -> Iterator[dict[str, Any]]:
        records = list(self._page_records(response))
        listed = str(response.meta.get("edufed_url") or response.url)
        sitemap = response.meta.get("edufed_sitemap")
        self.pages_out[listed] = {"ids": [r["source_id"] for r in records], "sitemap": sitemap}
        yield from records

    def _page_records(self, response: Response) -> Iterator[dict[str, Any]]:
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

    def page_failed(self, failure: Failure) -> None:
        """A page gone (404/410) is remembered as giving nothing: not asked again until its lastmod moves."""
        super().page_failed(failure)
        request = request_of(failure)
        status = getattr(getattr(failure.value, "response", None), "status", None)
        if request is not None and status in GONE_STATUSES:
            url = str(request.meta.get("edufed_url") or request.url)
            self.pages_out[url] = {"ids": [], "sitemap": request.meta.get("edufed_sitemap")}

    def cursor(self) -> dict[str, Any] | None:
        if self.cut:
            return None
        broken = set(self.holes.values())
        sitemaps: dict[str, dict[str, Any]] = {}
        for url, entry in self.seen.items():
            trusted = entry.get("dated", True) and url not in broken
            sitemaps[url] = entry if trusted else {**entry, "etag": None, "last_modified": None}
        # a crawl that tried every page counts as the full one even with holes: their retry is incremental
        full_at = self.full_at if self.incremental else self.started
        return {
            "lastmod": self.newest_lastmod.isoformat() if self.newest_lastmod else None,
            "sitemaps": sitemaps,
            "retry": sorted(self.holes),
            "full_at": full_at.isoformat() if full_at else None,
            "pages": self.pages_out,
        }

    def scope(self) -> str:
        """ "full" for every crawl that read the whole sitemap and harvested or carried every page it lists."""
        return "incremental" if self.floor is not None or self.holes else "full"

    def notes(self) -> list[str]:
        found = super().notes()
        if self.incremental:
            found.append(
                f"incremental crawl from lastmod {self.since.isoformat() if self.since else 'none'}: "
                f"{self.counts.get('sitemaps_not_modified', 0)} sitemaps answered 304 Not Modified, "
                f"{self.counts.get('pages_unchanged', 0)} pages listed as unchanged, "
                f"{self.counts.get('pages_requested', 0)} pages fetched; pages no longer listed count as missing"
            )
        elif self.floor is not None:
            found.append(f"pages not modified after since={self.floor.isoformat()} were skipped: a partial listing")
        elif self.full_due:
            last = self.full_at.date().isoformat() if self.full_at else "never"
            found.append(
                f"full crawl (last full crawl: {last}; full_crawl_days={self.config.full_crawl_days:g}): "
                "every listed page fetched, so pages taken off the site count as missing"
            )
        return found


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
