"""Downloader middleware: robots.txt asked before each request, with the rules of crawlers.robots (RFC 9309).

Scrapy's own RobotsTxtMiddleware lets everything through when robots.txt answers 5xx; edufed's Fetcher
allows nothing then, and this middleware keeps the two engines alike by reusing crawlers.robots.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from crawlers.robots import RobotsAnswer, RobotsCache, robots_url_for
from crawlers.scrapy_engine.signals import send_event

logger = logging.getLogger(__name__)

ROBOTS_MAX_BYTES = 512 * 1024


class RobotsForbiddenError(IgnoreRequest):
    """robots.txt forbids a URL, so it was never requested (carries url, robots_url, reason)."""

    def __init__(self, url: str, *, robots_url: str, reason: str) -> None:
        self.url = url
        self.robots_url = robots_url
        self.reason = reason
        super().__init__(f"not fetching {url}: {reason} ({robots_url})")


class RobotsMiddleware:
    """Fetches each host's robots.txt once (before the host's first request) and drops disallowed requests."""

    def __init__(self, crawler: Any) -> None:
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured
        self.crawler = crawler
        self._answers: dict[str, RobotsAnswer] = {}
        self._loading: dict[str, Deferred[None]] = {}
        self._cache = RobotsCache(user_agent=crawler.settings["USER_AGENT"], load=self._answers.__getitem__)

    @classmethod
    def from_crawler(cls, crawler: Any) -> RobotsMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        if request.meta.get("dont_obey_robotstxt"):
            return
        robots_url = robots_url_for(request.url)
        while robots_url not in self._answers:  # a failed load raises in its own request; others retry it
            await self._load(robots_url)
        decision = self._cache.decide(request.url)
        if not decision.allowed:
            self.crawler.stats.inc_value("robotstxt/forbidden")
            send_event(
                self.crawler,
                {
                    "type": "request",
                    "method": request.method,
                    "url": request.url,
                    "status": None,
                    "bytes": 0,
                    "elapsed_seconds": 0.0,
                    "robots": "disallowed",
                    "sent": False,
                    "error": decision.reason,
                },
            )
            raise RobotsForbiddenError(request.url, robots_url=decision.robots_url, reason=decision.reason)
        request.meta["edufed_robots"] = "allowed"

    async def _load(self, robots_url: str) -> None:
        pending = self._loading.get(robots_url)
        if pending is not None:  # another request of this host is loading it already
            await maybe_deferred_to_future(pending)
            return
        pending = self._loading[robots_url] = Deferred()
        try:
            self._answers[robots_url] = await self._fetch(robots_url)
        finally:
            del self._loading[robots_url]
            pending.callback(None)

    async def _fetch(self, robots_url: str) -> RobotsAnswer:
        request = Request(
            robots_url,
            priority=1000,
            callback=NO_CALLBACK,
            meta={
                "dont_obey_robotstxt": True,
                "edufed_robots": "robots.txt",
                "download_maxsize": ROBOTS_MAX_BYTES,
            },
        )
        response = await self.crawler.engine.download_async(request)  # a dead host raises: the request fails
        logger.debug("robots.txt %s answered %s", robots_url, response.status)
        return RobotsAnswer(response.status, response.body.decode("utf-8", errors="replace"))
