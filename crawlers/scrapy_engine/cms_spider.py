"""The CMS spider: list pages -> detail pages (fields, labelled blocks, programme rows) -> next page."""

from __future__ import annotations

import codecs
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from parsel import Selector
from scrapy.http import Response, TextResponse

from config.source_models import HtmlSourceConfig
from crawlers.errors import ParseError, SourceConfigError
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
from crawlers.scrapy_engine.cms_memory import CmsMemory, ListedPage, entry_digest
from crawlers.scrapy_engine.conditional import NOT_MODIFIED, conditional_headers, conditional_meta, validators
from crawlers.scrapy_engine.signals import send_event

Record = dict[str, Any]


class CmsCrawlSpider(EngineSpider):
    """Harvests a CMS section by the CSS selectors and labels in an HtmlSourceConfig."""

    config: HtmlSourceConfig

    def __init__(self, *, config: HtmlSourceConfig, **kwargs: Any) -> None:
        super().__init__(config=config, **kwargs)
        self.link_pattern = re.compile(config.link_pattern) if config.link_pattern else None
        self.codec = codecs.lookup(config.encoding).name if config.encoding else None
        self.memory = CmsMemory(self.stored, self.plan)
        self.empty_lists: dict[str, Any] = {}

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
            for request in self._list_request(str(url), number=1):
                yield request
        for url in self.config.detail_urls:
            for request in self._detail_request(str(url), listing=True):
                yield request

    def _list_request(self, url: str, *, number: int) -> Iterator[scrapy.Request]:
        headers = conditional_headers(self.memory.lists.get(url))
        yield from self.page_request(
            url, self.parse_list, listing=True, cb_kwargs={"number": number}, headers=headers,
            meta=conditional_meta(headers),
        )  # fmt: skip

    def _listed_detail(self, url: str, entry: str | None) -> Iterator[scrapy.Request]:
        """A detail link on a list page: it stands unfetched if its entry is unchanged and not due; else asked."""
        if url not in self.requested:
            ids = self.memory.page_stands(url, entry)
            if ids is not None:
                self.requested.add(url)
                self.count("detail_pages_standing")
                send_event(self.crawler, {"type": "listed", "url": url, "source_ids": ids})
                return
        yield from self._detail_request(url, listing=False, entry=self.memory.entry_of(url) if entry is None else entry)

    def _detail_request(self, url: str, *, listing: bool, entry: str | None = None) -> Iterator[scrapy.Request]:
        source_id = id_from_url(url, self.config.id_pattern)
        headers = conditional_headers(self.memory.pages.get(url))
        meta = {"edufed_source_id": source_id, "edufed_entry": entry, **conditional_meta(headers)}
        yield from self.page_request(url, self.parse_detail, listing=listing, meta=meta, headers=headers)

    def _text(self, response: Response) -> str | None:
        if not isinstance(response, TextResponse):
            return None
        return response.body.decode(self.codec, errors="replace") if self.codec else response.text

    def _page(self, response: Response) -> Selector | None:
        text = self._text(response)
        return None if text is None else Selector(text=text, base_url=response.url)

    def parse_list(self, response: Response, number: int) -> Iterator[scrapy.Request]:
        url = str(response.meta.get("edufed_url") or response.url)
        if response.status == NOT_MODIFIED:
            seen = self.memory.list_unchanged(url)
            if seen is None:
                self.fail(ParseError(url, reason="list page answered 304 Not Modified to an unconditional request"))
                return
            self.count("list_pages_not_modified")
        else:
            text = self._text(response)
            if text is None:
                self.warn(f"{response.url}: list page is not HTML; skipped", counted_as="bad_list_pages")
                self.hole(response.meta)
                return
            if not self.memory.list_whole(text):
                self.fail(ParseError(url, reason="the list page ends before </html>, unlike this site's other list "
                                                 "pages: a truncated download; the listing is incomplete"))  # fmt: skip
                return
            page = Selector(text=text, base_url=response.url)
            links = self._links(page, response=response)
            seen = ListedPage([u for u, _ in links], self._next_url(page, response=response), [e for _, e in links])
            self.memory.list_read(url, seen, validators(response))
        self.count("list_pages")
        self.count("detail_links", len(seen.links))
        for link, entry in seen.listed():
            yield from self._listed_detail(link, entry)
        if not seen.links:
            self.warn(
                f"{url}: no detail links match item_links; has the layout changed?", counted_as="empty_list_pages"
            )
            self.empty_lists[url] = response.meta  # a hole, unless the whole walk named nothing (see closed)
        yield from self._next_list_page(seen.next_url, number=number)

    def _links(self, page: Selector, *, response: Response) -> list[tuple[str, str]]:
        """The detail links of a list page, each with the digest of its entry (the link and what it says)."""
        assert self.config.item_links is not None
        links: list[tuple[str, str]] = []
        for found in page.css(self.config.item_links):
            if isinstance(found.root, str):
                href, text = found.get(), ""
            else:
                href = found.attrib.get("href") or found.css("a::attr(href)").get()
                text = " ".join(found.css("::text").getall())
            url = response.urljoin(href.strip()) if href else None
            if url is not None and (self.link_pattern is None or self.link_pattern.search(url)):
                links.append((url, entry_digest(url, text)))
        return links

    def _next_url(self, page: Selector, *, response: Response) -> str | None:
        if not self.config.next_page:
            return None
        href = (
            page.css(self.config.next_page).attrib.get("href") or page.css(f"{self.config.next_page}::attr(href)").get()
        )
        if not href or response.urljoin(href) == response.url:
            return None
        return response.urljoin(href)

    def _next_list_page(self, url: str | None, *, number: int) -> Iterator[scrapy.Request]:
        if url is None:
            return
        if number >= self.config.max_list_pages:
            self.cut = True
            self.warn(f"stopped after max_list_pages={self.config.max_list_pages} list pages; the list goes on")
            return
        yield from self._list_request(url, number=number + 1)

    def closed(self, reason: str) -> None:
        """Empty list pages are holes in a walk that found links elsewhere; a walk that found none named nothing.

        A section whose every list page lists nothing is a complete listing of nothing: the run's guard then
        holds the withdrawals for an admin, where a hole would only make the run partial, run after run.
        """
        if self.counts.get("detail_links") or self.config.detail_urls:
            for meta in self.empty_lists.values():
                self.hole(meta)

    def parse_detail(self, response: Response) -> Iterator[Record]:
        url = str(response.meta.get("edufed_url") or response.url)
        source_id = str(response.meta["edufed_source_id"])
        entry = response.meta.get("edufed_entry")
        if response.status == NOT_MODIFIED:
            ids = self.memory.page_unchanged(url, entry=entry)
            if ids is None:
                self.reject(f"{url}: answered 304 Not Modified to an unconditional request", source_id=source_id)
                self.hole(response.meta)
                return
            self.count("detail_pages_not_modified")
            send_event(self.crawler, {"type": "listed", "url": url, "source_ids": ids})
            return
        page = self._page(response)
        if page is None:
            self.reject(f"{response.url}: detail page is not HTML", source_id=source_id)
            return
        self.count("detail_pages")
        rejected = self.counts.get("rejected", 0)
        records = list(self._detail_records(page, response=response, source_id=source_id))
        if self.counts.get("rejected", 0) == rejected and records:  # a page with problems is asked in full again
            self.memory.page_read(url, [str(r["source_id"]) for r in records], validators(response), entry=entry)
        yield from records

    def _detail_records(self, page: Selector, *, response: Response, source_id: str) -> Iterator[Record]:
        if self.config.rows is not None:
            entries = list(self._programme_entries(page, response=response, source_id=source_id))
            if entries:
                yield from entries
                return
        yield from self._articles(page, response=response, source_id=source_id)

    def cursor(self) -> dict[str, Any] | None:
        return None if self.cut else self.memory.cursor()

    def notes(self) -> list[str]:
        found = super().notes()
        unchanged = self.counts.get("detail_pages_not_modified", 0) + self.counts.get("list_pages_not_modified", 0)
        if unchanged:
            found.append(
                f"{self.counts.get('list_pages_not_modified', 0)} list pages and "
                f"{self.counts.get('detail_pages_not_modified', 0)} detail pages answered 304 Not Modified: "
                "their links and records stand as the last crawl read them"
            )
        if standing := self.counts.get("detail_pages_standing", 0):
            found.append(
                f"{standing} detail pages not asked: their list entries are unchanged and they are not in their "
                f"refresh slot (every {self.config.detail.refresh_days} days); their records stand"
            )
        return found

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
