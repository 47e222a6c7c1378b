"""The Source face of the crawl engine: start a child crawl, turn its event stream into RawRecords."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import closing
from typing import Any

from config.source_models import CrawlSourceBase
from crawlers.fetch import Fetcher, RequestLogEntry
from crawlers.kinds.base import ItemProblem
from crawlers.kinds.cursor import FINGERPRINT_KEY, IncrementalSource
from crawlers.scrapy_engine.events import Event, error_from_event
from crawlers.scrapy_engine.process import ENGINE_COMMAND, CrawlJob, EngineProcess
from indexer.record import RawRecord

logger = logging.getLogger(__name__)


def _log_entry(event: Event) -> RequestLogEntry:
    """A request-log entry from a `request` event, as if the parent's Fetcher had made the request."""
    status = event.get("status")
    return RequestLogEntry(
        method=str(event.get("method") or "GET"),
        url=str(event.get("url") or ""),
        status=int(status) if isinstance(status, int) else None,
        bytes=int(event.get("bytes") or 0),
        elapsed_seconds=float(event.get("elapsed_seconds") or 0.0),
        robots=str(event.get("robots") or "not checked"),
        sent=bool(event.get("sent", True)),
        error=str(event["error"]) if event.get("error") else None,
    )


def crawl_job(
    config: CrawlSourceBase,
    fetcher: Fetcher,
    *,
    cursor: dict[str, Any] | None = None,
    plan: dict[str, Any] | None = None,
) -> CrawlJob:
    """The job for a source: its config, the fetcher's HTTP settings, robots choice, per-host delay, cursor, plan."""
    return CrawlJob(
        source=config.model_dump(mode="json"),
        http=fetcher.settings.model_dump(mode="json"),
        obey_robots=fetcher.robots is not None,
        delay_seconds=fetcher.delay_seconds,
        cursor=dict(cursor or {}),
        plan=dict(plan or {}),
    )


class EngineSource(IncrementalSource):
    """A Source crawled by Scrapy in a child process; records arrive while the crawl goes on.

    The child's requests join `fetcher.log`, so the run report counts them like any other source's. The
    stored cursor goes to the child with the job; the child's `done` line brings back the new cursor, the
    scope and notes. After a complete crawl `stats` holds Scrapy's and the spider's counters; a failed or cut
    crawl leaves `cursor_out` None.

    A page the child did not fetch again because it is unchanged (`listed`) names record ids: those the
    catalogue holds live are marked unchanged (listed, never withdrawn); for any other the page is dropped from
    the cursor's `pages`, so the next crawl fetches it in full and the record comes back.
    """

    config: CrawlSourceBase
    engine_command: Sequence[str] = ENGINE_COMMAND

    def __init__(self, config: CrawlSourceBase, fetcher: Fetcher) -> None:
        super().__init__(config, fetcher)
        self.stats: dict[str, Any] = {}
        self.engine: EngineProcess | None = None
        self.refetch: set[str] = set()

    def iter_records(self) -> Iterator[RawRecord]:
        stored = {k: v for k, v in self.stored_cursor().items() if k != FINGERPRINT_KEY}
        stored, plan = self.plan_crawl(stored)
        self.engine = EngineProcess(
            crawl_job(self.config, self.fetcher, cursor=stored, plan=plan),
            timeout_seconds=self.config.run_timeout_seconds,
            command=self.engine_command,
        )
        failure: Event | None = None
        done: Event = {}
        with closing(self.engine.events()) as events:
            for event in events:
                kind = event["type"]
                if kind == "record":
                    yield self._raw(event)
                elif kind == "error":
                    failure = event
                elif kind == "done":
                    done = event
                    self.stats = dict(event.get("stats") or {})
                else:
                    self._note(kind, event)
        if failure is not None:
            raise error_from_event(failure)
        self._finish_crawl(done)

    def plan_crawl(self, stored: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The cursor the child gets and its plan: decisions only the parent can make (the catalogue, the date)."""
        return stored, {}

    def _finish_crawl(self, done: Event) -> None:
        """Take the scope, notes and cursor of the child's `done` line."""
        self.notes.extend(str(note) for note in done.get("notes") or [])
        scope = done.get("scope")
        if scope in ("full", "incremental", "unchanged"):
            self.scope = scope
        cursor = done.get("cursor")
        if isinstance(cursor, dict):
            if self.refetch:
                cursor = self.forget_pages(cursor, self.refetch)
                count = len(self.refetch)
                self.notes.append(
                    f"{count} unchanged page{'' if count == 1 else 's'} gave records the catalogue does not hold; "
                    "fetched in full next run"
                )
            self.finish(cursor)

    def forget_pages(self, cursor: dict[str, Any], urls: set[str]) -> dict[str, Any]:
        """The cursor without what it remembers of these pages, so the next crawl fetches them in full."""
        pages = cursor.get("pages")
        if not isinstance(pages, dict):
            return cursor
        return {**cursor, "pages": {url: entry for url, entry in pages.items() if url not in urls}}

    def _raw(self, event: Event) -> RawRecord:
        return RawRecord(
            source_id=str(event["source_id"]),
            fields=dict(event.get("fields") or {}),
            payload=event.get("payload"),
            api_url=event.get("api_url"),
            warnings=list(event.get("warnings") or []),
        )

    def _note(self, kind: str, event: Event) -> None:
        if kind == "warning":
            self.warnings.append(str(event.get("message")))
        elif kind == "problem":
            self.problems.append(ItemProblem(str(event.get("reason")), event.get("source_id"), event.get("payload")))
        elif kind == "listed":
            self._listed(event)
        elif kind == "request":
            self.fetcher.log.append(_log_entry(event))

    def _listed(self, event: Event) -> None:
        for source_id in (str(i) for i in event.get("source_ids") or []):
            if self.catalogued(source_id):
                self.mark_unchanged(source_id)
            else:
                self.refetch.add(str(event.get("url")))
