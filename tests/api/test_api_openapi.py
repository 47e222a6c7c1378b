"""The API describes itself truthfully: OPTIONS and 405 name every method a path answers, and the OpenAPI
schema documents the bearer key, the error responses and the source bodies that clients must send."""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize(
    ("path", "allowed"),
    [("/api/v1/sources", "GET, POST"), ("/api/v1/sources/le_ouchn", "DELETE, GET, PATCH"),
     ("/api/v1/holds/3/approve", "POST"), ("/api/v1/search", "GET"), ("/static/site.css", "GET, HEAD")],  # fmt: skip
)
def test_options_names_the_methods_of_every_route_of_the_path(client: httpx.Client, path: str, allowed: str) -> None:
    answer = client.options(path)
    assert answer.status_code == 204, answer.text
    assert answer.headers["allow"] == allowed
    assert answer.content == b""


def test_options_on_an_unknown_path_is_404(client: httpx.Client) -> None:
    answer = client.options("/api/v1/nope")
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"


def test_a_wrong_method_on_a_shared_path_names_all_its_methods(client: httpx.Client) -> None:
    answer = client.put("/api/v1/sources", json={})
    assert answer.status_code == 405 and answer.json()["error"]["code"] == "method_not_allowed"
    assert answer.headers["allow"] == "GET, POST"
