"""schema.org `Course` JSON-LD for record pages, serialized so third-party text cannot leave its script."""

from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup

from indexer.record import Record
from search_api.pages.labels import record_type_label

# Characters that could end the <script> element or confuse an HTML parser, written as JSON escapes.
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                              "\u2029": "\\u2029"})  # fmt: skip


def course_jsonld(record: Record) -> dict[str, Any]:
    """The record as a schema.org Course (https://schema.org/Course)."""
    provider = record.provider.name if record.provider else record.platform_name
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Course",
        "name": record.title,
        "description": record.description or record.subtitle or record.title,
        "url": record.url,
        "provider": {"@type": "Organization", "name": provider},
        "publisher": {"@type": "Organization", "name": record.platform_name},
        "inLanguage": record.language,
        "isAccessibleForFree": record.is_free,
        "learningResourceType": record_type_label(record.record_type),
        "about": [{"@type": "Thing", "name": theme} for theme in record.themes],
        "keywords": ", ".join(dict.fromkeys([*record.themes, *record.tags])),
    }
    if record.instructors:
        data["instructor"] = [{"@type": "Person", "name": p.name} for p in record.instructors]
    if record.audience:
        data["audience"] = [{"@type": "Audience", "audienceType": a} for a in record.audience]
    if record.lesson_count:
        data["numberOfLessons"] = record.lesson_count
    if record.updated_at:
        data["dateModified"] = record.updated_at.isoformat()
    if record.published_at:
        data["datePublished"] = record.published_at.isoformat()
    return data


def script_json(data: Any) -> Markup:
    """JSON for the body of a <script type="application/ld+json"> element: `<`, `>` and `&` escaped."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.translate(_SCRIPT_SAFE))  # noqa: S704 - every markup-significant character is escaped
