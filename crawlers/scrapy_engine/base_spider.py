"""What every edufed spider shares: events, page budget, host checks, failures as our errors."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import CloseSpider, DownloadCancelledError, IgnoreRequest, ResponseDataLossError
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.defer import deferred_from_coro
from twisted.python.failure import Failure

from config.source_models import CrawlSourceBase
from crawlers.errors import (
    FetchError,
    HarvestError,
    ParseError,
    ResponseTooLargeError,
    RobotsDisallowedError,
    SourceConfigError,
)
from crawlers.scrapy_engine.requestlog import failure_kind
from crawlers.scrapy_engine.robots import RobotsForbiddenError
from crawlers.scrapy_engine.signals import send_event

logger = logging.getLogger(__name__)

Callback = Callable[..., Any]
# A page that answers these is gone from the site, not missed by this crawl.
GONE_STATUSES = frozenset({404, 410})


def check_patterns(source_id: str, patterns: dict[str, str | None]) -> None:
    """Raise SourceConfigError naming the first configured regular expression that does not compile."""
    for name, pattern in patterns.items():
        if pattern is None:
            continue
        try:
            re.compile(pattern)
        except re.error as exc:
            raise SourceConfigError(source_id, reason=f"{name} is not a valid regular expression: {exc}") from exc


def request_of(failure: Failure) -> scrapy.Request | None:
    """The request a failure belongs to (download errors carry it; HTTP errors carry their response)."""
    request = getattr(failure, "request", None)
    if request is None:
        response = getattr(failure.value, "response", None)
        request = getattr(response, "request", None)
    return request if isinstance(request, scrapy.Request) else None


class EngineSpider(scrapy.Spider):
    """Base of the crawl spiders: `config` is the source config, `fatal` the error that ended the crawl.

    How complete the crawl was decides what the run may conclude: `cut` (a budget stopped the listing) leaves
    no cursor; `holes` (pages that failed for a reason that may pass: 5xx, timeout, a parse bug) make the
    listing partial, so records missing from it are not taken for gone. A page that answers 404/410 is gone
    and no hole; robots.txt refusals are no holes either (those pages are never harvested), nor warnings: the
    site asked for exactly that, and the run notes them from the request log.

    Every page is requested once per crawl (`requested`); requests skip Scrapy's duplicate filter, which would
    drop a page redirected back to itself without a word: a redirect loop runs into REDIRECT_MAX_TIMES and
    fails its page like any other error.
    """

    config: CrawlSourceBase

    def __init__(
        self,
        *,
        config: CrawlSourceBase,
        cursor: dict[str, Any] | None = None,
        plan: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=f"edufed_{config.id}", **kwargs)
        self.config = config
        self.stored: dict[str, Any] = dict(cursor or {})
        self.plan: dict[str, Any] = dict(plan or {})
        self.fatal: HarvestError | None = None
        self.counts: dict[str, int] = {}
        self.pages_requested = 0
        self.cut = False
        self.holes: dict[str, Any] = {}
        self.requested: set[str] = set()
        self.hosts = {urlsplit(url).netloc.lower() for url in self.configured_urls()}

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> EngineSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.page_broken, signal=signals.spider_error)
        assert isinstance(spider, EngineSpider)
        return spider

    @classmethod
    def check(cls, config: CrawlSourceBase) -> None:
        """Raise SourceConfigError when the config cannot be crawled (checked before Scrapy starts)."""

    def configured_urls(self) -> list[str]:
        """The URLs in the config that the crawl starts from (their hosts are the ones crawled)."""
        raise NotImplementedError

    def count(self, what: str, by: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + by

    def warn(self, message: str, *, counted_as: str | None = None) -> None:
        if counted_as:
            self.count(counted_as)
        send_event(self.crawler, {"type": "warning", "message": message})

    def reject(self, reason: str, *, source_id: str | None = None, payload: Any = None) -> None:
        self.count("rejected")
        send_event(self.crawler, {"type": "problem", "reason": reason, "source_id": source_id, "payload": payload})

    def fail(self, error: HarvestError) -> None:
        """End the crawl because the source cannot be harvested (a listing page failed)."""
        self._failed(error)
        raise CloseSpider("failed")

    def _failed(self, error: HarvestError) -> None:
        if self.fatal is None:
            self.fatal = error
            logger.warning("crawl of %s failed: %s", self.config.id, error)

    def page_request(self, url: str, callback: Callback, *, listing: bool, **kwargs: Any) -> Iterator[scrapy.Request]:
        """A request for a page on a crawled host within the page budget; otherwise a warning and nothing.

        A `listing` page (sitemap, list page) that fails fails the crawl; any other page only its item.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.netloc.lower() not in self.hosts:
            self.warn(
                f"link {url} leaves the crawled host(s) {sorted(self.hosts)}; not followed",
                counted_as="offsite",
            )
            return
        if self.pages_requested >= self.config.max_pages:
            self.cut = True
            if not self.counts.get("page_budget_reached"):
                self.warn(
                    f"stopped at max_pages={self.config.max_pages}; the site may have more",
                    counted_as="page_budget_reached",
                )
            return
        if url in self.requested:  # listed twice (or pagination came back round): one request is enough
            return
        self.requested.add(url)
        self.pages_requested += 1
        errback = self.listing_failed if listing else self.page_failed
        meta = {**kwargs.pop("meta", {}), "edufed_url": url, "edufed_listing": listing}
        yield scrapy.Request(url, callback=callback, errback=errback, meta=meta, dont_filter=True, **kwargs)

    def listing_failed(self, failure: Failure) -> None:
        """A listing page that could not be fetched fails the crawl.

        The spider is closed rather than CloseSpider raised: Scrapy logs the download error of an errback that
        raises (whatever it raises) with its whole traceback, where the warning above already says it all.
        """
        self._failed(self.harvest_error(failure))
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="failed"))

    def page_failed(self, failure: Failure) -> None:
        error = self.harvest_error(failure)
        if isinstance(error, RobotsDisallowedError):
            self.count("robots_disallowed")  # the run notes it from the request log: no warning, no hole
            return
        request = request_of(failure)
        source_id = request.meta.get("edufed_source_id") if request is not None else None
        self.reject(f"page not harvested: {error}", source_id=source_id)
        if not (isinstance(error, FetchError) and error.status in GONE_STATUSES):
            self.hole(request.meta if request is not None else {"edufed_url": getattr(error, "url", "?")})

    def page_broken(self, failure: Failure, response: Any, **_: Any) -> None:
        """A callback raised (the emitter reports the problem): a listing page fails the crawl, a page is a hole."""
        meta = response.meta if response is not None and response.request is not None else {}
        url = str(meta.get("edufed_url") or getattr(response, "url", "?"))
        if meta.get("edufed_listing"):
            if self.fatal is None:
                self.fatal = ParseError(url, reason=f"listing page could not be parsed ({failure.value!r})")
            return
        self.hole(meta or {"edufed_url": url})

    def hole(self, meta: Any) -> None:
        """Remember a page this crawl could not harvest (keyed by the URL it was listed as)."""
        self.count("holes")
        self.holes[str(meta.get("edufed_url"))] = meta.get("edufed_sitemap")

    def harvest_error(self, failure: Failure) -> HarvestError:
        """The edufed error for a failed request, with the data the Fetcher would have given."""
        exc = failure.value
        request = request_of(failure)
        url = request.url if request is not None else str(getattr(exc, "url", ""))
        if isinstance(exc, RobotsForbiddenError):
            return RobotsDisallowedError(exc.url, robots_url=exc.robots_url, reason=exc.reason)
        if isinstance(exc, HttpError):
            return self._http_error(exc)
        if isinstance(exc, DownloadCancelledError):
            return ResponseTooLargeError(url, limit=self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
        if isinstance(exc, IgnoreRequest):
            return self._dropped(exc, request, url=url)
        if isinstance(exc, ResponseDataLossError):
            return FetchError(url, cause="the body ended before the length its Content-Length header gave (truncated)")
        kind = failure_kind(exc)
        if kind == "timeout":
            limit = self.crawler.settings.getfloat("DOWNLOAD_TIMEOUT")
            return FetchError(url, cause=f"timed out after {limit:g} s ({type(exc).__name__})")
        return FetchError(url, cause=f"{type(exc).__name__}: {exc}")

    def _dropped(self, exc: IgnoreRequest, request: scrapy.Request | None, *, url: str) -> FetchError:
        """A request dropped on its way: a redirect loop (or chain too long) says so, with the chain."""
        chain = [*request.meta.get("redirect_urls", []), request.url] if request is not None else []
        if "redirection" not in str(exc) or not chain:
            return FetchError(url, cause=f"request dropped: {exc}")
        shown: list[str] = []
        for hop in chain:  # up to the first page asked for twice
            shown.append(hop)
            if shown.count(hop) > 1:
                what = "redirect loop"
                break
        else:
            what = f"more than {self.crawler.settings.getint('REDIRECT_MAX_TIMES')} redirects"
        return FetchError(chain[0], cause=f"{what}: {' -> '.join(shown)}")

    def _http_error(self, exc: HttpError) -> FetchError:
        response = exc.response
        asked = response.meta.get("edufed_retry_after") if response.request is not None else None
        if asked is None:
            return FetchError(response.url, status=response.status)
        limit = self.crawler.settings.getfloat("EDUFED_MAX_RETRY_AFTER")
        return FetchError(
            response.url,
            status=response.status,
            cause="retry-after too long",
            message=f"fetching {response.url} failed: HTTP {response.status} asks to retry after "
            f"{asked:.0f} s, longer than the {limit:.0f} s limit",
        )

    def cursor(self) -> dict[str, Any] | None:
        """What the next run may start from, after a crawl that finished; None when a budget cut the listing."""
        return None if self.cut else {}

    def scope(self) -> str:
        """What the records of a finished crawl cover: "full" when every listed page was harvested."""
        return "incremental" if self.holes else "full"

    def notes(self) -> list[str]:
        """Lines for the run report about what this crawl skipped or could not vouch for."""
        if not self.holes:
            return []
        count = len(self.holes)
        return [f"{count} page{'' if count == 1 else 's'} could not be harvested (see problems): a partial listing"]
