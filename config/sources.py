"""Source models: one YAML block (or API body) per harvested feed, validated by its kind."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

RECORD_TYPES = (
    "course",
    "micro_course",
    "lesson",
    "video",
    "document",
    "ebook",
    "live",
    "article",
    "case",
    "programme_entry",
)
MEDIA_TYPES = ("video", "audio", "document", "ebook", "live", "mixed", "html")

RecordType = Literal[
    "course", "micro_course", "lesson", "video", "document", "ebook", "live", "article", "case", "programme_entry"
]
MediaType = Literal["video", "audio", "document", "ebook", "live", "mixed", "html"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Schedule(_Strict):
    interval_minutes: int | None = Field(
        1440, ge=1, description="Harvest every this many minutes (ignored when cron is set)."
    )
    cron: str | None = Field(None, description="Crontab expression (minute hour day month weekday), Asia/Shanghai.")
    jitter_seconds: int = Field(300, ge=0, description="Random delay added to each start, to spread load.")


class RecordDefaults(_Strict):
    record_type: RecordType = Field("course", description="Record type when the payload does not say.")
    media_type: MediaType | None = Field(None, description="Media type when the payload does not say.")
    audience: list[str] = Field(default_factory=list, description="Audience every record of this source has.")
    categories: list[list[str]] = Field(
        default_factory=list, description="Category paths every record of this source sits under."
    )
    is_free: bool = Field(True, description="Whether courses are free unless the payload says otherwise.")
    requires_login: bool = Field(False, description="Whether learning needs an account on the platform.")
    language: str = Field("zh-CN", description="BCP-47 language of the records.")
    region: dict[str, str] = Field(
        default_factory=dict, description="province / city / district / adcode of a local platform."
    )


class SourceBase(_Strict):
    id: str = Field(
        pattern=r"^[a-z][a-z0-9_]{1,62}$", description="Stable source id; prefixes every record uid."
    )
    name: str = Field(min_length=1, max_length=200, description="Human name of this feed.")
    platform: str = Field(
        pattern=r"^[a-z][a-z0-9_]{1,62}$", description="Platform this source belongs to (operators own platforms)."
    )
    platform_name: str = Field(min_length=1, max_length=200, description="Display name of the platform.")
    enabled: bool = Field(True, description="Disabled sources are never scheduled.")
    schedule: Schedule = Field(default_factory=Schedule)
    defaults: RecordDefaults = Field(default_factory=RecordDefaults)
    obey_robots: bool = Field(True, description="Honour the host's robots.txt.")
    delay_seconds: float | None = Field(None, ge=0, le=60, description="Per-host delay; default from settings.")
    max_records: int | None = Field(None, ge=1, description="Stop after this many records (for previews).")


class DetailRequest(_Strict):
    url_template: str = Field(
        description="Detail URL with {field} placeholders filled from the list item, e.g. .../Course/{Id}/Details."
    )
    fields: dict[str, str] = Field(
        default_factory=dict, description="Record field -> dotted path in the detail response."
    )
    lessons_path: str | None = Field(None, description="Dotted path of the lesson list in the detail response.")
    lesson_fields: dict[str, str] = Field(
        default_factory=lambda: {"id": "Id", "title": "Title"},
        description="Lesson field (id, title, duration_seconds, url) -> key in each lesson item.",
    )
    required: bool = Field(
        False, description="If true, an item whose detail request fails is rejected; else kept without details."
    )


class JsonApiSourceConfig(SourceBase):
    kind: Literal["json_api"]
    url: HttpUrl = Field(description="List endpoint.")
    method: Literal["GET", "POST"] = Field("GET", description="HTTP method of the list request.")
    params: dict[str, str | int | bool] = Field(default_factory=dict, description="Fixed query parameters.")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra request headers (no secrets).")
    page_param: str | None = Field(None, description="Query parameter carrying the page number; none = one page.")
    page_start: int = Field(1, ge=0, description="Number of the first page.")
    max_pages: int = Field(1000, ge=1, description="Safety bound on pages per run.")
    items_path: str = Field(description="Dotted path of the item list, e.g. Data.PageListInfos.")
    page_count_path: str | None = Field(None, description="Dotted path of the page count, e.g. Data.PageCount.")
    id_field: str = Field(description="Dotted path of the platform's own id within an item.")
    url_template: str = Field(description="Human page URL with {field} placeholders, e.g. .../courseDetails/{Id}.")
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="Record field -> dotted path in a list item (title, subtitle, description, instructors, "
        "provider, tags, categories, learner_count, cover_image_url, published_at, updated_at, duration_seconds).",
    )
    detail: DetailRequest | None = Field(None, description="Optional per-item detail request.")

    @model_validator(mode="after")
    def _title_is_mapped(self) -> JsonApiSourceConfig:
        if "title" not in self.fields and (self.detail is None or "title" not in self.detail.fields):
            raise ValueError("fields.title (or detail.fields.title) must say where the title is")
        return self


class RssSourceConfig(SourceBase):
    kind: Literal["rss"]
    url: HttpUrl = Field(description="RSS or Atom feed URL.")
    encoding: str | None = Field(
        None, description="Force this encoding when the feed declares none or declares it wrongly (e.g. gb18030)."
    )


SourceConfig = Annotated[JsonApiSourceConfig | RssSourceConfig, Field(discriminator="kind")]


class SourcesFile(_Strict):
    sources: list[SourceConfig] = Field(default_factory=list, description="Every configured source.")

    @model_validator(mode="after")
    def _unique_ids(self) -> SourcesFile:
        seen: set[str] = set()
        for source in self.sources:
            if source.id in seen:
                raise ValueError(f"duplicate source id {source.id!r}")
            seen.add(source.id)
        return self
