"""Hostile request shapes get a clear 4xx in the shared error body, never a 500: numbers past what the state
database holds, JSON nested thousands deep, form posts from another site."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from search_api.http.params import MAX_ROW_ID
from search_api.routes.admin_pages import COOKIE as ADMIN_COOKIE
from search_api.routes.operator import COOKIE as OPERATOR_COOKIE
from tests.integration.operator.site import (  # noqa: F401
    OperatorSite,
    course_source,
    make_settings,
    operator_site,
    postgres_site_fixture,
)
from tests.integration.state.conftest import postgres_admin  # noqa: F401 (a fixture)
from tests.support.http_server import FixtureServer

PAST_SQLITE = 2**63  # SQLite's INTEGER is 64 bits: Python's driver raises OverflowError for this one
PAST_POSTGRES = 2**31  # PostgreSQL's INTEGER ids are 32 bits: "integer out of range"
SOURCE = "my_courses"


def _registered(site: OperatorSite, operator: httpx.Client) -> None:
    url = site.serve_courses("/courses", [])
    assert operator.post("/api/v1/sources", json=course_source(url, SOURCE)).status_code == 201


def _big_number_requests(number: int) -> list[tuple[str, str]]:
    """(method, path) of every API route taking an integer that reaches the state database."""
    return [
        ("POST", f"/api/v1/holds/{number}/approve"),
        ("POST", f"/api/v1/holds/{number}/reject"),
        ("GET", f"/api/v1/quarantine?before={number}"),
        ("GET", f"/api/v1/sources/{SOURCE}/rejected?before={number}"),
    ]


def _assert_refused_parameter(answer: httpx.Response, field: str) -> None:
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "validation_error"
    assert [d["field"] for d in error["details"]] == [field]
    assert str(MAX_ROW_ID) in error["details"][0]["reason"]


@pytest.mark.parametrize("request_index", range(4))
def test_an_id_past_sqlites_integers_is_422_naming_the_parameter(
    site: OperatorSite, operator: httpx.Client, admin: httpx.Client, request_index: int
) -> None:
    _registered(site, operator)
    method, path = _big_number_requests(PAST_SQLITE)[request_index]
    answer = admin.request(method, path)
    _assert_refused_parameter(answer, "before" if "before=" in path else "hold_id")


def test_the_hold_buttons_of_the_admin_pages_refuse_an_id_past_sqlites_integers(site: OperatorSite) -> None:
    with httpx.Client(base_url=site.url, timeout=30) as browser:
        assert browser.post("/admin/login", data={"key": site.admin_key}).status_code == 303
        form = {"csrf": ADMIN_COOKIE.csrf_token(site.admin_key), "next": "/admin"}
        answer = browser.post(f"/admin/holds/{PAST_SQLITE}/approve", data=form)
    assert answer.status_code == 422, answer.text
    assert "hold_id" in answer.text


def test_an_id_past_postgresqls_integers_is_422_and_every_route_stays_up(postgres_site: OperatorSite) -> None:
    site = postgres_site
    with site.client(site.operator_key) as operator, site.client(site.admin_key) as admin:
        _registered(site, operator)
        for method, path in _big_number_requests(PAST_POSTGRES):
            _assert_refused_parameter(admin.request(method, path), "before" if "before=" in path else "hold_id")
        for method, path in _big_number_requests(MAX_ROW_ID):  # the largest id is asked for, and not found
            assert admin.request(method, path).status_code in (200, 404), path


DEEP_ARRAY = b"[" * 50_000
DEEP_OBJECT = b'{"a":' * 50_000


def _deep_fields(levels: int) -> dict[str, object]:
    """`{"title": {"x": {"x": ...}}}`, `levels` objects deep: valid JSON the parser reads and a merge recurses into."""
    value: object = "name"
    for _ in range(levels):
        value = {"x": value}
    return {"fields": {"title": value}}


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["arrays", "objects"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/sources"),
        ("POST", "/api/v1/sources/dry-run"),
        ("PATCH", f"/api/v1/sources/{SOURCE}"),
        ("POST", "/api/v1/keys"),
    ],  # fmt: skip
)
def test_json_nested_fifty_thousand_deep_is_422_before_anything_parses_it(
    site: OperatorSite, operator: httpx.Client, admin: httpx.Client, method: str, path: str, body: bytes
) -> None:
    _registered(site, operator)
    before = site.store.sources.get(SOURCE).config
    answer = admin.request(method, path, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["message"] == "the request body is nested too deeply"
    reason = "arrays and objects are nested more than 32 levels deep"
    assert error["details"] == [{"field": "request", "reason": reason}]
    assert site.store.sources.ids() == [SOURCE] and site.store.sources.get(SOURCE).config == before


def test_a_patch_nested_deeper_than_the_merge_can_follow_changes_nothing(
    site: OperatorSite, operator: httpx.Client
) -> None:
    _registered(site, operator)
    answer = operator.patch(f"/api/v1/sources/{SOURCE}", json=_deep_fields(900))  # parses; the merge would recurse
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["message"] == "the request body is nested too deeply"
    assert operator.patch(f"/api/v1/sources/{SOURCE}", json=_deep_fields(1)).status_code == 422  # wrong, not deep
    assert operator.patch(f"/api/v1/sources/{SOURCE}", json={"name": "改名"}).json()["name"] == "改名"


def test_brackets_inside_strings_do_not_count_as_nesting(site: OperatorSite, operator: httpx.Client) -> None:
    _registered(site, operator)
    name = '"[{' * 60  # escaped quotes too: 60 levels if they ended the string
    answer = operator.patch(f"/api/v1/sources/{SOURCE}", json={"name": name})
    assert answer.status_code == 200, answer.text
    assert answer.json()["name"] == name


def test_a_body_past_the_size_limit_is_413_on_every_api_route(site: OperatorSite, admin: httpx.Client) -> None:
    big = b'{"label": "' + b"x" * 300_000 + b'"}'
    for path in ("/api/v1/keys", "/api/v1/sources"):
        answer = admin.post(path, content=big, headers={"Content-Type": "application/json"})
        assert answer.status_code == 413, answer.text
        assert answer.json()["error"]["code"] == "body_too_large"


def test_a_yaml_mapping_nested_twenty_thousand_deep_on_the_operator_form_is_shown_as_a_problem(
    site: OperatorSite,
) -> None:
    with httpx.Client(base_url=site.url, timeout=30) as browser:
        assert browser.post("/operator/login", data={"key": site.operator_key}).status_code == 303
        form = {"csrf": OPERATOR_COOKIE.csrf_token(site.operator_key), "id": "deep", "name": "深", "kind": "json_api",
                "url": "https://courses.example.edu.cn/list", "mapping": "[" * 20_000, "action": "save"}  # fmt: skip
        answer = browser.post("/operator/new", data=form)
    assert answer.status_code == 422, answer.text
    assert "嵌套超过了 32 层" in answer.text
    assert site.store.sources.ids() == []


@contextmanager
def _admin_browser(site: OperatorSite) -> Iterator[httpx.Client]:
    """A client signed in to the admin pages (the cookie), as a browser is after the sign-in form."""
    with httpx.Client(base_url=site.url, timeout=30) as browser:
        assert browser.post("/admin/login", data={"key": site.admin_key}).status_code == 303
        yield browser


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example.com"},
        {"Referer": "https://evil.example.com/page.html"},
        {"Origin": "null"},
        {"Origin": "https://evil.example.com", "Referer": "{url}/admin"},
    ],  # fmt: skip
    ids=["origin", "referer", "opaque-origin", "origin-wins-over-referer"],
)
def test_a_button_posted_from_another_site_is_refused_with_a_valid_token(
    site: OperatorSite, operator: httpx.Client, headers: dict[str, str]
) -> None:
    _registered(site, operator)
    form = {"csrf": ADMIN_COOKIE.csrf_token(site.admin_key), "next": "/admin"}
    with _admin_browser(site) as browser:
        sent = {name: value.format(url=site.url) for name, value in headers.items()}
        answer = browser.post(f"/admin/sources/{SOURCE}/pause", data=form, headers={**sent, "Accept": "text/html"})
    assert answer.status_code == 403, answer.text
    assert "从别的网站提交过来的" in answer.text
    assert not site.store.sources.get(SOURCE).paused


def test_a_sign_in_posted_from_another_site_sets_no_cookie(site: OperatorSite) -> None:
    with httpx.Client(base_url=site.url, timeout=30) as browser:
        answer = browser.post("/operator/login", data={"key": site.operator_key},
                              headers={"Origin": "https://evil.example.com"})  # fmt: skip
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "cross_site"
    assert "set-cookie" not in answer.headers


@pytest.mark.parametrize("origin", ["same", "public_url", None])
def test_a_button_posted_from_the_service_itself_or_without_origin_works(
    tmp_path: Path, http_server: FixtureServer, origin: str | None
) -> None:
    settings = make_settings(tmp_path).model_copy(deep=True)
    settings.server.public_url = "https://edufed.example.cn/"  # behind a proxy that passes Host on unchanged
    with operator_site(tmp_path, http_server, settings=settings) as site:
        with site.client(site.operator_key) as operator:
            _registered(site, operator)
        form = {"csrf": ADMIN_COOKIE.csrf_token(site.admin_key), "next": "/admin"}
        named = {"same": site.url, "public_url": "https://edufed.example.cn"}
        headers = {"Origin": named[origin]} if origin else None
        with _admin_browser(site) as browser:
            answer = browser.post(f"/admin/sources/{SOURCE}/pause", data=form, headers=headers)
        assert answer.status_code == 303 and answer.headers["location"].endswith("?done=paused"), answer.text
        assert site.store.sources.get(SOURCE).paused
