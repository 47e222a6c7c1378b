"""The SSRF guard in the crawl engine: every request (redirects, links followed) checked, resolved names pinned.

`AddressGuardMiddleware` resolves each request's host before it goes out and drops it when an address is not
public (crawlers.netguard has the rules); `GuardedResolver` checks the address Scrapy's own DNS lookup gives
the connection, so a name that resolves differently the second time (DNS rebinding) is refused there too.
"""

from __future__ import annotations

import logging
import socket
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.resolver import CachingThreadedResolver
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import threads
from twisted.internet.error import DNSLookupError

from crawlers.errors import UrlRefusedError
from crawlers.netguard import AddressPolicy
from crawlers.scrapy_engine.signals import send_event

logger = logging.getLogger(__name__)

ALLOW_SETTING = "EDUFED_ALLOW_PRIVATE_HOSTS"
_PORTS = {"http": 80, "https": 443}


class AddressRefusedError(IgnoreRequest):
    """A request's host resolves to an address edufed never fetches from (carries url and reason)."""

    def __init__(self, url: str, *, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"refusing to fetch {url}: {reason}")


def policy_of(settings: Any) -> AddressPolicy:
    """The address policy of a crawl's settings."""
    return AddressPolicy.from_list(settings.getlist(ALLOW_SETTING))


class AddressGuardMiddleware:
    """Downloader middleware (first in the chain): resolves and checks the host of every request."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.policy = policy_of(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler: Any) -> AddressGuardMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        port = parts.port or _PORTS.get(parts.scheme, 80)
        try:
            await maybe_deferred_to_future(threads.deferToThread(self.policy.pick, parts.hostname or "", port))
        except socket.gaierror:
            return  # an unknown name fails in the download itself, as a connection error
        except UrlRefusedError as exc:
            reason = str(exc.cause)
            send_event(self.crawler, {"type": "request", "method": request.method, "url": request.url,
                                      "status": None, "bytes": 0, "elapsed_seconds": 0.0, "robots": "not checked",
                                      "sent": False, "error": f"refused: {reason}"})  # fmt: skip
            raise AddressRefusedError(request.url, reason=reason) from exc


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's caching DNS resolver, refusing names that resolve to non-public addresses."""

    policy: AddressPolicy = AddressPolicy()

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GuardedResolver:
        resolver = super().from_crawler(crawler, reactor)
        resolver.policy = policy_of(crawler.settings)
        return resolver

    def getHostByName(self, name: str, timeout: Any = ()) -> Any:  # noqa: N802 (Twisted's name)
        looked_up = super().getHostByName(name, timeout)
        looked_up.addCallback(self._checked, name)
        return looked_up

    def _checked(self, address: str, name: str) -> str:
        reason = self.policy.refusal(host=name, address=address, port=None)
        if reason is not None:
            logger.warning("refused to connect to %s: %s", name, reason)
            raise DNSLookupError(f"{name}: {reason}")
        return address
