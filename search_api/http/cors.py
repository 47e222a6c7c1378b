"""CORS for member platforms' pages: the public search and record endpoints answer the configured origins only."""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

SHARED_PATHS = ("/api/v1/search", "/api/v1/records/")
"""What a member platform's page may call from the browser: searching and reading public records."""


class SharedApiCorsMiddleware:
    """Starlette's CORS handling on SHARED_PATHS for `origins` (GET only, no credentials); other paths untouched."""

    def __init__(self, app: ASGIApp, *, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(app, allow_origins=origins, allow_methods=["GET"], max_age=3600)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        shared = path == SHARED_PATHS[0] or path.startswith(SHARED_PATHS[1])
        await (self.cors if scope["type"] == "http" and shared else self.app)(scope, receive, send)
