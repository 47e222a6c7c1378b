"""The `json_api` kind: a paged JSON list mapped by dotted paths, with an optional detail request per item."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from config.sources import DetailRequest, JsonApiSourceConfig
from crawlers.errors import FetchError, ParseError
from crawlers.fetch import FetchResponse
from crawlers.sources.base import MISSING, ItemProblem, Source, fill_template, lookup, map_fields, register
from indexer.record import RawRecord

logger = logging.getLogger(__name__)


@dataclass
class _Page:
    url: str
    number: int | None
    items: list[Any]
    data: Any


@dataclass
class _Detail:
    """What a detail request added to one item (or why it could not)."""

    url: str | None = None
    data: Any = MISSING
    failure: str | None = None
    warnings: list[str] = field(default_factory=list)


@register("json_api")
class JsonApiSource(Source):
    """Walks the pages of a JSON list endpoint, mapping each item by dotted paths; details per item."""

    config: JsonApiSourceConfig

    def iter_records(self) -> Iterator[RawRecord]:
        for page in self._pages():
            for index, item in enumerate(page.items):
                raw = self._record(item, where=f"item {index} on {page.url}", page_url=page.url)
                if raw is not None:
                    yield raw

    def _pages(self) -> Iterator[_Page]:
        cfg = self.config
        if cfg.page_param is None:
            yield self._fetch_page(None)
            return
        last = cfg.page_start + cfg.max_pages - 1
        for number in range(cfg.page_start, last + 1):
            page = self._fetch_page(number)
            yield page
            if not page.items or self._is_last(page, number):
                return
        self.warnings.append(f"stopped after max_pages={cfg.max_pages} pages; the list may go on")

    def _fetch_page(self, number: int | None) -> _Page:
        cfg = self.config
        params: dict[str, Any] = dict(cfg.params)
        if number is not None and cfg.page_param:
            params[cfg.page_param] = number
        response = self._request(params)
        data = response.json()
        items = lookup(data, cfg.items_path)
        if items is MISSING:
            raise ParseError(response.url, reason=f"no item list at {cfg.items_path!r}")
        if items is None:
            items = []
        if not isinstance(items, list):
            raise ParseError(
                response.url, reason=f"{cfg.items_path!r} holds {type(items).__name__}, not a list of items"
            )
        logger.debug("%s: page %s has %d items", cfg.id, number, len(items))
        return _Page(response.url, number, items, data)

    def _request(self, params: dict[str, Any]) -> FetchResponse:
        cfg = self.config
        if cfg.method == "POST":
            return self.fetcher.request("POST", str(cfg.url), json_body=params, headers=cfg.headers)
        return self.fetcher.get(str(cfg.url), params=params, headers=cfg.headers)

    def _is_last(self, page: _Page, number: int) -> bool:
        path = self.config.page_count_path
        if path is None:
            return False
        count = lookup(page.data, path)
        if isinstance(count, str) and count.strip().isdigit():
            count = int(count)
        if not isinstance(count, int) or isinstance(count, bool):
            self.warnings.append(f"no page count at {path!r} on {page.url}; paging on until an empty page")
            return False
        return number >= self.config.page_start + count - 1

    def _reject(self, reason: str, *, source_id: str | None = None, payload: Any = None) -> None:
        logger.info("%s: %s", self.config.id, reason)
        self.problems.append(ItemProblem(reason, source_id, payload))

    def _record(self, item: Any, *, where: str, page_url: str) -> RawRecord | None:
        cfg = self.config
        if not isinstance(item, dict):
            self._reject(f"{where}: not an object but {type(item).__name__}", payload=item)
            return None
        found_id = lookup(item, cfg.id_field)
        if found_id is MISSING or found_id is None or found_id == "" or isinstance(found_id, dict | list):
            self._reject(f"{where}: no id at {cfg.id_field!r}", payload=item)
            return None
        source_id = str(found_id)
        fields = map_fields(item, cfg.fields)
        try:
            fields["url"] = fill_template(cfg.url_template, item)
        except KeyError as exc:
            self._reject(
                f"{where}: url_template needs {exc.args[0]!r}, which the item lacks", source_id=source_id
            )
            return None
        if cfg.detail is None:
            return RawRecord(source_id=source_id, fields=fields, payload=item, api_url=page_url)
        return self._with_detail(cfg.detail, item=item, source_id=source_id, fields=fields, page_url=page_url)

    def _with_detail(
        self,
        detail: DetailRequest,
        *,
        item: dict[str, Any],
        source_id: str,
        fields: dict[str, Any],
        page_url: str,
    ) -> RawRecord | None:
        found = self._fetch_detail(detail, item)
        if found.failure is not None:
            if detail.required:
                self._reject(f"detail request failed: {found.failure}", source_id=source_id, payload=item)
                return None
            warning = f"{source_id}: detail request failed, kept without details: {found.failure}"
            return RawRecord(
                source_id=source_id, fields=fields, payload=item, api_url=page_url, warnings=[warning]
            )
        for name, value in map_fields(found.data, detail.fields).items():
            if value is not None:
                fields[name] = value
        if detail.lessons_path:
            fields["lessons"] = self._lessons(detail, found)
        payload = {"item": item, "detail": found.data}
        return RawRecord(
            source_id=source_id, fields=fields, payload=payload, api_url=found.url, warnings=found.warnings
        )

    def _fetch_detail(self, detail: DetailRequest, item: dict[str, Any]) -> _Detail:
        try:
            url = fill_template(detail.url_template, item)
        except KeyError as exc:
            return _Detail(failure=f"detail url_template needs {exc.args[0]!r}, which the item lacks")
        try:
            data = self.fetcher.get(url, headers=self.config.headers).json()
        except (FetchError, ParseError) as exc:
            return _Detail(url=url, failure=str(exc))
        return _Detail(url=url, data=data)

    def _lessons(self, detail: DetailRequest, found: _Detail) -> list[dict[str, Any]]:
        assert detail.lessons_path is not None
        listed = lookup(found.data, detail.lessons_path)
        if not isinstance(listed, list):
            found.warnings.append(f"no lesson list at {detail.lessons_path!r} in {found.url}")
            return []
        lessons: list[dict[str, Any]] = []
        for index, lesson in enumerate(listed):
            if not isinstance(lesson, dict):
                found.warnings.append(f"lesson {index} in {found.url} is not an object; skipped")
                continue
            lessons.append(map_fields(lesson, detail.lesson_fields))
        return lessons
