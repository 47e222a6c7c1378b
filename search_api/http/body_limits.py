"""Limits on the JSON bodies the API takes, checked before anything parses them: their size and their nesting.

Python's JSON parser, pydantic and the merge patch all recurse once per level of nesting, so a body of
`[[[[...` fifty thousand deep would end in RecursionError (a 500) wherever it is first parsed. One ASGI
middleware reads every body sent to `/api/` (the only bodies the API takes are JSON), answers 413 past
MAX_BODY_BYTES and 422 past MAX_DEPTH levels, and hands the body it read on unchanged otherwise.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from search_api.http.errors import ApiError, ProblemDetail
from search_api.http.responses import error_for

MAX_BODY_BYTES = 256 * 1024
MAX_DEPTH = 32
"""Arrays and objects inside each other: a source config needs five or six levels, nothing needs 32."""
API_PREFIX = "/api/"
_BODILESS = frozenset({"GET", "HEAD", "OPTIONS"})
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def json_depth(body: bytes, *, stop_above: int = MAX_DEPTH) -> int:
    """How deep arrays and objects nest in a JSON text (brackets inside strings do not count); the count stops
    as soon as it passes `stop_above`, so a hostile body costs one regular-expression pass at most."""
    depth = deepest = 0
    for bracket in _BRACKET.finditer(_STRING.sub(b'""', body)):
        if bracket.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > stop_above:
                break
        else:
            depth -= 1
    return deepest


def too_large() -> ApiError:
    return ApiError(413, "body_too_large", f"the request body is larger than {MAX_BODY_BYTES} bytes")


def body_problem(body: bytes) -> ApiError | None:
    """The error a request body earns before it is parsed (too large, too deep), or None."""
    if len(body) > MAX_BODY_BYTES:
        return too_large()
    if json_depth(body) > MAX_DEPTH:
        reason = f"arrays and objects are nested more than {MAX_DEPTH} levels deep"
        return ApiError(422, "validation_error", "the request body is nested too deeply",
                        [ProblemDetail("request", reason)])  # fmt: skip
    return None


class BodyLimitMiddleware:
    """Reads each API request's body (up to one byte past the limit), refuses it when too large or too deep,
    and replays it to the app otherwise."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") in _BODILESS
            or not str(scope.get("path", "")).startswith(API_PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        body, cut_off = await _read(scope, receive)
        problem = too_large() if cut_off else body_problem(body)
        if problem is not None:
            await error_for(scope, problem)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or []:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def _read(scope: Scope, receive: Receive) -> tuple[bytes, bool]:
    """The body, and whether reading stopped because it passed the limit (the body is then left unread)."""
    declared = _declared_length(scope)
    if declared is not None and declared > MAX_BODY_BYTES:
        return b"", True
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away; the app sees an empty body
            break
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return b"", True
        if not message.get("more_body", False):
            break
    return b"".join(chunks), False


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
