"""The search route reads a plain query string without FastAPI's per-field validation (quick_search_params):
every answer it gives is the one the route's declared parameters give for the same query string, byte for byte,
and what those refuse is still FastAPI's 422."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest
from starlette.datastructures import QueryParams

from search_api.http.params import quick_search_params

PLAIN = [
    [("q", "书法")],
    [("q", "书法"), ("q", "太极")],  # a repeated single-valued parameter counts by its last value
    [("q", "  书法  "), ("size", "5"), ("page", "2")],
    [("q", "书法"), ("page", "007")],
    [("q", "书法"), ("size", "50"), ("collapse", "false")],
    [("q", "书法"), ("collapse", " FALSE ")],
    [("theme", "心理健康"), ("theme", ""), ("theme", "心理健康"), ("size", "5")],
    [("free", " false "), ("sort", "popular")],
    [("free", "")],
    [("region", "广东"), ("region", "广东省"), ("sort", "newest")],
    [("platform", "lndx"), ("type", "course"), ("media_type", "video"), ("audience", "老年人")],
    [("q", "")],
    [],
    [("q", "书法"), ("cursor", "")],
    # refused by the route's own checks, the same way on both paths
    [("q", "书法"), ("size", "0")],
    [("q", "书法"), ("page", "0")],
    [("q", "书法"), ("page", "999999999")],
    [("theme", "没有这个主题"), ("free", "maybe"), ("platform", "Not-An-Id")],
    [("q", "书法"), ("cursor", "%%%")],
    [("q", "x" * 300)],
]
"""Query strings quick_search_params reads."""


def _get(client: httpx.Client, params: list[tuple[str, str]]) -> httpx.Response:
    return client.get("/api/v1/search?" + urlencode(params))


REFUSED_BY_FASTAPI = [
    [("page", "two")],
    [("size", "")],
    [("page", "-1")],
    [("sort", "best")],
    [("sort", "")],
    [("size", "٣")],  # an Arabic-Indic digit
]
"""Query strings quick_search_params leaves to FastAPI's declared parameters, which refuse them (422)."""


def test_a_number_pydantic_reads_loosely_is_left_to_it(client: httpx.Client) -> None:
    params = [("q", "书法"), ("page", "2.0")]  # pydantic's int from "2.0" is 2
    assert quick_search_params(QueryParams(urlencode(params))) is None
    assert _get(client, params).content == _get(client, [("q", "书法"), ("page", "2")]).content


@pytest.mark.parametrize("params", PLAIN, ids=[urlencode(p)[:60] for p in PLAIN])
def test_a_plain_query_string_is_answered_as_the_declared_parameters_answer_it(
    client: httpx.Client, params: list[tuple[str, str]]
) -> None:
    declared = [*params, ("utm_source", "x")]  # a name the route does not declare: FastAPI's parameters read it
    assert quick_search_params(QueryParams(urlencode(params))) is not None
    assert quick_search_params(QueryParams(urlencode(declared))) is None
    quick, full = _get(client, params), _get(client, declared)
    assert (quick.status_code, quick.headers.get("content-type")) == (full.status_code, full.headers["content-type"])
    assert quick.content == full.content


@pytest.mark.parametrize("params", REFUSED_BY_FASTAPI, ids=[urlencode(p) for p in REFUSED_BY_FASTAPI])
def test_what_fastapi_refuses_is_its_422(client: httpx.Client, params: list[tuple[str, str]]) -> None:
    assert quick_search_params(QueryParams(urlencode(params))) is None
    response = _get(client, params)
    assert response.status_code == 422
    assert response.content == _get(client, [*params, ("utm_source", "x")]).content
