"""A schema.org Course / LearningResource / CreativeWork / VideoObject node as RawRecord fields."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

from crawlers.scrapy_engine.structured import type_names

ISO_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
_UNIT_SECONDS = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
_KEYWORD_SPLIT = re.compile(r"[,，、;；]")
_RECORD_TYPES = {"Course": "course", "VideoObject": "video", "Book": "ebook", "Article": "article"}
_MEDIA_TYPES = {"VideoObject": "video", "AudioObject": "audio", "Book": "ebook"}
_DATES = {"published_at": ("datePublished", "dateCreated", "uploadDate"), "updated_at": ("dateModified",)}


def iso_duration_seconds(value: Any) -> int | None:
    """An ISO-8601 duration (PT1H30M, P1DT2H, PT45.5S) in whole seconds; None for years/months or junk."""
    if not isinstance(value, str):
        return None
    match = ISO_DURATION.match(value.strip().upper())
    if match is None or not any(match.groupdict().values()):
        return None
    total = sum(float(n) * _UNIT_SECONDS[unit] for unit, n in match.groupdict().items() if n)
    return round(total)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str | None:
    """A plain string from a literal, an {@value} object or the first of a list."""
    for item in _as_list(value):
        if isinstance(item, dict):
            item = item.get("@value", item.get("name"))
        if isinstance(item, str | int | float) and not isinstance(item, bool) and str(item).strip():
            return str(item).strip()
    return None


def names(value: Any) -> list[str]:
    """Names from strings, objects with `name`, or lists of either (Person, Organization, Thing)."""
    found: list[str] = []
    for item in _as_list(value):
        name = _text(item.get("name")) if isinstance(item, dict) else _text(item)
        if name and name not in found:
            found.append(name)
    return found


def _http(value: Any, *, base: str) -> str | None:
    for item in _as_list(value):
        if isinstance(item, dict):
            item = item.get("url") or item.get("contentUrl") or item.get("@id")
        if isinstance(item, str) and item.strip():
            absolute = urljoin(base, item.strip())
            if urlsplit(absolute).scheme in ("http", "https"):
                return absolute
    return None


def node_id(node: dict[str, Any], *, page_url: str) -> str:
    """The item's id on its platform: its @id, else its url, else the page it is on."""
    return _http(node.get("@id"), base=page_url) or _http(node.get("url"), base=page_url) or page_url


def _keywords(node: dict[str, Any]) -> list[str]:
    words: list[str] = []
    for item in _as_list(node.get("keywords")):
        text = _text(item)
        words += [w.strip() for w in _KEYWORD_SPLIT.split(text or "") if w.strip()]
    for word in [*words, *names(node.get("about"))]:
        if word not in words:
            words.append(word)
    return words


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = (_text(value) or "").lower()
    return {"true": True, "false": False, "1": True, "0": False}.get(text)


def _lessons(node: dict[str, Any], *, page_url: str) -> list[dict[str, Any]]:
    parts = [*_as_list(node.get("hasPart")), *_as_list(node.get("syllabusSections"))]
    lessons = []
    for index, part in enumerate(parts, start=1):
        if not isinstance(part, dict):
            continue
        lesson: dict[str, Any] = {
            "id": _text(part.get("@id")) or _text(part.get("position")) or str(index),
            "title": _text(part.get("name")),
            "url": _http(part.get("url"), base=page_url),
            "duration_seconds": iso_duration_seconds(part.get("timeRequired") or part.get("duration")),
        }
        lessons.append({k: v for k, v in lesson.items() if v is not None})
    return lessons


def _learners(node: dict[str, Any]) -> str | None:
    for stat in _as_list(node.get("interactionStatistic")):
        if isinstance(stat, dict) and stat.get("userInteractionCount") is not None:
            return _text(stat["userInteractionCount"])
    return None


def _typed(node: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for name in type_names(node):
        if name in _RECORD_TYPES:
            yield "record_type", _RECORD_TYPES[name]
        if name in _MEDIA_TYPES:
            yield "media_type", _MEDIA_TYPES[name]


def record_fields(node: dict[str, Any], *, page_url: str) -> dict[str, Any]:
    """RawRecord fields of one node; values absent from the node are left out."""
    audience = [_text(a.get("audienceType")) for a in _as_list(node.get("audience")) if isinstance(a, dict)]
    fields: dict[str, Any] = {
        "title": _text(node.get("name")) or _text(node.get("headline")),
        "description": _text(node.get("description")),
        "url": _http(node.get("url"), base=page_url) or _http(node.get("@id"), base=page_url) or page_url,
        "provider": next(iter(names(node.get("provider")) or names(node.get("publisher"))), None),
        "instructors": names(node.get("instructor")) or names(node.get("author")) or names(node.get("creator")),
        "language": _text(node.get("inLanguage")),
        "is_free": _boolean(node.get("isAccessibleForFree")),
        "tags": _keywords(node),
        "cover_image_url": _http(node.get("image") or node.get("thumbnailUrl"), base=page_url),
        "level": _text(node.get("educationalLevel")),
        "audience": [a for a in audience if a],
        "lessons": _lessons(node, page_url=page_url),
        "duration_seconds": iso_duration_seconds(node.get("timeRequired") or node.get("duration")),
        "learner_count": _learners(node),
    }
    for name, keys in _DATES.items():
        fields[name] = next((_text(node.get(k)) for k in keys if _text(node.get(k))), None)
    fields.update(dict(_typed(node)))
    return {k: v for k, v in fields.items() if v is not None and v != []}
