"""The normalized record every platform's data becomes, and the raw record harvesters hand over."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from config.source_models import MediaType, RecordType

SCHEMA_VERSION = "1.0"
_NOT_HASHED = {"fetched_at", "content_hash", "raw", "api_url"}


@dataclass
class RawRecord:
    """One item as a harvester found it: the platform's own id, the mapped fields and the untouched payload.

    `fields` holds values under record field names (title, subtitle, description, instructors, provider, tags,
    categories, learner_count, cover_image_url, published_at, updated_at, duration_seconds, lessons, url,
    record_type, media_type, is_free) exactly as the platform gave them; the normalizers clean them.
    """

    source_id: str
    fields: dict[str, Any]
    payload: Any
    api_url: str | None = None
    warnings: list[str] = field(default_factory=list)


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    title: str | None = None
    org: str | None = None


class Provider(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    id: str | None = None


class Lesson(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    title: str
    order: int
    duration_seconds: int | None = None
    url: str | None = None


class ProgrammeEntry(BaseModel):
    """A 百姓学习之星 / 终身学习品牌项目 / 智慧助老案例 listing (PLATFORMS.md 5.3): a person or project, not a course.

    Names of 学习之星 are personal data: only name, region and honour are kept, from official list pages.
    """

    model_config = ConfigDict(extra="forbid")
    programme: str | None = None
    year: int | None = None
    level: str | None = None
    name: str
    organisation: str | None = None
    honour: str | None = None


class ThemeEvidence(BaseModel):
    model_config = ConfigDict(extra="forbid")
    theme: str
    rule_id: str
    matched: str
    score: float


class Record(BaseModel):
    """A course or resource, normalized (PLATFORMS.md section 5.1)."""

    model_config = ConfigDict(extra="forbid")

    uid: str = Field(description="'{source}:{source_id}', the stable primary key.")
    source: str
    source_id: str
    record_type: RecordType = "course"
    url: str
    api_url: str | None = None
    title: str
    subtitle: str | None = None
    description: str | None = None
    language: str = "zh-CN"
    instructors: list[Person] = Field(default_factory=list)
    provider: Provider | None = None
    platform: str = Field(description="Platform id (le_ouchn, lndx, ...).")
    platform_name: str
    region: dict[str, str] = Field(
        default_factory=dict,
        description="Where the course comes from (indexer.normalize.region): `province` the short form of "
        "config/regions.yaml (广东, 内蒙古; 全国 for a national platform), `city` when known; district, adcode "
        "and name as the source gave them. Empty when unknown.",
    )
    categories_raw: list[list[str]] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    themes: list[str] = Field(default_factory=list)
    theme_evidence: list[ThemeEvidence] = Field(default_factory=list)
    programmes: list[str] = Field(default_factory=list)
    audience: list[str] = Field(default_factory=list)
    level: str | None = None
    media_type: MediaType | None = None
    lessons: list[Lesson] = Field(default_factory=list)
    programme_entry: ProgrammeEntry | None = None
    lesson_count: int | None = None
    duration_seconds: int | None = None
    learner_count: int | None = None
    cover_image_url: str | None = None
    is_free: bool = True
    requires_login: bool = False
    published_at: datetime | None = None
    updated_at: datetime | None = None
    fetched_at: datetime
    content_hash: str = ""
    cluster_id: str | None = None
    schema_version: str = SCHEMA_VERSION
    raw: Any = None
    _folds: dict[str, str] = PrivateAttr(default_factory=dict)
    """Texts of this record -> their indexer.analysis.fold, as the builder computed them (never stored)."""

    def remember_folds(self, folds: dict[str, str]) -> None:
        """Keep the folds of some of this record's texts, for the index's analysis to reuse."""
        self._folds = folds

    def known_folds(self) -> dict[str, str]:
        """Folds the builder left, keyed by the exact text: a copy with other texts simply misses them."""
        return self._folds

    _text: tuple[tuple[str, ...], Any] | None = PrivateAttr(default=None)
    """(the texts analysed, their indexer.analysis.DocumentText), when analysed ahead (a reindex's workers)."""

    def remember_text(self, texts: tuple[str, ...], analysed: Any) -> None:
        """Keep the analysis of these texts of the record, for the index to reuse (indexer.record_text)."""
        self._text = (texts, analysed)

    def known_text(self, texts: tuple[str, ...]) -> Any:
        """The analysis remembered for exactly these texts, else None (a copy with other texts misses it)."""
        text = self._text  # one read: each goes through pydantic's __getattr__ for a private attribute
        return text[1] if text is not None and text[0] == texts else None

    def compute_hash(self) -> str:
        """Hash of the normalized content: unchanged when only when or where it was fetched differs.

        api_url (the list page or OAI resumption page the record came from) is left out: a record that moves
        to another page of a listing, or arrives under a new resumption token, has not changed.

        The hashed text is the JSON of the rest with sorted keys, no spaces and characters unescaped: byte for
        byte what `json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))` gives, written
        by orjson at a fifth of the cost (tests/unit/test_record_hash.py holds the two to each other).
        """
        body = self.model_dump(mode="json", exclude=_NOT_HASHED)
        try:
            encoded = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:  # what orjson refuses (integers beyond 64 bits) the json module writes
            encoded = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
        return hashlib.sha256(encoded).hexdigest()


@dataclass
class Rejection:
    """A raw record that did not become a valid Record, kept aside with the reason."""

    source: str
    source_id: str
    reason: str
    payload: Any
