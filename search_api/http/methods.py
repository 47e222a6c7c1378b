"""Which HTTP methods a URL answers, from every route that matches it: the reply to OPTIONS, the Allow of a 405.

Starlette answers OPTIONS and wrong methods from the first route whose path matches, so a path that several
routes share (GET and POST /api/v1/sources) would claim to allow only the first route's method.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import fastapi.routing
from starlette.responses import Response
from starlette.routing import Mount, compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

# Recent FastAPI keeps an included router as one route and walks into it with this; older versions put
# every route of every included router into app.routes.
_WALK_INCLUDED: Any = getattr(fastapi.routing, "iter_route_contexts", None)
_STATIC_METHODS = frozenset({"GET", "HEAD"})


def _routes(routes: Iterable[Any]) -> Iterator[tuple[str, frozenset[str]]]:
    """(path, methods) of every route, the routes of included routers too; a mount's path ends in '/'."""
    for route in _WALK_INCLUDED(list(routes)) if _WALK_INCLUDED is not None else routes:
        if isinstance(getattr(route, "original_route", route), Mount):
            yield str(route.path).rstrip("/") + "/", _STATIC_METHODS  # the only mount is the static files
        elif route.path and route.methods:
            yield route.path, frozenset(route.methods)


def allowed_methods(app: Any, path: str) -> list[str]:
    """The methods of every route of `app` whose path matches `path`, sorted; empty when none matches."""
    found: set[str] = set()
    for pattern, methods in _routes(getattr(app, "routes", ())):
        if pattern.endswith("/") and pattern != "/":
            matched = path.startswith(pattern)
        else:
            matched = compile_path(pattern)[0].match(path) is not None
        if matched:
            found |= methods
    return sorted(found)


def allow_header(app: Any, path: str) -> str:
    """The Allow header value for `path`."""
    return ", ".join(allowed_methods(app, path))


class OptionsMiddleware:
    """Answers OPTIONS for any path a route matches with 204 and the methods of all its routes in Allow."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "OPTIONS":
            methods = allowed_methods(scope.get("app"), str(scope.get("path", "")))
            if methods and "OPTIONS" not in methods:
                await Response(status_code=204, headers={"Allow": ", ".join(methods)})(scope, receive, send)
                return
        await self.app(scope, receive, send)
