"""Dry-runs for operators: the preview of a source config (crawlers/preview.py) worded in plain Chinese, and what
the operator pages show of its report.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

from config.settings import HttpSettings, OperatorSettings
from config.source_models import SourceConfig
from crawlers import DryRunReport, FieldWarning, preview_source
from indexer.pipeline import RecordBuilder
from search_api.pages.labels import rejection_reason_zh

__all__ = ["DryRunReport", "FieldWarning", "ZhWording", "display_day", "display_rows", "dry_run", "summarize"]

_ZH = {
    "html": "含有 HTML 标记，已去掉标记只保留文字",
    "date": "日期看不懂，这一项会留空",
    "theme": "没有归入任何一个主题，请补充分类或标签",
    "duplicate": "编号和前面的条目重复，只保留第一条",
    "title": "没有标题，这一条不会收录",
    "item": "平台数据有问题",
}


class ZhWording:
    """A preview's warnings and rejections in plain Chinese."""

    def warning(self, code: str, reason: str) -> str:
        return _ZH.get(code, _ZH["item"])

    def rejection(self, field: str, reason: str) -> str:
        return _ZH[field] if field in _ZH and field != "item" else rejection_reason_zh(reason)


def dry_run(config: SourceConfig, *, http: HttpSettings, limits: OperatorSettings,
            builder: RecordBuilder) -> DryRunReport:  # fmt: skip
    """Preview `config`, worded for an operator: never raises for a broken source; the report says what went
    wrong."""
    return preview_source(config, http=http, limits=limits, builder=builder, wording=ZhWording())


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
