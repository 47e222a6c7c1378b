"""What the machine-read public endpoints (feeds, sitemaps, robots.txt) share: public URLs, a per-address
request budget for anonymous clients, and conditional GET (ETag / Last-Modified answered with 304)."""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from fastapi import Request
from starlette.responses import Response

from search_api.http.errors import ApiError
from search_api.http.ratelimit import SlidingWindow
from search_api.http.responses import error_for

CACHE_CONTROL = "public, max-age=300"
"""Feeds and sitemaps change with harvests, a few times a day: five minutes of caching costs readers little."""


def public_base(request: Request) -> str:
    """The public base URL without a trailing slash: `server.public_url` when set, else the request's."""
    public = request.app.state.settings.server.public_url
    return str(public or request.base_url).rstrip("/")


def refused(request: Request) -> Response | None:
    """Count one request of the client's address; a 429 with Retry-After past its per-minute budget, else None.

    The budget is the OAI-PMH one (`oai.requests_per_minute`), in a window of its own: feed readers and
    crawlers harvest as OAI-PMH clients do, and one figure is simpler for operators than two.
    """
    state: Any = request.app.state
    window = getattr(state, "harvest_window", None)
    if window is None:
        window = state.harvest_window = SlidingWindow(state.settings.oai.requests_per_minute, 60.0)
    wait = window.take(request.client.host if request.client else "unknown")
    if wait is None:
        return None
    seconds = max(1, math.ceil(wait))
    error = ApiError(429, "rate_limited", f"too many feed or sitemap requests from this address; retry in {seconds} s")
    return error_for(request.scope, error, headers={"Retry-After": str(seconds)})


def conditional(request: Request, body: bytes, *, media_type: str, last_modified: datetime) -> Response:
    """`body` with its ETag and Last-Modified, or an empty 304 when the client already holds this version.

    If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2); the ETag is a digest of the body, so it
    changes exactly when the document does.
    """
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    moment = last_modified.astimezone(UTC).replace(microsecond=0)
    headers = {"ETag": etag, "Last-Modified": format_datetime(moment, usegmt=True), "Cache-Control": CACHE_CONTROL}
    if _not_modified(request, etag=etag, moment=moment):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def _not_modified(request: Request, *, etag: str, moment: datetime) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    since = request.headers.get("if-modified-since")
    if since is None:
        return False
    try:
        held = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False  # an unreadable date is ignored, as RFC 9110 13.1.3 asks
    if held.tzinfo is None:
        held = held.replace(tzinfo=UTC)
    return moment <= held
