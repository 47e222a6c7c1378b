"""Source models: one YAML block (or API body) per harvested feed, validated by its kind."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from config.regions import region_table

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
    timeout_minutes: float | None = Field(
        None, gt=0, description="End a run still going after this long (default: scheduler.run_timeout_seconds)."
    )
    stale_after_hours: float | None = Field(
        None, gt=0, description="Data older than this counts as stale (default: scheduler.stale_after_hours)."
    )


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
        default_factory=dict,
        description="Where the platform sits: province (全国 for a national platform, else one of the 34 "
        "provincial-level names or short forms of config/regions.yaml), city, district, adcode.",
    )

    @field_validator("region")
    @classmethod
    def _known_province(cls, region: dict[str, str]) -> dict[str, str]:
        province = region.get("province")
        if province is not None and region_table().canonical(province) is None:
            raise ValueError(f"province {province!r} is not 全国 nor one of the 34 provincial-level regions")
        return region


class SourceBase(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,62}$", description="Stable source id; prefixes every record uid.")
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
    withdraw_after_missed_runs: int = Field(
        2, ge=1, description="Withdraw a record missing from this many consecutive complete full listings."
    )
    max_withdraw_share: float = Field(
        0.2,
        gt=0,
        le=1,
        description="A run that would withdraw more than this share of the source's live records is held for "
        "an admin to approve (so is a complete listing that suddenly lists nothing).",
    )
    min_held_reported_deletions: int = Field(
        10,
        ge=1,
        description='Records the source itself reports deleted (OAI status="deleted") leave at once, unless '
        "they are more than max_withdraw_share of its live records and at least this many: then they are held "
        "too. Small repositories deleting a few records are not held every time.",
    )


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
    refresh_days: int = Field(
        30,
        ge=1,
        description="An unchanged list item's detail is asked again (conditionally) once in this many days, on a "
        "day picked by its id; new or changed items' details are always read.",
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
    complete_listing: bool = Field(
        False,
        description="The feed lists every current item, not only the latest ones: an item missing from it "
        "is gone. Most feeds show a window of recent items, so this is off by default.",
    )


class ResourceTypeMapping(_Strict):
    record_type: RecordType = Field(description="Record type of items carrying this platform type code.")
    media_type: MediaType | None = Field(None, description="Media type of items carrying this type code.")


def _title_field() -> dict[str, str | list[str]]:
    return {"title": "title"}


def _lesson_id_title() -> dict[str, str | list[str]]:
    return {"id": "id", "title": "title"}


class StaticCatalogSourceConfig(SourceBase):
    kind: Literal["static_catalog"]
    version_url: HttpUrl = Field(
        description="Version index (smartedu `data_version.json`): {module, module_version, urls} of the part files."
    )
    part_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts part files may be on besides the version index's own host (e.g. s-file-2.ykt.cbern.com.cn).",
    )
    max_parts: int = Field(1000, ge=1, description="Safety bound on part files per run.")
    items_path: str | None = Field(
        None, description="Dotted path of the record list in a part file; none = the part file is the list."
    )
    id_field: str = Field("id", description="Dotted path of the platform's own id within a record.")
    url_template: str = Field(
        description="Human page URL with {field} placeholders, e.g. "
        "https://basic.smartedu.cn/sedu/detail?contentType={resource_type_code}&contentId={id}."
    )
    fields: dict[str, str | list[str]] = Field(
        default_factory=_title_field,
        description="Record field -> dotted path, or a list of paths where the first with a value wins; `*` "
        "takes every element of a list or every value of an object (tag_list.*.tag_name). Default: title only "
        "(config/sources.yaml spells out smartedu's NDR fields).",
    )
    lesson_fields: dict[str, str | list[str]] = Field(
        default_factory=_lesson_id_title,
        description="Lesson field (id, title, duration_seconds, url) -> path in each item of fields.lessons.",
    )
    type_field: str = Field("resource_type_code", description="Dotted path of the platform's resource type code.")
    type_map: dict[str, ResourceTypeMapping] = Field(
        default_factory=dict,
        description="Resource type code -> record type and media type; a code not listed keeps the defaults.",
    )
    tag_list_path: str = Field(
        "tag_list", description="Dotted path of the NDR tag list ({tag_name, tag_dimension_id})."
    )
    category_dimensions: list[str] = Field(
        default_factory=list,
        description="Tag dimension ids whose tag names, in this order, form the category path "
        "(e.g. zxxxd, zxxxk); empty = every tag in listed order.",
    )
    keep_tags: list[str] = Field(
        default_factory=list,
        description="Keep only records with one of these tag names (fields.tags), e.g. 家庭教育, 德育, 科普; "
        "empty = keep all.",
    )
    status_field: str = Field("status", description="Dotted path of the record's publication status.")
    keep_statuses: list[str] = Field(
        default_factory=lambda: ["ONLINE"],
        description="Statuses of published records; others are left out. A record without status is kept.",
    )


class OaiPmhSourceConfig(SourceBase):
    kind: Literal["oai_pmh"]
    base_url: HttpUrl = Field(description="OAI-PMH base URL (the verb and arguments are added as query parameters).")
    metadata_prefix: str = Field("oai_dc", min_length=1, description="metadataPrefix to harvest.")
    lom_prefix: str | None = Field(
        None,
        description="metadataPrefix of the repository's IEEE LOM format (e.g. lom, oai_lom); used instead of "
        "metadata_prefix when ListMetadataFormats offers it.",
    )
    set_spec: str | None = Field(None, description="OAI set to harvest (the `set` argument); none = everything.")
    url_template: str | None = Field(
        None,
        description="Human page URL with an {identifier} placeholder, for records whose metadata has no "
        "http(s) identifier or location.",
    )
    type_map: dict[str, ResourceTypeMapping] = Field(
        default_factory=dict,
        description="dc:type (or LOM learningResourceType) value, case-insensitive -> record and media type.",
    )
    max_pages: int = Field(10000, ge=1, description="Safety bound on ListRecords pages per run.")
    max_restarts: int = Field(
        1, ge=0, le=5, description="How often a badResumptionToken restarts the list from the run's `from`."
    )


class CrawlSourceBase(SourceBase):
    """Options shared by the kinds crawled with the Scrapy engine (sitemap, html)."""

    concurrency: int = Field(
        2, ge=1, le=8, description="Most requests in flight to one host at once (Scrapy per-domain limit)."
    )
    run_timeout_seconds: float = Field(
        3600.0, gt=0, le=86400, description="A crawl still running after this long is stopped; its run fails."
    )
    max_pages: int = Field(
        10000, ge=1, description="Safety bound on pages fetched per run (list, detail and sitemap pages)."
    )


class SitemapSourceConfig(CrawlSourceBase):
    kind: Literal["sitemap"] = Field(description="Source kind: a sitemap crawled by the Scrapy engine.")
    url: HttpUrl = Field(description="A sitemap or sitemap index (plain or gzip-compressed).")
    since: datetime | None = Field(
        None,
        description="Never fetch pages whose sitemap lastmod is not newer than this (a floor: the stored "
        "cursor moves it forward between runs). None = every listed page on the first run.",
    )
    schema_types: list[str] = Field(
        default_factory=lambda: ["Course", "LearningResource", "CreativeWork", "VideoObject"],
        min_length=1,
        description="schema.org types (JSON-LD @type or microdata itemtype) whose items become records.",
    )
    url_pattern: str | None = Field(
        None, description="Regular expression a page URL must match (searched) to be fetched; none = all."
    )
    max_sitemaps: int = Field(200, ge=1, description="Safety bound on sitemap documents read per run.")
    full_crawl_days: float | None = Field(
        7,
        ge=0,
        description="Crawl every listed page again, ignoring lastmods and validators, when the last full crawl "
        "is this many days old: only a full crawl notices pages taken off the site (and pages changed without "
        "a new lastmod). None = only the first crawl is full.",
    )


ProgrammeField = Literal["name", "organisation", "region", "honour", "year", "programme", "summary"]


class ProgrammeRows(_Strict):
    selector: str = Field(description="CSS selector of the rows on a programme page (e.g. table.list tr).")
    columns: dict[ProgrammeField, str] = Field(
        description="Entry field -> CSS selector inside a row (e.g. td:nth-child(3)); `name` is required."
    )
    programme: str | None = Field(
        None, description="Programme of every row (百姓学习之星, 终身学习品牌项目) unless a column says."
    )
    honour: str | None = Field(None, description="Honour every row carries unless a column says.")
    level: str | None = Field(None, description="Level of the list (国家级, 省级, 市级, 区县级).")
    year_pattern: str = Field(
        r"(?P<year>(?:19|20)\d{2})\s*年",
        description="Regular expression with a `year` group, searched in the page title if no column has it.",
    )

    @model_validator(mode="after")
    def _name_is_mapped(self) -> ProgrammeRows:
        if "name" not in self.columns:
            raise ValueError("columns.name must say where each row's name is")
        return self


class HtmlDetailPages(_Strict):
    refresh_days: int = Field(
        30,
        ge=1,
        description="A detail page whose list entry (link and text) is unchanged is not asked again, except once "
        "in this many days, on a day picked by its URL (conditionally); new or changed entries' pages are read.",
    )


class HtmlSourceConfig(CrawlSourceBase):
    kind: Literal["html"] = Field(description="Source kind: CMS pages crawled by the Scrapy engine.")
    start_urls: list[HttpUrl] = Field(default_factory=list, description="List pages to start from.")
    detail_urls: list[HttpUrl] = Field(
        default_factory=list, description="Detail pages harvested directly (e.g. one programme list page)."
    )
    item_links: str | None = Field(
        None, description="CSS selector of the links (or their containers) to detail pages on a list page."
    )
    link_pattern: str | None = Field(
        None, description="Regular expression a detail URL must match (searched); other links are ignored."
    )
    next_page: str | None = Field(None, description="CSS selector of the next-page link on a list page.")
    max_list_pages: int = Field(50, ge=1, description="Safety bound on list pages followed from each start URL.")
    id_pattern: str = Field(
        r"/(?P<id>[^/?#]+?)(?:\.[A-Za-z]{2,5})?(?:[?#].*)?$",
        description="Regular expression with an `id` group, searched in a detail URL: the platform id "
        "(default: the last path segment without extension, e.g. the CMS GUID).",
    )
    date_pattern: str = Field(
        r"/(?P<year>\d{4})[/-](?P<month>\d{1,2})[/-](?P<day>\d{1,2})/",
        description="Regular expression with year/month/day groups, searched in a detail URL: the date when "
        "the page gives none (/Pages/News/2022/12/05/..., /lnjyxx/zxdtxx/2018-12-19/...).",
    )
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="Record field (title, published_at, description, provider, tags, cover_image_url...) -> "
        "CSS selector on a detail page; the matched elements' text, or the values of a ::attr(x) selector.",
    )
    labels: dict[str, str] = Field(
        default_factory=dict,
        description="Label on a detail page (案例名称, 申报单位, 案例介绍) -> record field; the text after "
        "'label：' up to the next label is the value. A label seen again starts another record.",
    )
    label_scope: str = Field("body", description="CSS selector of the element whose text holds the labelled fields.")
    rows: ProgrammeRows | None = Field(
        None, description="Programme pages: one programme_entry record per row these selectors find."
    )
    encoding: str | None = Field(
        None, description="Force this encoding when pages declare none or declare it wrongly (e.g. gb18030)."
    )
    detail: HtmlDetailPages = Field(
        default_factory=HtmlDetailPages, description="How often detail pages found again unchanged are asked."
    )

    @model_validator(mode="after")
    def _reachable_and_titled(self) -> HtmlSourceConfig:
        if not self.start_urls and not self.detail_urls:
            raise ValueError("start_urls or detail_urls must name at least one page")
        if self.start_urls and not self.item_links:
            raise ValueError("item_links must say which links on a list page lead to detail pages")
        if "title" not in self.fields and "title" not in self.labels.values() and self.rows is None:
            raise ValueError("fields.title (or a label mapped to title, or rows) must say where the title is")
        return self


SourceConfig = Annotated[
    JsonApiSourceConfig
    | RssSourceConfig
    | StaticCatalogSourceConfig
    | OaiPmhSourceConfig
    | SitemapSourceConfig
    | HtmlSourceConfig,
    Field(discriminator="kind"),
]


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
