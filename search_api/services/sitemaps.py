"""Sitemaps (sitemaps.org protocol 0.9) of every live record page: an index and its numbered children.

The record pages come from the index's change log (indexer.backends.changes), read in (datestamp, uid)
order with headers only; withdrawn entries are skipped. A child holds at most `per_child` URLs and at most
MAX_CHILD_BYTES bytes; the plan of children (where each starts, its newest datestamp) is walked once and
kept until the log holds a change newer than the plan.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from xml.sax.saxutils import escape

from indexer.backends.base import IndexBackend
from indexer.backends.changes import ChangeQuery, now_stamp, stamp_time
from search_api.pages.views import record_url

NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
MAX_URLS = 50_000
"""The protocol's limit of URLs per sitemap file."""
MAX_CHILD_BYTES = 50 * 1024 * 1024
"""The protocol's limit of an (uncompressed) sitemap file: 50 MB."""
_HEAD = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{NAMESPACE}">\n'
_TAIL = "</urlset>\n"
_PAGE = 1000


@dataclass(frozen=True)
class ChildPlan:
    """One child sitemap: the log key it starts after, how many URLs it holds, its newest datestamp."""

    after: tuple[int, str] | None
    count: int
    newest: int


@dataclass(frozen=True)
class SitemapPlan:
    """The children of the record sitemaps, as of the log time `until`."""

    until: int
    children: tuple[ChildPlan, ...]


def w3c_datetime(stamp: int) -> str:
    """A W3C datetime at seconds precision in UTC (2024-06-01T08:00:00+00:00), the form `lastmod` takes."""
    return stamp_time(stamp).isoformat(timespec="seconds")


def url_entry(base: str, uid: str, stamp: int) -> str:
    """One <url> element of a record page."""
    return f"<url><loc>{escape(base + record_url(uid))}</loc><lastmod>{w3c_datetime(stamp)}</lastmod></url>\n"


def live_entries(
    backend: IndexBackend, *, until: int, after: tuple[int, str] | None = None
) -> Iterator[tuple[int, str]]:
    """(datestamp, uid) of every live record in the log up to `until`, after the key `after`, in log order."""
    while True:
        entries = backend.changes(ChangeQuery(until=until, after=after, limit=_PAGE, records=False))
        yield from ((e.stamp, e.uid) for e in entries if not e.deleted)
        if len(entries) < _PAGE:
            return
        after = (entries[-1].stamp, entries[-1].uid)


def plan_children(backend: IndexBackend, *, base: str, per_child: int = MAX_URLS,
                  max_bytes: int = MAX_CHILD_BYTES) -> SitemapPlan:  # fmt: skip
    """Cut the live record pages into children of at most `per_child` URLs and `max_bytes` bytes each."""
    until = now_stamp()
    children: list[ChildPlan] = []
    start: tuple[int, str] | None = None
    count = newest = 0
    size = len(_HEAD) + len(_TAIL)
    last: tuple[int, str] | None = None
    for stamp, uid in live_entries(backend, until=until):
        entry = len(url_entry(base, uid, stamp).encode())
        if count and (count == per_child or size + entry > max_bytes):
            children.append(ChildPlan(start, count, newest))
            start, count, newest, size = last, 0, 0, len(_HEAD) + len(_TAIL)
        count, newest, size, last = count + 1, max(newest, stamp), size + entry, (stamp, uid)
    if count:
        children.append(ChildPlan(start, count, newest))
    return SitemapPlan(until, tuple(children))


def render_child(backend: IndexBackend, child: ChildPlan, *, base: str, until: int) -> bytes:
    """The <urlset> of one planned child: its `count` live record pages from its start key."""
    parts = [_HEAD]
    for n, (stamp, uid) in enumerate(live_entries(backend, until=until, after=child.after)):
        if n == child.count:
            break
        parts.append(url_entry(base, uid, stamp))
    parts.append(_TAIL)
    return "".join(parts).encode()


def render_pages(base: str) -> bytes:
    """The <urlset> of the site's own pages: the search page."""
    return (_HEAD + f"<url><loc>{escape(base + '/')}</loc></url>\n" + _TAIL).encode()


def render_index(plan: SitemapPlan, *, base: str) -> bytes:
    """The <sitemapindex>: the pages child, then each record child with its newest datestamp as lastmod."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<sitemapindex xmlns="{NAMESPACE}">',
             f"<sitemap><loc>{escape(base)}/sitemaps/pages.xml</loc></sitemap>"]  # fmt: skip
    for n, child in enumerate(plan.children, start=1):
        loc = escape(f"{base}/sitemaps/records-{n}.xml")
        lines.append(f"<sitemap><loc>{loc}</loc><lastmod>{w3c_datetime(child.newest)}</lastmod></sitemap>")
    lines.append("</sitemapindex>\n")
    return "\n".join(lines).encode()


class SitemapPlans:
    """The current plan of one backend, walked again only once the log holds a change after it."""

    def __init__(self, backend: IndexBackend, *, per_child: int = MAX_URLS) -> None:
        self.backend = backend
        self.per_child = per_child
        self._plans: dict[str, SitemapPlan] = {}
        self._lock = threading.Lock()

    def current(self, base: str) -> SitemapPlan:
        """The plan for record pages under `base`, fresh as of the log's latest change."""
        with self._lock:
            held = self._plans.get(base)
            if held is not None and not self.backend.count_changes(ChangeQuery(until=now_stamp(), since=held.until)):
                return held
            plan = self._plans[base] = plan_children(self.backend, base=base, per_child=self.per_child)
            return plan
