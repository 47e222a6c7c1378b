"""JSON bodies a route writes itself, byte for byte as FastAPI writes a route's response model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, TypeAdapter
from starlette.responses import Response


class ModelBody:
    """The JSON writer of one response model: a body is checked against the model and dumped by pydantic, as
    FastAPI does with what a route returns (compact, UTF-8, the model's field order), but in the caller's thread.

    A plain-function route that returns a dict has FastAPI validate it in one more worker-thread round trip; a
    route that returns this Response skips that (its `response_model` still documents the body in OpenAPI).
    """

    def __init__(self, model: type[BaseModel]) -> None:
        self._adapter: TypeAdapter[Any] = TypeAdapter(model)

    def response(self, body: Mapping[str, Any]) -> Response:
        """A 200 response of `body`, which must hold what the model requires (pydantic's error otherwise)."""
        value = self._adapter.validate_python(body)
        return Response(self._adapter.dump_json(value), media_type="application/json")
