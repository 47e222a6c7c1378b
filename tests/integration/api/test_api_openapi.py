"""The API describes itself truthfully: OPTIONS and 405 name every method a path answers, and the OpenAPI
schema documents the bearer key, the error responses and the source bodies that clients must send."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.api.catalogue import LiveServer


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/api/v1/sources", "GET, POST"),
        ("/api/v1/sources/le_ouchn", "DELETE, GET, PATCH"),
        ("/api/v1/holds/3/approve", "POST"),
        ("/api/v1/search", "GET"),
        ("/static/site.css", "GET, HEAD"),
    ],  # fmt: skip
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


@pytest.fixture(scope="module")
def described(server: LiveServer) -> dict[str, Any]:
    """The served OpenAPI description."""
    answer = httpx.get(f"{server.url}/openapi.json", timeout=30)
    assert answer.status_code == 200
    schema: dict[str, Any] = answer.json()
    return schema


def _operations(described: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, operations in described["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", operation


KEYLESS = {"GET /api/v1/search", "GET /api/v1/suggest", "GET /api/v1/records/{record_id}", "GET /api/v1/health",
           "GET /metrics", "GET /data/"}  # fmt: skip
RATE_LIMITED = {"POST /api/v1/sources", "POST /api/v1/sources/dry-run", "PATCH /api/v1/sources/{source_id}",
                "POST /api/v1/sources/{source_id}/dry-run", "GET /data/"}  # fmt: skip
ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}


def test_every_route_needing_a_key_declares_the_bearer_scheme(described: dict[str, Any]) -> None:
    schemes = described["components"]["securitySchemes"]
    assert [(s["type"], s["scheme"]) for s in schemes.values()] == [("http", "bearer")]
    (name,) = schemes
    operations = dict(_operations(described))
    assert {op for op, found in operations.items() if found.get("security") != [{name: []}]} == KEYLESS
    assert len(operations) > len(KEYLESS) + 20  # the operator and admin routes are described at all


def test_every_error_a_route_can_answer_is_documented_with_the_shared_error_body(described: dict[str, Any]) -> None:
    for operation, found in _operations(described):
        responses = found["responses"]
        expected = {"422"} if operation not in KEYLESS else set()
        expected |= {"401", "403"} if operation not in KEYLESS else set()
        expected |= {"429"} if operation in RATE_LIMITED else set()
        expected |= {"413"} if "requestBody" in found else set()
        assert expected <= set(responses), operation
        for status, response in responses.items():
            if status.startswith(("4", "5")) and operation != "GET /api/v1/health":
                assert response["content"] == ERROR_BODY, (operation, status)
    assert "HTTPValidationError" not in json.dumps(described)  # FastAPI's own 422 body, which we never send


def _resolve(described: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = described["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return found


def test_source_create_patch_and_dry_run_bodies_have_a_real_json_schema(described: dict[str, Any]) -> None:
    paths = described["paths"]
    bodies = {op: paths[path][method]["requestBody"] for op, path, method in [
        ("create", "/api/v1/sources", "post"), ("dry-run", "/api/v1/sources/dry-run", "post"),
        ("patch", "/api/v1/sources/{source_id}", "patch")]}  # fmt: skip
    assert all(body["required"] for body in bodies.values())
    config = _resolve(described, bodies["create"]["content"]["application/json"]["schema"])
    assert bodies["dry-run"] == {**bodies["dry-run"], "content": bodies["create"]["content"]}
    kinds = {kind: _resolve(described, {"$ref": ref}) for kind, ref in config["discriminator"]["mapping"].items()}
    assert sorted(kinds) == ["html", "json_api", "oai_pmh", "rss", "sitemap", "static_catalog"]
    json_api = kinds["json_api"]
    assert {"id", "kind", "name", "platform", "url", "items_path"} <= set(json_api["required"])
    assert json_api["additionalProperties"] is False and json_api["properties"]["id"]["pattern"]
    patch = _resolve(described, bodies["patch"]["content"]["application/json"]["schema"])
    assert patch["type"] == "object" and "required" not in patch
    assert {"enabled", "url", "items_path", "schedule", "start_urls"} <= set(patch["properties"])
    assert {"type": "null"} in patch["properties"]["url"]["anyOf"]
