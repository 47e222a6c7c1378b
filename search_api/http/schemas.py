"""Response models of the JSON API, as documented in the OpenAPI schema at /docs."""

from __future__ import annotations

from pydantic import BaseModel, Field

from indexer.record import Record


class Highlight(BaseModel):
    title: str = Field(description="The title, HTML-escaped, with <mark> around the words that matched.")
    description: str = Field(description="A description snippet, HTML-escaped, with <mark> around matches.")


class AlsoOn(BaseModel):
    platform: str = Field(description="Platform id of the other copy.")
    platform_name: str = Field(description="Display name of that platform.")
    url: str = Field(description="The course on that platform.")
    id: str = Field(description="Record id of the other copy.")


class SearchItem(BaseModel):
    id: str = Field(description="Record id, '{source}:{source_id}'; see /api/v1/records/{id}.")
    title: str
    subtitle: str | None
    description: str | None
    url: str = Field(description="The course on its own platform.")
    platform: str
    platform_name: str
    provider: str | None = Field(description="Name of the school or body that made the course.")
    themes: list[str]
    audience: list[str]
    media_type: str | None
    record_type: str
    learner_count: int | None
    lesson_count: int | None
    is_free: bool
    region: dict[str, str] = Field(
        default_factory=dict,
        description="Where the course comes from: province (short form, e.g. 广东; 全国 for a national platform), "
        "city when known; empty when unknown.",
    )
    highlight: Highlight
    missing: list[str] = Field(
        default_factory=list,
        description="Words of q this record does not hold: it was found through the others (see `relaxed`).",
    )
    also_on: list[AlsoOn] = Field(description="The same course on other platforms.")


class SearchResponse(BaseModel):
    total: int = Field(description="How many records match.")
    items: list[SearchItem]
    facets: dict[str, dict[str, int]] = Field(
        description="theme, platform, audience, media_type, is_free, region (province short form, or 全国): "
        "value -> count, each counted with the other filters applied."
    )
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
    relaxed: bool = Field(
        False,
        description="No record holds every word of q: these items hold some of them, those holding more first. "
        "Under a theme filter whose records hold none of the words, the theme's records, each lacking them "
        "(see `theme_only`).",
    )
    theme_only: bool = Field(
        False,
        description="No record of the theme filtered to holds any word of q: the items are that theme's records, "
        "those whose titles or tags hold the words' characters first; `total` counts the theme's records.",
    )
    merged: int = Field(
        0,
        description="Records of this page left out because an earlier item lists them in also_on (the same "
        "course on another platform; collapse=false shows them).",
    )
    page: int
    size: int


class SuggestResponse(BaseModel):
    q: str
    suggestions: list[str] = Field(description="Titles that complete the typed text, most learned first.")


class AnalysisHealth(BaseModel):
    version: int = Field(description="The index-side text analysis of this edufed (indexer/analysis_version.py).")
    index_version: int = Field(description="The analysis the index's records were written with (0: not recorded).")
    status: str = Field(
        description="current, catching_up (a SQLite index being re-analysed in the background), "
        "older (not yet caught up: records miss what the new analysis finds) or newer."
    )
    done: int = Field(description="Records analysed the current way so far.")
    total: int = Field(description="Records in the index.")
    notice: str | None = Field(description="What an admin should know or do (the command to run); null when current.")


class LinkageHealth(BaseModel):
    version: int = Field(description="The record linkage rules of this edufed (indexer/linkage/version.py).")
    index_version: int = Field(description="The rules the index's link keys and clusters were made by (1: not "
                               "recorded).")  # fmt: skip
    status: str = Field(
        description="current, older (clusters miss copies the new rules join and hold courses they tell apart "
        "until `edufed reindex --links-only`) or newer."
    )
    records: int = Field(description="Records to link again (every record of an older index), else 0.")
    notice: str | None = Field(description="What an admin should know or do (the command to run); null when current.")


class ThemesHealth(BaseModel):
    version: str = Field(description="The theme rules of this edufed: its rule table's version and the classifier's "
                         "(indexer/themes_version.py), as `<table>+<rules>`.")  # fmt: skip
    index_version: str = Field(description="The theme rules every record of the index was classified by (\"\": not "
                               "recorded).")  # fmt: skip
    status: str = Field(
        description="current, older (records keep the themes other rules gave them, a theme filter misses some, "
        "until `edufed reindex --themes-only`) or newer."
    )
    records: int = Field(description="Records to classify again (every record of an older index), else 0.")
    notice: str | None = Field(description="What an admin should know or do (the command to run); null when current.")


class HealthResponse(BaseModel):
    status: str = Field(description="ok, or error when the index cannot be read.")
    records: int | None = Field(description="Records in the index.")
    backend: str = Field(description="Index backend: sqlite or elasticsearch.")
    version: str = Field(description="edufed version.")
    analysis: AnalysisHealth | None = Field(
        default=None, description="Which text analysis the index holds; an older one is caught up or needs a command."
    )
    linkage: LinkageHealth | None = Field(
        default=None, description="Which record linkage rules linked the index; older ones need a command."
    )
    themes: ThemesHealth | None = Field(
        default=None, description="Which theme rules classified the index's records; other ones need a command."
    )


class ErrorDetail(BaseModel):
    field: str
    reason: str


class ErrorInfo(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. not_found, validation_error, bad_cursor.")
    message: str
    details: list[ErrorDetail]


class ErrorResponse(BaseModel):
    error: ErrorInfo


class RecordResponse(Record):
    """A full record; `raw` (the platform's untouched payload) only with ?include=raw."""

    id: str = Field(description="Same as uid.")


ERROR_MEANINGS: dict[int, str] = {
    400: "Bad cursor: pass next_cursor exactly as received.",
    401: "No key, or an unknown or revoked one: send `Authorization: Bearer <key>`.",
    403: "The key's role or platform does not allow this (an operator acts for its own platform only).",
    404: "Not found.",
    409: "Conflicts with the state of the source: the id is taken, a run is going, a deletion waits for "
    "approval, or the configuration file defines the source.",
    413: "The request body is larger than 256 KB.",
    422: "Invalid parameters or body (also JSON nested more than 32 levels deep); details name each field.",
    429: "Too many requests of this kind from this key; `Retry-After` says when to try again.",
    503: "The index or the state database cannot be read.",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI `responses` for these error statuses, each with the shared error body as its schema."""
    return {status: {"model": ErrorResponse, "description": ERROR_MEANINGS[status]} for status in statuses}


ERROR_RESPONSES = error_responses(400, 404, 422, 503)
"""The errors of the public search endpoints."""
ROLE_ERROR_RESPONSES = error_responses(401, 403, 404, 409, 422, 503)
"""The errors of every endpoint that needs a key (its router declares them)."""
RATE_LIMITED_RESPONSES = error_responses(429)
"""The further error of the endpoints a key may call only so often (413 goes on every body: search_api.http.openapi)."""
