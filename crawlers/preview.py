"""A preview (dry-run) of a source config: the first few items within a time and size budget, each built record
with per-field warnings, the rejected items and the request log. Nothing is written.

The preview consumes the same item loop as a harvest run (crawlers/harvest_loop.py). What it says to a person
in their language comes from a `Wording` the caller passes; the default leaves the reasons as they are.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from config.settings import HttpSettings, OperatorSettings
from config.source_models import CrawlSourceBase, SourceConfig
from crawlers.errors import FetchError
from crawlers.fetch import MAX_REDIRECTS, Fetcher, FetchResponse
from crawlers.harvest_loop import Built, HarvestLoop, Item, Rejection
from crawlers.kinds import build_source
from crawlers.kinds.base import Source
from indexer.pipeline import RecordBuilder
from indexer.record import RawRecord, Record

MAX_REQUESTS_SHOWN = 100
MAX_SOURCE_WARNINGS = 50
MAX_ITEM_WARNINGS = 10
_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")
_TEXT_FIELDS = ("title", "subtitle", "description")
_DATE_FIELDS = ("published_at", "updated_at")


class Wording(Protocol):
    """How a preview words its warnings and rejections for the person reading it."""

    def warning(self, code: str, reason: str) -> str:
        """A field warning; `code` is `html`, `date`, `theme` or `item` (a warning the source gave the item)."""
        ...

    def rejection(self, field: str, reason: str) -> str:
        """A rejected item; `field` is the record field at fault, `duplicate`, or `item` (no field named)."""
        ...


class PlainWording:
    """Reasons as the harvester gave them."""

    def warning(self, code: str, reason: str) -> str:
        return reason

    def rejection(self, field: str, reason: str) -> str:
        return reason


@dataclass(frozen=True)
class FieldWarning:
    """Something about one field of one previewed item that the operator should look at."""

    field: str
    reason: str
    reason_zh: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason, "reason_zh": self.reason_zh}


@dataclass
class DryRunReport:
    """What a dry-run saw: records with warnings, rejected items, source warnings and the request log."""

    source_id: str
    started_at: datetime
    limits: dict[str, Any]
    status: str = "ok"
    error: dict[str, str] | None = None
    fetched: int = 0
    items: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    elapsed_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "source_id": self.source_id, "status": self.status, "error": self.error,
            "started_at": self.started_at.isoformat(), "elapsed_seconds": round(self.elapsed_seconds, 3),
            "limits": self.limits, "fetched": self.fetched, "items": self.items, "rejected": self.rejected,
            "warnings": self.warnings, "requests": self.requests,
        }  # fmt: skip


class DeadlineFetcher(Fetcher):
    """A Fetcher that sends no request once the dry-run's time is up."""

    def __init__(self, settings: HttpSettings, *, deadline: float, obey_robots: bool, delay_seconds: float) -> None:
        super().__init__(settings, obey_robots=obey_robots, delay_seconds=delay_seconds)
        self.deadline = deadline

    def request(self, method: str, url: str, **kwargs: Any) -> FetchResponse:
        if time.monotonic() >= self.deadline:
            raise FetchError(url, cause="the dry-run time limit was reached")
        return super().request(method, url, **kwargs)


def bounded_config(config: SourceConfig, limits: OperatorSettings) -> SourceConfig:
    """The config with the dry-run's bounds: at most N records, few pages, the crawl timeout of the dry-run."""
    changes: dict[str, Any] = {"max_records": limits.dry_run_records}
    if isinstance(config, CrawlSourceBase):
        changes["run_timeout_seconds"] = limits.dry_run_seconds
        changes["max_pages"] = min(config.max_pages, limits.dry_run_records * 2 + 5)
    elif hasattr(config, "max_pages"):
        changes["max_pages"] = min(config.max_pages, 5)
    return config.model_copy(update=changes)


def dry_run_http(http: HttpSettings, limits: OperatorSettings) -> HttpSettings:
    """HTTP settings of a dry-run: the smaller size cap and timeout, no retries."""
    return http.model_copy(update={
        "max_response_bytes": min(http.max_response_bytes, limits.dry_run_max_bytes),
        "timeout_seconds": min(http.timeout_seconds, limits.dry_run_seconds),
        "retries": 0,
    })  # fmt: skip


def preview(config: SourceConfig, *, http: HttpSettings, limits: OperatorSettings, builder: RecordBuilder,
            wording: Wording | None = None) -> DryRunReport:  # fmt: skip
    """Preview `config`: never raises for a broken source; the report says what went wrong."""
    bounded = bounded_config(config, limits)
    started = time.monotonic()
    report = DryRunReport(config.id, datetime.now(UTC), limits={
        "records": limits.dry_run_records, "seconds": limits.dry_run_seconds,
        "max_bytes": min(http.max_response_bytes, limits.dry_run_max_bytes), "max_redirects": MAX_REDIRECTS,
    })  # fmt: skip
    delay = bounded.delay_seconds if bounded.delay_seconds is not None else http.delay_seconds
    with DeadlineFetcher(dry_run_http(http, limits), deadline=started + limits.dry_run_seconds,
                         obey_robots=bounded.obey_robots, delay_seconds=delay) as fetcher:  # fmt: skip
        _Preview(bounded, report, builder, wording or PlainWording()).collect(build_source(bounded, fetcher))
        report.requests = [entry.to_dict() for entry in fetcher.log[:MAX_REQUESTS_SHOWN]]
    report.elapsed_seconds = time.monotonic() - started
    return report


class _Preview:
    """Puts the loop's items into a dry-run report."""

    def __init__(self, config: SourceConfig, report: DryRunReport, builder: RecordBuilder, wording: Wording) -> None:
        self.config = config
        self.report = report
        self.builder = builder
        self.wording = wording

    def collect(self, source: Source) -> None:
        loop = HarvestLoop(harvested=source, source=self.config, builder=self.builder, limit=self.config.max_records)
        try:
            for item in loop:
                self._take(item)
        except Exception as exc:  # a dry-run shows any failure of the source instead of raising
            self.report.status = "failed"
            self.report.error = {"type": type(exc).__name__, "message": str(exc) or repr(exc)}
        for item in loop.reported():
            self._take(item)
        self.report.warnings.extend(source.warnings[:MAX_SOURCE_WARNINGS])

    def _take(self, item: Item) -> None:
        self.report.fetched += 1
        if isinstance(item, Rejection):
            name = "duplicate" if item.kind == "duplicate" else item.field or "item"
            self.report.rejected.append({"source_id": item.platform_id, "field": name, "reason": item.reason,
                                         "reason_zh": self.wording.rejection(name, item.reason)})  # fmt: skip
        elif isinstance(item, Built):
            warnings = [w.to_dict() for w in field_warnings(item.raw, item.record, wording=self.wording)]
            record = item.record.model_dump(mode="json", exclude={"raw"})
            self.report.items.append({"uid": item.record.uid, "record": record, "warnings": warnings})


def field_warnings(raw: RawRecord, record: Record, *, wording: Wording | None = None) -> list[FieldWarning]:
    """What the operator should check in one item: HTML in text, unreadable dates, no theme, item warnings."""
    words = wording or PlainWording()
    found = []

    def warn(name: str, code: str, reason: str) -> None:
        found.append(FieldWarning(name, reason, words.warning(code, reason)))

    for name in _TEXT_FIELDS:
        value = raw.fields.get(name)
        if isinstance(value, str) and _TAG.search(value):
            warn(name, "html", "contains HTML markup; only the text is kept")
    for name in _DATE_FIELDS:
        value = raw.fields.get(name)
        if value not in (None, "", []) and getattr(record, name) is None:
            warn(name, "date", f"cannot read the date {str(value)[:60]!r}")
    if not record.themes:
        warn("themes", "theme", "no theme matched the categories, tags or title")
    for message in raw.warnings[:MAX_ITEM_WARNINGS]:
        warn("item", "item", message)
    return found
