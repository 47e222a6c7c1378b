"""The catalogue as the web service sees it: searches the index and shapes hits into API items."""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from config.settings import SearchSettings
from indexer.backends.base import IndexBackend, SearchHit, SearchQuery, SearchResult, merge_duplicates
from indexer.record import Record

logger = logging.getLogger(__name__)

SNIPPET_CHARS = 120


class PlatformNames:
    """Platform id -> display name, from the configured sources and every record seen since start."""

    def __init__(self, backend: IndexBackend, *, known: Mapping[str, str]) -> None:
        self._backend = backend
        self._names = dict(known)
        self._lock = threading.Lock()

    def learn(self, records: Iterable[Record]) -> None:
        with self._lock:
            for record in records:
                self._names.setdefault(record.platform, record.platform_name)

    def name(self, platform: str) -> str:
        """The display name; a platform not seen yet is looked up from one of its records."""
        found = self._names.get(platform)
        if found is not None:
            return found
        result = self._backend.search(SearchQuery(platforms=(platform,), size=1, with_facets=False))
        self.learn(hit.record for hit in result.hits)
        return self._names.get(platform, platform)


class Catalogue:
    """Search, records and suggestions over one index backend, with the limits from settings."""

    def __init__(self, backend: IndexBackend, *, limits: SearchSettings, platforms: Mapping[str, str]) -> None:
        self.backend = backend
        self.limits = limits
        self.platforms = PlatformNames(backend, known=platforms)

    def search(self, query: SearchQuery, *, merge: bool = False) -> SearchResult:
        """The backend's result; with `merge`, later hits of a course the page already shows are left out."""
        result = self.backend.search(query)
        self.platforms.learn(hit.record for hit in result.hits)
        return merge_duplicates(result) if merge else result

    def get(self, uid: str) -> Record | None:
        record = self.backend.get(uid)
        if record is not None:
            self.platforms.learn([record])
        return record

    def response(self, result: SearchResult, *, query: SearchQuery, page: int) -> dict[str, Any]:
        """The JSON body of a search (DESIGN.md "Public interface")."""
        return {
            "total": result.total,
            "items": [search_item(hit) for hit in result.hits],
            "facets": result.facets,
            "next_cursor": result.next_cursor,
            "relaxed": result.relaxed,
            "theme_only": result.theme_only,
            "merged": result.merged,
            "page": page,
            "size": query.size,
        }


def search_item(hit: SearchHit) -> dict[str, Any]:
    """One hit as an API item; `highlight` holds HTML-escaped snippets with <mark> around matches."""
    record = hit.record
    return {
        "id": record.uid,
        "title": record.title,
        "subtitle": record.subtitle,
        "description": record.description,
        "url": record.url,
        "platform": record.platform,
        "platform_name": record.platform_name,
        "provider": record.provider.name if record.provider else None,
        "themes": record.themes,
        "audience": record.audience,
        "media_type": record.media_type,
        "record_type": record.record_type,
        "learner_count": record.learner_count,
        "lesson_count": record.lesson_count,
        "is_free": record.is_free,
        "region": {k: record.region[k] for k in ("province", "city") if k in record.region},
        "highlight": _highlight(hit),
        "missing": list(hit.missing),
        "also_on": [
            {
                "platform": other.platform,
                "platform_name": other.platform_name,
                "url": other.url,
                "id": other.uid,
            }
            for other in hit.also_on
        ],
    }


def _highlight(hit: SearchHit) -> dict[str, str]:
    """The backend's snippets, or escaped plain text where the backend gave none."""
    record = hit.record
    title = hit.highlight.get("title") or html.escape(record.title)
    description = hit.highlight.get("description")
    if description is None:
        description = html.escape((record.description or "")[:SNIPPET_CHARS])
    return {"title": title, "description": description}


def record_body(record: Record, *, include_raw: bool) -> dict[str, Any]:
    """The full record as JSON: lessons and theme evidence always, the raw payload only when asked for."""
    body = record.model_dump(mode="json", exclude={"raw"})
    body["id"] = record.uid
    if include_raw:
        body["raw"] = record.raw
    return body
