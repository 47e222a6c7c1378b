"""The CMS spider: list pages -> detail pages (fields, labelled blocks, programme rows) -> next page."""

from __future__ import annotations

import codecs
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from parsel import Selector
from scrapy.http import Response, TextResponse

from config.sources import HtmlSourceConfig
from crawlers.errors import SourceConfigError
from crawlers.scrapy_engine.base_spider import EngineSpider, check_patterns
from crawlers.scrapy_engine.cms import (
    date_from_url,
    element_text,
    id_from_url,
    labelled_groups,
    programme_rows,
    selected,
    year_in,
)

Record = dict[str, Any]


class CmsCrawlSpider(EngineSpider):
    """Harvests a CMS section by the CSS selectors and labels in an HtmlSourceConfig."""

    config: HtmlSourceConfig

    def __init__(self, *, config: HtmlSourceConfig, **kwargs: Any) -> None:
        super().__init__(config=config, **kwargs)
        self.link_pattern = re.compile(config.link_pattern) if config.link_pattern else None
        self.codec = codecs.lookup(config.encoding).name if config.encoding else None

    @classmethod
    def check(cls, config: HtmlSourceConfig) -> None:  # type: ignore[override]
        if config.encoding:
            try:
                codecs.lookup(config.encoding)
            except LookupError as exc:
                raise SourceConfigError(config.id, reason=f"unknown encoding {config.encoding!r}") from exc
        patterns = {
            "link_pattern": config.link_pattern,
            "id_pattern": config.id_pattern,
            "date_pattern": config.date_pattern,
        }
        if config.rows is not None:
            patterns["rows.year_pattern"] = config.rows.year_pattern
        check_patterns(config.id, patterns)

    def configured_urls(self) -> list[str]:
        return [str(u) for u in [*self.config.start_urls, *self.config.detail_urls]]

    async def start(self) -> AsyncIterator[Any]:
        for url in self.config.start_urls:
            for request in self.page_request(str(url), self.parse_list, listing=True, cb_kwargs={"number": 1}):
                yield request
        for url in self.config.detail_urls:
            for request in self._detail_request(str(url), listing=True):
                yield request

    def _detail_request(self, url: str, *, listing: bool) -> Iterator[scrapy.Request]:
        source_id = id_from_url(url, self.config.id_pattern)
        yield from self.page_request(url, self.parse_detail, listing=listing, meta={"edufed_source_id": source_id})

    def _page(self, response: Response) -> Selector | None:
        if not isinstance(response, TextResponse):
            return None
        text = response.body.decode(self.codec, errors="replace") if self.codec else response.text
        return Selector(text=text, base_url=response.url)

    def parse_list(self, response: Response, number: int) -> Iterator[scrapy.Request]:
        page = self._page(response)
        if page is None:
            self.warn(f"{response.url}: list page is not HTML; skipped", counted_as="bad_list_pages")
            self.hole(response.meta)
            return
        assert self.config.item_links is not None
        links = 0
        for found in page.css(self.config.item_links):
            href = (
                found.get()
                if isinstance(found.root, str)
                else (found.attrib.get("href") or found.css("a::attr(href)").get())
            )
            url = response.urljoin(href.strip()) if href else None
            if url is None or (self.link_pattern is not None and not self.link_pattern.search(url)):
                continue
            links += 1
            yield from self._detail_request(url, listing=False)
        self.count("list_pages")
        if not links:
            self.warn(
                f"{response.url}: no detail links match item_links; has the layout changed?",
                counted_as="empty_list_pages",
            )
            self.hole(response.meta)  # an empty list page says nothing about the records it used to list
        yield from self._next_list_page(page, response=response, number=number)

    def _next_list_page(self, page: Selector, *, response: Response, number: int) -> Iterator[scrapy.Request]:
        if not self.config.next_page:
            return
        href = (
            page.css(self.config.next_page).attrib.get("href") or page.css(f"{self.config.next_page}::attr(href)").get()
        )
        if not href or response.urljoin(href) == response.url:
            return
        if number >= self.config.max_list_pages:
            self.cut = True
            self.warn(f"stopped after max_list_pages={self.config.max_list_pages} list pages; the list goes on")
            return
        yield from self.page_request(
            response.urljoin(href), self.parse_list, listing=True, cb_kwargs={"number": number + 1}
        )

    def parse_detail(self, response: Response) -> Iterator[Record]:
        source_id = str(response.meta["edufed_source_id"])
        page = self._page(response)
        if page is None:
            self.reject(f"{response.url}: detail page is not HTML", source_id=source_id)
            return
        self.count("detail_pages")
        if self.config.rows is not None:
            entries = list(self._programme_entries(page, response=response, source_id=source_id))
            if entries:
                yield from entries
                return
        yield from self._articles(page, response=response, source_id=source_id)

    def _base_fields(self, page: Selector, *, url: str) -> dict[str, Any]:
        fields: dict[str, Any] = {"url": url}
        for field, css in self.config.fields.items():
            value = selected(page, css)
            if value is not None:
                fields[field] = value
        if not fields.get("published_at"):
            dated = date_from_url(url, self.config.date_pattern)
            if dated:
                fields["published_at"] = dated
        return fields

    def _articles(self, page: Selector, *, response: Response, source_id: str) -> Iterator[Record]:
        base = self._base_fields(page, url=response.url)
        scope = page.css(self.config.label_scope)
        text = element_text(scope[0].root) if scope and not isinstance(scope[0].root, str) else ""
        groups = labelled_groups(text, self.config.labels)
        payload: dict[str, Any] = {"page_url": response.url, "selected": base}
        if not groups:
            if not base.get("title"):
                self.reject(
                    f"{response.url}: no title found (fields.title or a labelled title)",
                    source_id=source_id,
                    payload=payload,
                )
                return
            yield _record(source_id, base, payload, response.url)
            return
        self.count("labelled_blocks", len(groups))
        for number, group in enumerate(groups, start=1):
            item_id = source_id if len(groups) == 1 else f"{source_id}#{number}"
            fields = {**base, **group}
            if not fields.get("title"):
                self.reject(f"{response.url}: labelled block {number} has no title", source_id=item_id, payload=group)
                continue
            yield _record(item_id, fields, {**payload, "labels": group}, response.url)

    def _programme_entries(self, page: Selector, *, response: Response, source_id: str) -> Iterator[Record]:
        rows = self.config.rows
        assert rows is not None
        found, nameless = programme_rows(page, rows)
        for _ in range(nameless):
            self.reject(f"{response.url}: a programme row without a name", source_id=source_id)
        page_title = selected(page, "title")
        year = year_in(page_title if isinstance(page_title, str) else None, rows.year_pattern)
        published = date_from_url(response.url, self.config.date_pattern)
        for row in found:
            entry = {
                "programme": rows.programme,
                "honour": rows.honour,
                "level": rows.level,
                "year": year,
                **row.values,
            }
            entry = {k: v for k, v in entry.items() if v}
            fields: dict[str, Any] = {
                "record_type": "programme_entry",
                "title": entry["name"],
                "provider": entry.get("organisation"),
                "description": entry.get("summary"),
                "tags": [entry[k] for k in ("programme", "honour", "region") if entry.get(k)],
                "url": response.url,
                "published_at": published,
                **entry,
            }
            fields = {k: v for k, v in fields.items() if v is not None}
            yield _record(
                f"{source_id}#{row.number}",
                fields,
                {"page_url": response.url, "row": row.values},
                response.url,
            )


def _record(source_id: str, fields: dict[str, Any], payload: Any, url: str) -> Record:
    return {"type": "record", "source_id": source_id, "fields": fields, "payload": payload, "api_url": url}
