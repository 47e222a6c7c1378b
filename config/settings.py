"""The settings model: where data lives, which index backend to use, politeness and limits."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IndexSettings(_Strict):
    backend: Literal["sqlite", "elasticsearch"] = Field(
        "sqlite", description="Search index backend: embedded SQLite FTS5, or an Elasticsearch cluster."
    )
    url: str | None = Field(
        None, description="Elasticsearch URL (backend=elasticsearch). Credentials come from the environment."
    )
    sqlite_file: str = Field("index.sqlite3", description="Index file name, relative to data_dir.")
    search_engine: Literal["tantivy", "fts5"] = Field(
        "tantivy",
        description="What ranks text queries on the SQLite backend: a tantivy index derived from the SQLite file "
        "(kept beside it as <file>.tantivy/, built and caught up automatically), or SQLite FTS5 alone.",
    )
    es_alias: str = Field(
        "edufed-records",
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Elasticsearch alias searched and written; versioned indices sit behind it.",
    )
    es_shards: int = Field(1, ge=1, le=64, description="Primary shards of a new Elasticsearch index.")
    es_replicas: int = Field(1, ge=0, le=8, description="Replicas of a new Elasticsearch index.")
    es_plugin_analyzer: Literal["ik_smart", "ik_max_word", "smartcn"] | None = Field(
        None, description="Also index with this cluster plugin analyzer (only if the cluster has it)."
    )


class HttpSettings(_Strict):
    user_agent: str = Field(
        "edufed/0.1 (+https://github.com/edufed/edufed; lifelong-learning catalogue harvester)",
        description="Honest User-Agent sent with every request, with a contact URL.",
    )
    timeout_seconds: float = Field(20.0, gt=0, le=300, description="Connect and read timeout per request.")
    max_response_bytes: int = Field(
        20_000_000, gt=0, description="A response larger than this is cut off with an error."
    )
    delay_seconds: float = Field(1.0, ge=0, le=60, description="Pause between requests to one host.")
    retries: int = Field(2, ge=0, le=10, description="Retries for connection errors, 429 and 5xx responses.")
    backoff_seconds: float = Field(1.0, ge=0, le=60, description="First retry delay; doubles each retry.")
    max_retry_after_seconds: float = Field(
        120.0, ge=0, description="Longest Retry-After the harvester will honour before failing the request."
    )
    allow_private_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts the harvester may fetch although they resolve to a loopback, private, link-local or "
        "other non-public address: an IP (127.0.0.1), a network (10.1.0.0/16) or a host name, each with an "
        "optional :port (127.0.0.1:8001, [::1]:8001). Empty (the default) = only public addresses; for local "
        "test and demo servers only.",
    )


class SearchSettings(_Strict):
    max_query_chars: int = Field(100, gt=0, le=1000, description="Longest accepted query text.")
    max_page_size: int = Field(50, gt=0, le=200, description="Largest accepted page size.")
    default_page_size: int = Field(10, gt=0, le=200, description="Page size when none is asked for.")
    max_page: int = Field(100, gt=0, description="Deepest page number; use the cursor to go further.")


class ServerSettings(_Strict):
    host: str = Field("127.0.0.1", description="Address the API and web pages listen on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the API and web pages listen on.")
    public_url: str | None = Field(None, description="Public base URL, used in links and JSON-LD.")


class SchedulerSettings(_Strict):
    enabled: bool = Field(True, description="Run scheduled harvests inside `edufed serve`.")
    harvest_on_start: bool = Field(False, description="Harvest every enabled source once when the service starts.")
    max_concurrent_runs: int = Field(
        4, ge=1, le=64, description="Harvest runs this process executes at once (the scheduler's thread pool)."
    )
    lease_ttl_seconds: float = Field(
        120.0,
        gt=0,
        le=3600,
        description="A source's lease lasts this long unless renewed; another process takes over after it lapses.",
    )
    run_timeout_seconds: float = Field(
        7200.0,
        gt=0,
        description="A run still going after this long is ended and recorded as timed_out.",
    )
    misfire_grace_seconds: int = Field(
        3600,
        ge=1,
        description="A run missed (service down) by less than this still runs, once (coalesced).",
    )
    sync_seconds: float = Field(
        60.0,
        gt=0,
        description="How often the scheduler picks up sources added, changed or removed elsewhere.",
    )
    health_check_seconds: float = Field(
        300.0,
        gt=0,
        description="How often the scheduler checks every source for staleness.",
    )
    stale_after_hours: float = Field(
        72.0,
        gt=0,
        description="A source whose data is older than this is stale (sources may override it).",
    )
    alert_url: str | None = Field(
        None,
        description="POST a JSON alert here when a source keeps failing or goes stale; none = no alerts.",
    )
    alert_after_failures: int = Field(
        3,
        ge=1,
        description="Alert when a source has failed this many runs in a row (once per streak).",
    )
    alert_timeout_seconds: float = Field(10.0, gt=0, le=120, description="Timeout of one alert POST.")


class OperatorSettings(_Strict):
    dry_run_records: int = Field(20, ge=1, le=200, description="Items a dry-run fetches and shows at most.")
    dry_run_seconds: float = Field(
        30.0, gt=0, le=300, description="A dry-run stops sending requests after this long and shows what it got."
    )
    dry_run_max_bytes: int = Field(
        2_000_000, gt=0, description="Response size cap during a dry-run (at most http.max_response_bytes)."
    )
    dry_runs_per_minute: int = Field(6, ge=1, description="Dry-runs one API key may start per minute.")
    registrations_per_hour: int = Field(30, ge=1, description="Sources one API key may register or change per hour.")


class OaiSettings(_Strict):
    repository_name: str = Field("edufed 终身学习课程目录", description="repositoryName that Identify gives.")
    admin_email: str = Field("edufed-admin@example.org", description="adminEmail that Identify gives.")
    repository_identifier: str = Field(
        "edufed.local", pattern=r"^[a-zA-Z][a-zA-Z0-9-]*(\.[a-zA-Z][a-zA-Z0-9-]*)+$",
        description="Domain-like name in every record identifier, oai:<this>:<record uid> (a domain you own).",
    )  # fmt: skip
    page_size: int = Field(100, ge=1, le=500, description="Records or headers per ListRecords/ListIdentifiers page.")
    token_lifetime_seconds: int = Field(
        86_400, ge=60, le=7 * 86_400, description="How long a resumptionToken stays valid (its expirationDate)."
    )
    requests_per_minute: int = Field(
        120, ge=1, description="OAI-PMH requests one client address may make per minute (then 503 + Retry-After)."
    )


class PlatformAttribution(_Strict):
    url: str | None = Field(None, description="The platform's home page, named in the dump's attribution.")
    licence: str | None = Field(
        None, description="Terms on which the platform shares its records (overrides dump.default_licence)."
    )


class DumpSettings(_Strict):
    enabled: bool = Field(True, description="Build the bulk data dump daily inside `edufed serve` (scheduler on).")
    hour: int = Field(3, ge=0, le=23, description="Hour of the day (Asia/Shanghai) the daily dump is built.")
    keep: int = Field(7, ge=1, le=365, description="Dumps kept in <data_dir>/dumps; older ones are deleted.")
    default_licence: str = Field(
        "元数据由各平台提供，转载请注明来源平台并链接原课程页 (metadata from each platform; credit the platform "
        "and link the course page)",
        description="Licence note of a platform with none of its own in `platforms`.",
    )
    platforms: dict[str, PlatformAttribution] = Field(
        default_factory=dict, description="Per platform id: its home page and licence note for the attribution."
    )


class EmbedSettings(_Strict):
    allowed_origins: list[Annotated[str, Field(pattern=r"^https?://[^/\s]+$")]] = Field(
        default_factory=list, description="Origins (https://www.example.cn) of member platforms that may frame "
        "/embed and call /api/v1/search and /api/v1/records/* from their pages (CORS). Empty (the default) = "
        "none: the widget cannot be framed and no cross-origin call is allowed.",
    )  # fmt: skip


class Settings(_Strict):
    data_dir: Path = Field(Path("data"), description="Directory for the index file, state and raw payloads.")
    index: IndexSettings = Field(default_factory=IndexSettings)
    state_db_url: str | None = Field(
        None, description="SQLAlchemy URL of the state database; default is a SQLite file in data_dir."
    )
    http: HttpSettings = Field(default_factory=HttpSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    operators: OperatorSettings = Field(default_factory=OperatorSettings)
    oai: OaiSettings = Field(default_factory=OaiSettings, description="The OAI-PMH data provider at /oai.")
    dump: DumpSettings = Field(default_factory=DumpSettings, description="The daily bulk data dump at /data/.")
    embed: EmbedSettings = Field(default_factory=EmbedSettings, description="Member platforms' embedded search.")
    sources_file: Path | None = Field(None, description="sources.yaml to load; default is the bundled one.")
    themes_file: Path | None = Field(None, description="themes.yaml to load; default is the bundled one.")
    query_words_file: Path | None = Field(
        None, description="query_words.yaml (fillers, synonyms) to load; default is the bundled one."
    )

    @property
    def index_path(self) -> Path:
        return self.data_dir / self.index.sqlite_file
