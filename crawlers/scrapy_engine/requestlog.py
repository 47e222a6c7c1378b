"""Downloader middleware beside the downloader: each exchange (retries too) becomes a request-log event."""

from __future__ import annotations

import time
from typing import Any

from scrapy import Request
from scrapy.exceptions import DownloadCancelledError, DownloadTimeoutError, IgnoreRequest
from scrapy.http import Response
from twisted.internet.error import TimeoutError as TwistedTimeoutError

from crawlers.scrapy_engine.signals import send_event


def failure_kind(exception: BaseException) -> str:
    """The Fetcher's words for a failed exchange: timeout, too large or connection."""
    if isinstance(exception, DownloadTimeoutError | TwistedTimeoutError):
        return "timeout"
    if isinstance(exception, DownloadCancelledError):
        return "too large"
    return "connection"


class RequestLogMiddleware:
    """Sends a `request` event per exchange: method, URL, status, bytes, time taken, robots decision."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> RequestLogMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        request.meta["edufed_started"] = time.monotonic()

    def process_response(self, request: Request, response: Response) -> Response:
        self._send(request, status=response.status, size=len(response.body), error=None)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if isinstance(exception, IgnoreRequest):
            return  # dropped before it went out (robots.txt, offsite): not an exchange
        self._send(request, status=None, size=0, error=f"{failure_kind(exception)}: {exception}")

    def _send(self, request: Request, *, status: int | None, size: int, error: str | None) -> None:
        started = request.meta.get("edufed_started", time.monotonic())
        send_event(
            self.crawler,
            {
                "type": "request",
                "method": request.method,
                "url": request.url,
                "status": status,
                "bytes": size,
                "elapsed_seconds": round(time.monotonic() - started, 4),
                "robots": request.meta.get("edufed_robots", "not checked"),
                "sent": True,
                "error": error,
            },
        )
