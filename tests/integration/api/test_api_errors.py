"""Every error answers with one body, the right status and no internals; bad input never causes a 500."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import httpx
import pytest

from config.themes import THEMES
from indexer.backends.base import SearchQuery, SearchResult, UpsertResult
from indexer.backends.sqlite import SqliteBackend
from indexer.record import Record
from search_api.app import create_app
from tests.integration.api.catalogue import live_server, settings_for


def assert_error(response: httpx.Response, *, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def fields_of(error: dict) -> set[str]:
    return {d["field"] for d in error["details"]}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": "0"}, "page"),
        ({"page": "-3"}, "page"),
        ({"page": str(10**30)}, "page"),
        ({"page": "abc"}, "page"),
        ({"page": "1.5"}, "page"),
        ({"size": "-1"}, "size"),
        ({"size": "0"}, "size"),
        ({"size": "51"}, "size"),
        ({"size": "99999999999999999999999"}, "size"),
        ({"q": "a" * 10_000}, "q"),
        ({"q": "书" * 5_000}, "q"),
        ({"sort": "random"}, "sort"),
        ({"free": "maybe"}, "free"),
        ({"type": "podcast"}, "type"),
        ({"media_type": "hologram"}, "media_type"),
        ({"platform": "../../etc/passwd"}, "platform"),
        ({"audience": "老" * 500}, "audience"),
    ],
)
def test_invalid_search_parameters_are_422_naming_the_field(client: httpx.Client, params: dict, field: str) -> None:
    error = assert_error(client.get("/api/v1/search", params=params), status=422, code="validation_error")
    assert field in fields_of(error)


def test_unknown_theme_is_422_listing_the_ten_themes(client: httpx.Client) -> None:
    error = assert_error(client.get("/api/v1/search", params={"theme": "烹饪"}), status=422, code="validation_error")
    [detail] = error["details"]
    assert detail["field"] == "theme"
    assert all(theme in detail["reason"] for theme in THEMES)


def test_too_deep_page_points_to_the_cursor(client: httpx.Client) -> None:
    error = assert_error(client.get("/api/v1/search", params={"page": "101"}), status=422, code="validation_error")
    assert "cursor" in error["details"][0]["reason"]


def test_several_bad_parameters_are_reported_together(client: httpx.Client) -> None:
    error = assert_error(
        client.get("/api/v1/search", params={"size": "0", "theme": "x", "page": "0"}),
        status=422,
        code="validation_error",
    )
    assert fields_of(error) == {"size", "theme", "page"}


def _cursor(body: dict) -> str:
    raw = json.dumps(body).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "%%%",
        "x" * 5000,
        _cursor({"v": 1, "s": "newest", "k": "a", "u": "x"}),
        _cursor({"v": 9, "s": "newest", "k": 1, "u": "x"}),
        _cursor([1, 2, 3]),
    ],
)
def test_bad_cursor_is_400(client: httpx.Client, cursor: str) -> None:
    error = assert_error(client.get("/api/v1/search", params={"cursor": cursor}), status=400, code="bad_cursor")
    assert fields_of(error) == {"cursor"}


def test_cursor_from_another_sort_is_400(client: httpx.Client) -> None:
    cursor = client.get("/api/v1/search", params={"sort": "popular", "size": 2}).json()["next_cursor"]
    response = client.get("/api/v1/search", params={"sort": "newest", "cursor": cursor})
    assert_error(response, status=400, code="bad_cursor")


@pytest.mark.parametrize(
    "query",
    [
        "q=%00",
        "q=%00%01%02书法",
        "q=%FF%FE%FD",
        "q=%E4%B9",
        "q=%C0%AF",
        'q="AND OR NEAR(',
        "q=*",
        "q=^书法",
        "q=title:书法",
        "q=-书法 OR",
        "q=' OR 1=1 --",
        "q=)))(((",
        "q=%ED%A0%80",
        "theme=&platform=&free=",
        "q=书法&q=太极",
    ],
)
def test_odd_query_text_is_answered_not_crashed(client: httpx.Client, query: str) -> None:
    response = client.get("/api/v1/search?" + query)
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["total"], int)


def test_query_of_exactly_the_limit_is_accepted(client: httpx.Client) -> None:
    assert client.get("/api/v1/search", params={"q": "书" * 100}).status_code == 200


def test_unknown_record_is_404_with_the_error_body(client: httpx.Client) -> None:
    error = assert_error(client.get("/api/v1/records/le_ouchn:nope"), status=404, code="not_found")
    assert error["details"] == [{"field": "id", "reason": "le_ouchn:nope"}]


@pytest.mark.parametrize("path", ["/api/v1/records/%FF%FE", "/api/v1/records/" + "x" * 5000, "/api/v1/records/a/b"])
def test_odd_record_ids_are_404(client: httpx.Client, path: str) -> None:
    assert_error(client.get(path), status=404, code="not_found")


def test_unknown_include_is_422(client: httpx.Client) -> None:
    response = client.get("/api/v1/records/le_ouchn:1", params={"include": "secrets"})
    assert "include" in fields_of(assert_error(response, status=422, code="validation_error"))


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v2/search", "/nope"])
def test_unknown_route_is_404_with_the_error_body(client: httpx.Client, path: str) -> None:
    assert_error(client.get(path, headers={"Accept": "application/json"}), status=404, code="not_found")


def test_wrong_method_is_405_with_allow_header(client: httpx.Client) -> None:
    response = client.post("/api/v1/search", json={})
    assert_error(response, status=405, code="method_not_allowed")
    assert response.headers["allow"] == "GET"


@pytest.mark.parametrize(("params", "field"), [({"q": "x" * 5000}, "q"), ({"q": "书", "limit": "0"}, "limit"),
                                               ({"q": "书", "limit": "x"}, "limit")])  # fmt: skip
def test_invalid_suggest_parameters_are_422(client: httpx.Client, params: dict, field: str) -> None:
    error = assert_error(client.get("/api/v1/suggest", params=params), status=422, code="validation_error")
    assert field in fields_of(error)


class ExplodingBackend:
    """An index whose reads fail with an unexpected error (as a bug in a backend would)."""

    SECRET = "secret-internal-detail /srv/edufed/index.sqlite3"

    def search(self, query: SearchQuery) -> SearchResult:
        raise RuntimeError(self.SECRET)

    def get(self, uid: str) -> Record | None:
        raise RuntimeError(self.SECRET)

    def count(self, source: str | None = None) -> int:
        return 0

    def suggest(self, prefix: str, limit: int = 8) -> list[str]:
        raise RuntimeError(self.SECRET)

    def upsert(self, records: Iterable[Record]) -> UpsertResult:
        raise RuntimeError(self.SECRET)

    def withdraw(self, uids: Iterable[str]) -> int:
        raise RuntimeError(self.SECRET)

    def withdraw_source(self, source: str) -> int:
        raise RuntimeError(self.SECRET)

    def content_hashes(self, source: str) -> dict[str, str]:
        return {}

    def iter_records(self, source: str | None = None) -> Iterator[Record]:
        return iter(())

    def close(self) -> None:
        return None


def test_unexpected_error_is_a_generic_500_without_internals(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(settings=settings_for(tmp_path), backend=ExplodingBackend())
    with live_server(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        api = http.get("/api/v1/search", params={"q": "书法"})
        page = http.get("/", params={"q": "书法"})
    error = assert_error(api, status=500, code="internal_error")
    assert error["details"] == []
    for response in (api, page):
        assert ExplodingBackend.SECRET not in response.text and "Traceback" not in response.text
    assert page.status_code == 500 and "网站出了点问题" in page.text
    assert ExplodingBackend.SECRET in caplog.text  # logged for the operator, not shown to the client


def test_unreadable_index_is_503_and_health_says_error(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "index.sqlite3")
    backend.close()  # every read now fails with IndexBackendError
    app = create_app(settings=settings_for(tmp_path), backend=backend)
    with live_server(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        search = http.get("/api/v1/search", params={"q": "书法"})
        health = http.get("/api/v1/health")
    assert_error(search, status=503, code="index_unavailable")
    assert str(tmp_path) not in search.text
    assert health.status_code == 503 and health.json()["status"] == "error"
