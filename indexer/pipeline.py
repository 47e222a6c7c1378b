"""Build a validated, classified Record from a harvester's RawRecord (the normalize step of every run)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime
from typing import Any, cast

import orjson

from config.source_models import MEDIA_TYPES, RECORD_TYPES, SourceBase
from config.themes import THEMES, ThemeTable
from indexer.errors import RecordInvalidError
from indexer.normalize.audience import AudienceDetector, detect_level
from indexer.normalize.dates import parse_datetime
from indexer.normalize.region import normalize_region
from indexer.normalize.text import category_paths, clean_text, http_url, parse_count, split_list
from indexer.normalize.themes import Classification, FoldedFields, ThemeClassifier
from indexer.record import Lesson, ProgrammeEntry, Provider, RawRecord, Record

UNTAUGHT_TYPES = frozenset({"article", "case", "programme_entry"})
"""Record types that teach nothing themselves (news, 优质工作案例, people and projects): no weak theme for them."""

MAX_TITLE = 300
MAX_SUBTITLE = 500
MAX_DESCRIPTION = 5000
MAX_ID = 200
MAX_LESSONS = 500
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_RAW_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_DEFAULT_MEDIA = {
    "micro_course": "video",
    "video": "video",
    "live": "live",
    "ebook": "ebook",
    "document": "document",
    "article": "html",
    "case": "html",
}


class RecordBuilder:
    """Normalizes, classifies and validates raw records; one per run (or per process), reused for every item."""

    def __init__(self, themes: ThemeTable) -> None:
        self.themes = themes
        self.classifier = ThemeClassifier(themes)
        self.audience = AudienceDetector(themes)

    def build(self, raw: RawRecord, source: SourceBase, *, fetched_at: datetime) -> Record:
        """The Record for one raw item; raises RecordInvalidError (with the field) when it cannot be one."""
        f = raw.fields
        source_id = clean_text(raw.source_id, max_chars=MAX_ID + 1)
        if not source_id or len(source_id) > MAX_ID:
            raise RecordInvalidError("missing or over-long platform id", field="source_id")
        title = clean_text(f.get("title"), max_chars=MAX_TITLE)
        if not title:
            raise RecordInvalidError("no title", field="title")
        url = http_url(f.get("url"))
        if url is None:
            raise RecordInvalidError(f"url is not an http(s) URL: {str(f.get('url'))[:200]!r}", field="url")
        defaults = source.defaults
        subtitle = clean_text(f.get("subtitle"), max_chars=MAX_SUBTITLE)
        description = clean_text(f.get("description"), max_chars=MAX_DESCRIPTION)
        tags = split_list(f.get("tags"))
        categories = defaults.categories + [
            p for p in category_paths(f.get("categories")) if p not in defaults.categories
        ]
        folded = FoldedFields.of(title=title, subtitle=subtitle, tags=tags, description=description,
                                 categories=categories)  # fmt: skip
        record_type = f.get("record_type") if f.get("record_type") in RECORD_TYPES else defaults.record_type
        taught = record_type not in UNTAUGHT_TYPES
        found = given_themes(
            self.classifier.classify_folded(folded, categories=categories, taught=taught), f.get("themes")
        )
        folded_labels = folded.labels()
        entry = _programme_entry(f, title) if f.get("record_type") == "programme_entry" else None
        programmes = [*found.programmes, *([entry.programme] if entry and entry.programme else [])]
        lessons = _lessons(f.get("lessons"))
        record = Record(
            uid=f"{source.id}:{source_id}",
            source=source.id,
            source_id=source_id,
            record_type=record_type,
            url=url,
            api_url=raw.api_url,
            title=title,
            subtitle=subtitle,
            description=description,
            language=_language(f.get("language"), defaults.language),
            instructors=[{"name": n} for n in split_list(f.get("instructors"), max_items=20)],
            provider=(provider := _provider(f.get("provider"))),
            platform=source.platform,
            platform_name=source.platform_name,
            region=normalize_region(
                f.get("region"), provider=provider.name if provider else None, default=defaults.region
            ),
            categories_raw=categories,
            tags=tags,
            themes=found.themes,
            theme_evidence=found.evidence_rows,
            programmes=self.audience.programmes_folded(folded_labels, given=programmes),
            audience=self.audience.audience_folded(
                folded_labels,
                given=[*defaults.audience, *found.audience, *split_list(f.get("audience"), max_items=5)],
            ),
            level=None if entry else (clean_text(f.get("level"), max_chars=20) or detect_level(title)),
            media_type=_media_type(f.get("media_type"), defaults.media_type, record_type),
            lessons=lessons,
            programme_entry=entry,
            lesson_count=len(lessons) or parse_count(f.get("lesson_count")),
            duration_seconds=parse_count(f.get("duration_seconds")) or _lesson_seconds(lessons),
            learner_count=parse_count(f.get("learner_count")),
            cover_image_url=http_url(f.get("cover_image_url")),
            is_free=f["is_free"] if isinstance(f.get("is_free"), bool) else defaults.is_free,
            requires_login=defaults.requires_login,
            published_at=parse_datetime(f.get("published_at")),
            updated_at=parse_datetime(f.get("updated_at")),
            fetched_at=fetched_at,
            cluster_id=None,  # the index links records into clusters on evidence (indexer.linkage)
            raw=stored_raw(raw),
        )
        record.content_hash = record.compute_hash()
        record.remember_folds({
            title: folded.title, subtitle or "": folded.subtitle, " ".join(tags): " ".join(folded.tags),
            description or "": folded.description,
        })  # fmt: skip
        return record

    def rebuild(self, record: Record, source: SourceBase) -> Record:
        """Normalize a stored record again from its raw payload, without the network (for reindexing)."""
        raw = record.raw if isinstance(record.raw, dict) else {}
        if "fields" not in raw:
            raise RecordInvalidError("stored record has no raw fields to rebuild from", field="raw")
        again = RawRecord(
            source_id=record.source_id, fields=raw["fields"], payload=raw.get("payload"), api_url=record.api_url
        )
        return self.build(again, source, fetched_at=record.fetched_at)


def given_themes(found: Classification, given: Any) -> Classification:
    """The themes a source gave itself (national theme names, as an aggregator such as another edufed
    publishes them), in its order, instead of the classifier's; otherwise what the classifier found."""
    named = [t for t in dict.fromkeys(given) if t in THEMES] if isinstance(given, list) else []
    if not named:
        return found
    evidence = [{"theme": t, "rule_id": "source", "matched": t, "score": 1.0} for t in named]
    return replace(found, themes=named, evidence_rows=evidence)


def stored_raw(raw: RawRecord) -> dict[str, Any]:
    """The raw item as stored beside the record: mapped fields and the untouched payload, JSON-safe.

    What the json module makes of it (values it cannot write become their str(), non-string keys strings),
    through orjson, which does the same several times faster; NaN and infinity become null (as they would in
    the stored JSON anyway).
    """
    item = {"fields": raw.fields, "payload": raw.payload}
    try:
        return cast(dict[str, Any], orjson.loads(orjson.dumps(item, default=str, option=_RAW_OPTIONS)))
    except (orjson.JSONEncodeError, TypeError):  # beyond orjson: integers over 64 bits, exotic keys
        return cast(dict[str, Any], json.loads(json.dumps(item, ensure_ascii=False, default=str)))


def _programme_entry(fields: dict[str, Any], title: str) -> ProgrammeEntry:
    year = parse_count(fields.get("year"))
    return ProgrammeEntry(
        programme=clean_text(fields.get("programme"), max_chars=60),
        year=year if year and 1990 <= year <= 2100 else None,
        level=clean_text(fields.get("level"), max_chars=20),
        name=clean_text(fields.get("name"), max_chars=MAX_TITLE) or title,
        organisation=clean_text(fields.get("organisation"), max_chars=200),
        honour=clean_text(fields.get("honour"), max_chars=100),
    )


def _language(value: Any, default: str) -> str:
    if isinstance(value, str) and _LANGUAGE.match(value.strip()):
        return value.strip()
    return default


def _provider(value: Any) -> Provider | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        name = clean_text(value.get("name"), max_chars=200)
        return Provider(name=name, id=str(value["id"]) if value.get("id") else None) if name else None
    name = clean_text(value, max_chars=200)
    return Provider(name=name) if name else None


def _media_type(value: Any, default: str | None, record_type: Any) -> Any:
    if value in MEDIA_TYPES:
        return value
    return default or _DEFAULT_MEDIA.get(record_type)


def _lessons(value: Any) -> list[Lesson]:
    if not isinstance(value, list):
        return []
    lessons: list[Lesson] = []
    for item in value[:MAX_LESSONS]:
        if not isinstance(item, dict):
            continue
        title = clean_text(item.get("title"), max_chars=MAX_TITLE)
        if not title:
            continue
        lessons.append(
            Lesson(
                id=str(item.get("id") or len(lessons) + 1),
                title=title,
                order=len(lessons) + 1,
                duration_seconds=parse_count(item.get("duration_seconds")),
                url=http_url(item.get("url")),
            )
        )
    return lessons


def _lesson_seconds(lessons: list[Lesson]) -> int | None:
    known = [lesson.duration_seconds for lesson in lessons if lesson.duration_seconds]
    return sum(known) if known else None
