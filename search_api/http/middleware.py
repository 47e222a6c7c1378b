"""ASGI middleware: a last-resort 500 in the shared error body, and security headers on every response."""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from search_api.http.errors import ApiError
from search_api.http.responses import error_for

logger = logging.getLogger(__name__)

# Pages use no scripts at all; /docs (Swagger UI) loads its own, so it gets no policy.
PAGE_POLICY = (
    "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
]
_UNPOLICED = ("/docs", "/redoc")


class GuardMiddleware:
    """Turns an unhandled exception into a generic 500 (logged, never shown) and adds security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        path = str(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                headers += _COMMON_HEADERS
                has_policy = any(name.lower() == b"content-security-policy" for name, _ in headers)
                if not path.startswith(_UNPOLICED) and not has_policy:  # a route may set its own (/embed)
                    headers.append((b"content-security-policy", PAGE_POLICY.encode("ascii")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            logger.exception("unhandled error answering %s %s", scope.get("method"), path)
            if started:
                raise
            error = ApiError(500, "internal_error", "internal error; the problem has been logged")
            response = error_for(scope, error)
            await response(scope, receive, send_with_headers)
