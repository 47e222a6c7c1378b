"""Atom 1.0 and RSS 2.0 documents of a list of records, newest first, written with feedgen."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from feedgen.feed import FeedGenerator

from indexer.record import Record
from search_api.pages.views import record_url

FeedKind = Literal["atom", "rss"]
MEDIA_TYPES: dict[FeedKind, str] = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
}
SUMMARY_CHARS = 300
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class FeedInfo:
    """What a feed is about: its title and subtitle, its own URL and the page a reader opens for it."""

    title: str
    subtitle: str
    self_url: str
    page_url: str


def entry_time(record: Record) -> datetime:
    """When a record last changed as far as a reader can tell: its platform's update, publication or fetch."""
    moment = record.updated_at or record.published_at or record.fetched_at
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def newest_first(records: Sequence[Record]) -> list[Record]:
    """The records by entry time, newest first (the uid breaks ties, so the order is stable)."""
    return sorted(records, key=lambda r: (entry_time(r), r.uid), reverse=True)


def feed_updated(records: Sequence[Record]) -> datetime:
    """The feed's own time: its newest entry's (a fixed time when empty, so an unchanged feed keeps its ETag)."""
    return max((entry_time(r) for r in records), default=_EPOCH)


def render_feed(records: Sequence[Record], *, info: FeedInfo, base: str, kind: FeedKind) -> bytes:
    """The feed document of `records` in the order given; links point at edufed's record pages under `base`."""
    generator = FeedGenerator()
    generator.id(info.self_url)
    generator.title(info.title)
    generator.subtitle(info.subtitle)
    generator.link(href=info.self_url, rel="self")
    generator.link(href=info.page_url, rel="alternate")
    generator.author({"name": "edufed"})
    generator.language("zh-CN")
    generator.generator("edufed")
    updated = feed_updated(records)
    generator.updated(updated)
    generator.lastBuildDate(updated)  # feedgen's default is the current time: the ETag would change every call
    for record in records:
        _add_entry(generator, record, base=base)
    text: bytes = generator.atom_str(pretty=True) if kind == "atom" else generator.rss_str(pretty=True)
    return text


def _add_entry(generator: FeedGenerator, record: Record, *, base: str) -> None:
    page = base + record_url(record.uid)
    entry = generator.add_entry(order="append")
    entry.id(page)
    entry.guid(page, permalink=True)
    entry.title(record.title)
    entry.link(href=page, rel="alternate")
    entry.author({"name": record.platform_name})
    entry.summary(_summary(record))
    entry.updated(entry_time(record))
    if record.published_at is not None:
        entry.published(record.published_at if record.published_at.tzinfo else record.published_at.replace(tzinfo=UTC))
    for theme in record.themes:
        entry.category(term=theme, label=theme)


def _summary(record: Record) -> str:
    """Plain text: the platform, then the description cut to SUMMARY_CHARS characters."""
    text = (record.description or record.subtitle or record.title).strip()
    if len(text) > SUMMARY_CHARS:
        text = text[:SUMMARY_CHARS].rstrip() + "…"
    return f"{record.platform_name}：{text}"
