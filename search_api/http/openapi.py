"""The parts of the OpenAPI description FastAPI cannot derive: the source bodies' schema, the 413 of every body.

The sources API reads its bodies itself (search_api.routes.sources.json_body) so that a config is checked
kind by kind with a message per field, in English and Chinese; FastAPI therefore sees no body model.
The routes name the schema with `source_body(...)` and `install` adds the schemas, made from the same
pydantic models that validate the config, to the description's components. Every body the API takes is
size-checked before any route sees it (search_api.http.body_limits), so every operation with a body gets the 413.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from search_api.http.schemas import ERROR_MEANINGS
from search_api.services.source_checks import ADAPTER

SOURCE_CONFIG = "SourceConfig"
SOURCE_PATCH = "SourcePatch"
_REF = "#/components/schemas/{model}"


def source_body(schema: str, description: str) -> dict[str, Any]:
    """A route's `openapi_extra` declaring a required JSON body of the named component schema."""
    content = {"application/json": {"schema": {"$ref": _REF.format(model=schema)}}}
    return {"requestBody": {"required": True, "description": description, "content": content}}


def source_schemas() -> dict[str, Any]:
    """Component schemas: one per kind of source config, what they refer to, the union and the merge patch."""
    union = ADAPTER.json_schema(ref_template=_REF)
    parts: dict[str, Any] = union.pop("$defs")
    union["description"] = "A source config: `kind` says which of the kinds' schemas applies."
    kinds = {kind: ref.rsplit("/", 1)[-1] for kind, ref in union["discriminator"]["mapping"].items()}
    return {**parts, SOURCE_CONFIG: union, SOURCE_PATCH: _patch_schema(parts, kinds)}


def _patch_schema(parts: dict[str, Any], kinds: dict[str, str]) -> dict[str, Any]:
    """Any field of any kind, each nullable: a JSON merge patch the result of which must be a valid config."""
    fields: dict[str, Any] = {"kind": {"type": "string", "enum": sorted(kinds)}}
    for name in kinds.values():
        for field, schema in parts[name].get("properties", {}).items():
            fields.setdefault(field, {"anyOf": [schema, {"type": "null"}]})
    return {
        "type": "object",
        "properties": fields,
        "additionalProperties": False,
        "description": "A JSON merge patch (RFC 7396) of the source's config: the fields given replace theirs, "
        "null removes one, objects merge key by key. The patched config is validated as a whole; id and "
        'platform cannot change. `{"enabled": true}` switches the source on.',
    }


def install(app: FastAPI) -> None:
    """Make `app.openapi()` add the source schemas to the components FastAPI derives."""
    derive = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            described = derive()
            components = described.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in source_schemas().items():
                if components.setdefault(name, schema) != schema:
                    raise RuntimeError(f"two different OpenAPI schemas are named {name}")
            _document_body_limit(described)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema


def _document_body_limit(described: dict[str, Any]) -> None:
    too_large = {"description": ERROR_MEANINGS[413],
                 "content": {"application/json": {"schema": {"$ref": _REF.format(model="ErrorResponse")}}}}  # fmt: skip
    for operations in described.get("paths", {}).values():
        for operation in operations.values():
            if "requestBody" in operation:
                operation.setdefault("responses", {}).setdefault("413", too_large)
