"""A dry-run of a source config: fetch the first few items within a time and size budget, map and classify
them, and show each normalized record with per-field warnings, plus the request log. Nothing is written.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from config.settings import HttpSettings, OperatorSettings
from config.sources import CrawlSourceBase, SourceConfig
from crawlers.errors import FetchError
from crawlers.fetch import MAX_REDIRECTS, Fetcher, FetchResponse
from crawlers.sources import build_source
from crawlers.sources.base import Source
from indexer.errors import RecordInvalidError
from indexer.pipeline import RecordBuilder
from indexer.record import RawRecord, Record
from search_api.labels import rejection_reason_zh

MAX_REQUESTS_SHOWN = 100
_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")
_TEXT_FIELDS = ("title", "subtitle", "description")
_DATE_FIELDS = ("published_at", "updated_at")

_ZH = {
    "html": "含有 HTML 标记，已去掉标记只保留文字",
    "date": "日期看不懂，这一项会留空",
    "theme": "没有归入任何一个主题，请补充分类或标签",
    "duplicate": "编号和前面的条目重复，只保留第一条",
    "title": "没有标题，这一条不会收录",
    "item": "平台数据有问题",
}


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


def dry_run(config: SourceConfig, *, http: HttpSettings, limits: OperatorSettings,
            builder: RecordBuilder) -> DryRunReport:  # fmt: skip
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
        _Preview(bounded, report, builder).collect(build_source(bounded, fetcher))
        report.requests = [entry.to_dict() for entry in fetcher.log[:MAX_REQUESTS_SHOWN]]
    report.elapsed_seconds = time.monotonic() - started
    return report


class _Preview:
    """Turns raw items into previewed records, one at a time."""

    def __init__(self, config: SourceConfig, report: DryRunReport, builder: RecordBuilder) -> None:
        self.config = config
        self.report = report
        self.builder = builder
        self.seen: set[str] = set()
        self.problems_taken = 0

    def collect(self, source: Source) -> None:
        records = source.iter_records()
        try:
            for raw in records:
                self._take_problems(source)
                self._take(raw)
                if self.report.fetched >= self.config.max_records:  # type: ignore[operator]
                    break
        except Exception as exc:  # a dry-run shows any failure of the source instead of raising
            self.report.status = "failed"
            self.report.error = {"type": type(exc).__name__, "message": str(exc) or repr(exc)}
        finally:
            close = getattr(records, "close", None)
            if callable(close):
                close()
        self._take_problems(source)
        self.report.warnings.extend(source.warnings[:50])

    def _take_problems(self, source: Source) -> None:
        for problem in source.problems[self.problems_taken :]:
            self._reject(problem.source_id, "item", problem.reason)
        self.problems_taken = len(source.problems)

    def _reject(self, item_id: str | None, field_name: str, reason: str) -> None:
        self.report.fetched += 1
        zh = _ZH[field_name] if field_name in _ZH and field_name != "item" else rejection_reason_zh(reason)
        self.report.rejected.append({"source_id": item_id, "field": field_name, "reason": reason, "reason_zh": zh})

    def _take(self, raw: RawRecord) -> None:
        try:
            record = self.builder.build(raw, self.config, fetched_at=datetime.now(UTC))
        except RecordInvalidError as exc:
            self._reject(raw.source_id, exc.field or "item", f"{exc.field or 'item'}: {exc.reason}")
            return
        if record.uid in self.seen:
            self._reject(raw.source_id, "duplicate", f"duplicate id {raw.source_id!r} in this dry-run")
            return
        self.seen.add(record.uid)
        self.report.fetched += 1
        warnings = [w.to_dict() for w in field_warnings(raw, record)]
        self.report.items.append({"uid": record.uid, "record": record.model_dump(mode="json", exclude={"raw"}),
                                  "warnings": warnings})  # fmt: skip


def field_warnings(raw: RawRecord, record: Record) -> list[FieldWarning]:
    """What the operator should check in one item: HTML in text, unreadable dates, no theme, item warnings."""
    found = []
    for name in _TEXT_FIELDS:
        value = raw.fields.get(name)
        if isinstance(value, str) and _TAG.search(value):
            found.append(FieldWarning(name, "contains HTML markup; only the text is kept", _ZH["html"]))
    for name in _DATE_FIELDS:
        value = raw.fields.get(name)
        if value not in (None, "", []) and getattr(record, name) is None:
            found.append(FieldWarning(name, f"cannot read the date {str(value)[:60]!r}", _ZH["date"]))
    if not record.themes:
        found.append(FieldWarning("themes", "no theme matched the categories, tags or title", _ZH["theme"]))
    for message in raw.warnings[:10]:
        found.append(FieldWarning("item", message, _ZH["item"]))
    return found


# The display side: what the operator pages show of a report (the API gives the report itself).

RECORD_FIELD_LABELS = {"title": "标题", "subtitle": "副标题", "description": "简介", "published_at": "发布时间",
                       "updated_at": "更新时间", "themes": "主题", "item": "条目", "url": "网址",
                       "source_id": "编号", "duplicate": "编号"}  # fmt: skip
_BEIJING = timezone(timedelta(hours=8))


def summarize(report: dict[str, Any]) -> dict[str, Any]:
    """Counts, and each distinct warning and rejection once with how many rows have it (most first); a warning
    every kept row has is `common`: the page says it once instead of on every row."""
    items, rejected = report.get("items", []), report.get("rejected", [])
    rows_with: Counter[tuple[str, str]] = Counter()
    for item in items:
        rows_with.update({(w["field"], w["reason_zh"]) for w in item["warnings"]})
    reasons = Counter(r["reason_zh"] for r in rejected)
    return {
        "fetched": report.get("fetched", 0), "kept": len(items), "rejected": len(rejected),
        "clean": sum(1 for item in items if not item["warnings"]),
        "warnings": [{"field": f, "label": RECORD_FIELD_LABELS.get(f, f), "reason_zh": zh, "rows": n,
                      "common": len(items) > 1 and n == len(items)} for (f, zh), n in rows_with.most_common()],
        "rejections": [{"reason_zh": zh, "rows": n} for zh, n in reasons.most_common()],
    }  # fmt: skip


def display_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The kept records as the preview table shows them: dates as days in Beijing time, field names in Chinese,
    and only the warnings not every row shares (those are said once in the summary)."""
    common = {(w["field"], w["reason_zh"]) for w in summarize(report)["warnings"] if w["common"]}
    rows = []
    for item in report.get("items", []):
        record = item["record"]
        rows.append({
            "source_id": record.get("source_id"), "title": record.get("title"), "url": record.get("url"),
            "description": record.get("description"), "themes": record.get("themes") or [],
            "published": display_day(record.get("published_at")),
            "warnings": [{**w, "label": RECORD_FIELD_LABELS.get(w["field"], w["field"])} for w in item["warnings"]
                         if (w["field"], w["reason_zh"]) not in common],
        })  # fmt: skip
    return rows


def display_day(value: str | None) -> str:
    """`2024-03-01T00:00:00+00:00` -> `2024年3月1日` (Beijing time); a dash when there is none."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(_BEIJING)
    return f"{moment.year}年{moment.month}月{moment.day}日"
