"""The `json_api` kind: a paged JSON list mapped by dotted paths, with an optional detail request per item.

A listing read to its end (not cut by max_pages) is complete: scope "full", and a cursor of page validators
(and, with detail requests, what crawlers/kinds/details.py remembers per item).
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from config.source_models import DetailRequest, JsonApiSourceConfig
from crawlers.errors import FetchError, ParseError, RobotsDisallowedError
from crawlers.fetch import FetchResponse
from crawlers.kinds.base import MISSING, ItemProblem, fill_template, lookup, map_fields, register
from crawlers.kinds.cursor import IncrementalSource
from crawlers.kinds.details import CURSOR_KEY, DetailMemo, DetailMemory, item_hash, today
from indexer.record import RawRecord

logger = logging.getLogger(__name__)


@dataclass
class _Page:
    url: str
    number: int | None
    items: list[Any]
    data: Any
    validators: dict[str, str | None] = field(default_factory=dict)


@dataclass
class _Detail:
    """What a detail request added to one item (or why it could not)."""

    url: str | None = None
    data: Any = MISSING
    failure: str | None = None
    warnings: list[str] = field(default_factory=list)
    validators: dict[str, str | None] = field(default_factory=dict)
    not_modified: bool = False
    robots: bool = False  # not requested because robots.txt disallows it: the run notes it, no warning here


def _digest(found: _Detail) -> str | None:
    """A detail body's digest as the cursor keeps it: 96 bits are plenty to tell a changed document."""
    digest = found.validators.get("sha256")
    return digest[:24] if digest else None


def _validators(response: FetchResponse) -> dict[str, str | None]:
    return {"etag": response.etag, "last_modified": response.last_modified, "sha256": response.sha256}


@register("json_api")
class JsonApiSource(IncrementalSource):
    """Walks the pages of a JSON list endpoint, mapping each item by dotted paths; details per item.

    The cursor keeps each page's ETag / Last-Modified and body digest. Next run, when every page of the last
    listing can be checked (each has a validator, or the list is one document), the pages are asked again
    conditionally: all unchanged means scope "unchanged" and nothing is parsed. At the first changed page the
    run turns into a full read (the pages before it fetched again), so a listing is always whole. With detail
    requests every list page is read (a detail can change while its page stays the same), but a detail is asked
    only for a new or changed item, or in the item's refresh slot (crawlers/kinds/details.py); an unchanged
    item whose detail is skipped is reported listed and unchanged (`mark_unchanged`), never withdrawn.
    """

    config: JsonApiSourceConfig
    details: DetailMemory | None = None

    def iter_records(self) -> Iterator[RawRecord]:
        stored = self.stored_cursor()
        if self.config.detail is not None:
            refresh_days = self.config.detail.refresh_days
            self.details = DetailMemory(stored.get(CURSOR_KEY), refresh_days=refresh_days, day=today())
        known = self._checkable(stored)
        changed: _Page | None = None
        if known:
            fresh, changed = self._first_changed(known)
            if changed is None:
                self.scope = "unchanged"
                self.repeats_listing = True  # page validators are only kept after a whole listing
                self.notes.append(f"unchanged list: none of its {len(known)} pages changed; nothing parsed")
                self.finish({"pages": fresh})
                return
            self.notes.append(f"page {len(fresh) + 1} of the list changed since the last run; reading it all")
        read: list[dict[str, str | None]] = []
        complete = yield from self._read_all(read, changed)
        if self.details is not None:
            self.notes.append(self.details.note())
        if complete:
            self.scope = "full"
            cursor: dict[str, Any] = {"pages": read}
            if self.details is not None:
                cursor[CURSOR_KEY] = self.details.to_cursor()
            self.finish(cursor)

    def _checkable(self, stored: dict[str, Any]) -> list[dict[str, Any]]:
        """The stored pages' validators when they can tell an unchanged list; else [] (read in full)."""
        pages = stored.get("pages")
        if not isinstance(pages, list) or not pages or not all(isinstance(p, dict) for p in pages):
            return []
        if self.config.detail is not None:
            self.notes.append("items have detail requests, which may change on their own: every list page read")
            return []
        return pages if all(map(self._conditional, pages)) or len(pages) == 1 else []

    def _conditional(self, validators: dict[str, Any]) -> bool:
        """Whether a request with these stored validators is sent conditionally (a GET with an ETag or date)."""
        return self.config.method == "GET" and bool(validators.get("etag") or validators.get("last_modified"))

    def _first_changed(self, known: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], _Page | None]:
        """Ask each known page conditionally: (validators of the unchanged ones, the first changed page)."""
        fresh: list[dict[str, Any]] = []
        for index, stored in enumerate(known):
            number = self.config.page_start + index if self.config.page_param else None
            response = self._request(self._params(number), validators=stored)
            if response.not_modified and self._conditional(stored):
                fresh.append(stored)
            elif not response.not_modified and response.sha256 == stored.get("sha256"):
                fresh.append(_validators(response))
            else:
                return fresh, self._page(response, number)  # a 304 nobody asked for raises there
        return fresh, None

    def _read_all(self, read: list[dict[str, str | None]], changed: _Page | None) -> Generator[RawRecord, None, bool]:
        """Yield every page's records in order; return whether the list ended (not cut by max_pages)."""
        for page in self._pages(changed):
            read.append(page.validators)
            for index, item in enumerate(page.items):
                raw = self._record(item, where=f"item {index} on {page.url}", page_url=page.url)
                if raw is not None:
                    yield raw
            if page.number is None or not page.items or self._is_last(page, page.number):
                return True
        self.warnings.append(f"stopped after max_pages={self.config.max_pages} pages; the list may go on")
        return False

    def _pages(self, changed: _Page | None) -> Iterator[_Page]:
        """The list's pages in order (the already fetched changed page in its place), up to max_pages."""
        cfg = self.config
        numbers: Iterable[int | None] = (
            [None] if cfg.page_param is None else range(cfg.page_start, cfg.page_start + cfg.max_pages)
        )
        for number in numbers:
            if changed is not None and changed.number == number:
                yield changed
            else:
                yield self._page(self._request(self._params(number)), number)

    def _params(self, number: int | None) -> dict[str, Any]:
        params: dict[str, Any] = dict(self.config.params)
        if number is not None and self.config.page_param:
            params[self.config.page_param] = number
        return params

    def _page(self, response: FetchResponse, number: int | None) -> _Page:
        if response.not_modified:
            raise ParseError(response.url, reason="answered 304 Not Modified to an unconditional request")
        cfg = self.config
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
        return _Page(response.url, number, items, data, _validators(response))

    def _request(self, params: dict[str, Any], *, validators: dict[str, Any] | None = None) -> FetchResponse:
        """One list request; a GET carries the stored validators, if given (a POST is never conditional)."""
        cfg = self.config
        if cfg.method == "POST":
            return self.fetcher.request("POST", str(cfg.url), json_body=params, headers=cfg.headers)
        known = validators or {}
        return self.fetcher.get(
            str(cfg.url),
            params=params,
            headers=cfg.headers,
            etag=known.get("etag"),
            last_modified=known.get("last_modified"),
        )

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
            self._reject(f"{where}: url_template needs {exc.args[0]!r}, which the item lacks", source_id=source_id)
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
        memory = self.details
        assert memory is not None
        hashed = item_hash(item)
        memo = memory.unchanged_memo(source_id, hashed) if self.catalogued(source_id) else None
        if memo is not None and not memory.refresh_due(source_id, memo):
            self._skip(source_id, memo)
            return None
        found = self._fetch_detail(detail, item, memo)
        if memo is not None:
            memory.refreshed += 1
            if found.failure is not None:  # the record stands as it was; asked again next run
                if not found.robots:
                    self.warnings.append(f"{source_id}: detail refresh failed, record kept as it was: {found.failure}")
                self.mark_unchanged(source_id)
                return None
            if found.not_modified or _digest(found) == memo.sha256:
                self._skip(source_id, memo.refreshed(day=memory.day))
                return None
        else:
            memory.asked += 1
        if found.failure is not None:
            if detail.required:
                self._reject(f"detail request failed: {found.failure}", source_id=source_id, payload=item)
                return None
            failed = f"{source_id}: detail request failed, kept without details: {found.failure}"
            warnings = [] if found.robots else [failed]
            return RawRecord(source_id=source_id, fields=fields, payload=item, api_url=page_url, warnings=warnings)
        validators = found.validators
        memo = DetailMemo(hashed, validators["etag"], validators["last_modified"], _digest(found), memory.day)
        memory.keep(source_id, memo)
        for name, value in map_fields(found.data, detail.fields).items():
            if value is not None:
                fields[name] = value
        if detail.lessons_path:
            fields["lessons"] = self._lessons(detail, found)
        payload = {"item": item, "detail": found.data}
        return RawRecord(
            source_id=source_id, fields=fields, payload=payload, api_url=found.url, warnings=found.warnings
        )

    def _skip(self, source_id: str, memo: DetailMemo) -> None:
        """An unchanged item whose record stands: listed, not rebuilt."""
        assert self.details is not None
        self.details.skipped += 1
        self.details.keep(source_id, memo)
        self.mark_unchanged(source_id)

    def _fetch_detail(self, detail: DetailRequest, item: dict[str, Any], memo: DetailMemo | None) -> _Detail:
        """The item's detail; with a memo, asked conditionally (a 304 comes back as `not_modified`)."""
        try:
            url = fill_template(detail.url_template, item)
        except KeyError as exc:
            return _Detail(failure=f"detail url_template needs {exc.args[0]!r}, which the item lacks")
        try:
            response = self.fetcher.get(
                url,
                headers=self.config.headers,
                etag=memo.etag if memo else None,
                last_modified=memo.last_modified if memo else None,
            )
            if response.not_modified and memo is not None and (memo.etag or memo.last_modified):
                return _Detail(url=url, not_modified=True)
            data = response.json() if not response.not_modified else self._unasked_304(response)
        except RobotsDisallowedError as exc:
            return _Detail(url=url, failure=str(exc), robots=True)
        except (FetchError, ParseError) as exc:
            return _Detail(url=url, failure=str(exc))
        return _Detail(url=url, data=data, validators=_validators(response))

    @staticmethod
    def _unasked_304(response: FetchResponse) -> Any:
        raise ParseError(response.url, reason="answered 304 Not Modified to an unconditional request")

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
