"""JSON bodies a route writes itself, byte for byte as FastAPI writes the route's response model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from pydantic import BaseModel, TypeAdapter
from starlette.responses import Response


class ModelBody:
    """The JSON writer of one response model, for a route whose body is built as a dict in the model's shape.

    FastAPI checks what a route returns against its `response_model` and dumps it with pydantic (compact, UTF-8,
    the model's field order), and for a plain-function route does that in one more worker-thread round trip. A
    route that returns `response(body)` instead gets the same bytes written in its own thread by orjson, which
    escapes as pydantic does, without re-validating a body its own code shaped (a search page's every hit). The
    route keeps its `response_model`, which documents the body in OpenAPI; `pydantic_bytes` is FastAPI's way, which
    the tests hold `response` to (tests/integration/api/test_api_search_body.py).
    """

    def __init__(self, model: type[BaseModel]) -> None:
        self.adapter: TypeAdapter[Any] = TypeAdapter(model)

    def response(self, body: Mapping[str, Any]) -> Response:
        """A 200 response of `body`: the keys the model declares, in its order, with values of its types."""
        return Response(orjson.dumps(body), media_type="application/json")

    def pydantic_bytes(self, body: Mapping[str, Any]) -> bytes:
        """`body` checked against the model and dumped by pydantic, as FastAPI would answer it."""
        return self.adapter.dump_json(self.adapter.validate_python(body))
