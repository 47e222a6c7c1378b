"""Conditional requests: the validators (ETag, Last-Modified) a page came with, and the headers that send them back.

A page the cursor remembers is asked with If-None-Match / If-Modified-Since; a 304 answer costs no body and
means the page is as it was, so what the cursor kept of it (the links a list page gave, the record ids a detail
page gave) stands for this crawl too.
"""

from __future__ import annotations

from typing import Any

from scrapy.http import Response

NOT_MODIFIED = 304


def validators(response: Response) -> dict[str, str]:
    """The ETag and Last-Modified a response came with (only those it has)."""
    found = {}
    for key, header in (("etag", b"ETag"), ("last_modified", b"Last-Modified")):
        value = response.headers.get(header)
        if value:
            found[key] = value.decode("latin-1")
    return found


def conditional_headers(stored: dict[str, Any] | None) -> dict[str, str]:
    """If-None-Match / If-Modified-Since for a page remembered with validators; empty otherwise."""
    if not stored:
        return {}
    headers = {}
    if stored.get("etag"):
        headers["If-None-Match"] = str(stored["etag"])
    if stored.get("last_modified"):
        headers["If-Modified-Since"] = str(stored["last_modified"])
    return headers


def conditional_meta(headers: dict[str, str]) -> dict[str, Any]:
    """The request meta that lets a 304 through to the callback when the request is conditional."""
    return {"handle_httpstatus_list": [NOT_MODIFIED]} if headers else {}
