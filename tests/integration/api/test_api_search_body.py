"""The search and suggest bodies, written by orjson in the route's thread, are the bytes FastAPI's response-model
way (validate, then pydantic's dump) writes for the same answer."""

from __future__ import annotations

import httpx
import pytest

from search_api.http.json_bodies import ModelBody
from search_api.http.schemas import SearchResponse, SuggestResponse

SEARCHES = [
    {"q": "书法", "size": 50},  # the same course on two platforms: one item with also_on
    {"q": "书法", "size": 50, "collapse": "false"},
    {"q": "书法 理财", "size": 50},  # relaxed, with missing words
    {"q": "太极拳"},  # region with a city
    {"q": "script"},  # a third-party title full of markup
    {"theme": "心理健康", "size": 5},  # browse with a next_cursor
    {"free": "false", "sort": "popular"},
    {"region": "广东", "sort": "newest"},
    {"q": "没有这个词语"},  # nothing found
]


@pytest.mark.parametrize("params", SEARCHES, ids=[str(p) for p in SEARCHES])
def test_search_body_is_what_the_response_model_would_write(client: httpx.Client, params: dict[str, object]) -> None:
    response = client.get("/api/v1/search", params=params)  # type: ignore[arg-type]
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    body = ModelBody(SearchResponse)
    assert body.pydantic_bytes(body.adapter.validate_json(response.content)) == response.content
    assert int(response.headers["content-length"]) == len(response.content)


@pytest.mark.parametrize("typed", ["书", "", "老年人智能"])
def test_suggest_body_is_what_the_response_model_would_write(client: httpx.Client, typed: str) -> None:
    response = client.get("/api/v1/suggest", params={"q": typed})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    body = ModelBody(SuggestResponse)
    assert body.pydantic_bytes(body.adapter.validate_json(response.content)) == response.content
