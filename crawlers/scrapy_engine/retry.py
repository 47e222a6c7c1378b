"""Downloader middleware: Scrapy's retries, waiting as Retry-After asks (bounded) or backing off."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import reactor
from twisted.internet.task import deferLater

from crawlers.fetch import retry_after_seconds

logger = logging.getLogger(__name__)

RETRY_AFTER_STATUSES = frozenset({429, 503})


class RetryAfterMiddleware(RetryMiddleware):
    """Retries like RetryMiddleware, but first waits: Retry-After on 429/503, else exponential backoff.

    A Retry-After longer than EDUFED_MAX_RETRY_AFTER is not waited for: the response goes on as a failure,
    with `edufed_retry_after` in its meta so the spider can say why.
    """

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.max_retry_after = settings.getfloat("EDUFED_MAX_RETRY_AFTER", 120.0)
        self.backoff = settings.getfloat("EDUFED_BACKOFF", 1.0)

    # Scrapy awaits coroutine middleware methods; the base class's are plain functions, hence the ignores.
    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        wait = self._backoff(request)
        header = response.headers.get(b"Retry-After")
        if response.status in RETRY_AFTER_STATUSES and header:
            asked = retry_after_seconds(header.decode("latin-1"))
            if asked is not None and asked > self.max_retry_after:
                request.meta["edufed_retry_after"] = asked
                logger.warning("%s asks to retry after %.0f s; not waiting that long", request.url, asked)
                return response
            wait = asked if asked is not None else wait
        retry = self._retry(request, f"HTTP {response.status}")
        if retry is None:
            return response
        await self._sleep(wait)
        return retry

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception
    ) -> Request | Response | None:
        retry = super().process_exception(request=request, exception=exception)
        if isinstance(retry, Request):
            await self._sleep(self._backoff(request))
        return retry

    def _backoff(self, request: Request) -> float:
        return float(self.backoff * 2 ** request.meta.get("retry_times", 0))

    async def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            await maybe_deferred_to_future(deferLater(reactor, seconds))  # type: ignore[arg-type]
