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
    highlight: Highlight
    also_on: list[AlsoOn] = Field(description="The same course on other platforms.")


class SearchResponse(BaseModel):
    total: int = Field(description="How many records match.")
    items: list[SearchItem]
    facets: dict[str, dict[str, int]] = Field(
        description="theme, platform, audience, media_type, is_free: value -> count, each counted with the "
        "other filters applied."
    )
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
    relaxed: bool = Field(
        False,
        description="No record holds every word of q: these items hold some of them, those holding more first.",
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


class HealthResponse(BaseModel):
    status: str = Field(description="ok, or error when the index cannot be read.")
    records: int | None = Field(description="Records in the index.")
    backend: str = Field(description="Index backend: sqlite or elasticsearch.")
    version: str = Field(description="edufed version.")


class ErrorDetail(BaseModel):
    field: str
    reason: str


class ErrorInfo(BaseModel):
    code: str = Field(
        description="Stable machine-readable code, e.g. not_found, validation_error, bad_cursor."
    )
    message: str
    details: list[ErrorDetail]


class ErrorResponse(BaseModel):
    error: ErrorInfo


class RecordResponse(Record):
    """A full record; `raw` (the platform's untouched payload) only with ?include=raw."""

    id: str = Field(description="Same as uid.")


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorResponse, "description": "Bad cursor."},
    404: {"model": ErrorResponse, "description": "Not found."},
    422: {"model": ErrorResponse, "description": "Invalid parameters; details name each field."},
    503: {"model": ErrorResponse, "description": "The index cannot be read."},
}
