"""Scrapy settings for one crawl, derived from edufed's HTTP settings and the source's politeness options."""

from __future__ import annotations

from typing import Any

from config.settings import HttpSettings
from config.source_models import CrawlSourceBase

RETRY_STATUSES = [429, 500, 502, 503, 504, 522, 524, 408]
_ENGINE = "crawlers.scrapy_engine"

# Scrapy's own robots.txt and retry middlewares are replaced by ours (same slots in the chain): ours follow
# RFC 9309 like crawlers.robots does, and honour Retry-After.
DOWNLOADER_MIDDLEWARES: dict[str, int | None] = {
    f"{_ENGINE}.guard.AddressGuardMiddleware": 50,  # SSRF guard: before robots.txt, redirects come back here
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    f"{_ENGINE}.robots.RobotsMiddleware": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    f"{_ENGINE}.retry.RetryAfterMiddleware": 550,
    f"{_ENGINE}.requestlog.RequestLogMiddleware": 950,
}


def scrapy_settings(
    source: CrawlSourceBase, *, http: HttpSettings, obey_robots: bool, delay_seconds: float
) -> dict[str, Any]:
    """The settings dict for the crawl of `source`; a zero delay turns AutoThrottle off (tests, previews)."""
    return {
        "BOT_NAME": "edufed",
        "USER_AGENT": http.user_agent,
        "ROBOTSTXT_OBEY": obey_robots,
        "EDUFED_MAX_RETRY_AFTER": http.max_retry_after_seconds,
        "EDUFED_BACKOFF": http.backoff_seconds,
        "EDUFED_ALLOW_PRIVATE_HOSTS": list(http.allow_private_hosts),
        "TWISTED_DNS_RESOLVER": f"{_ENGINE}.guard.GuardedResolver",
        "AUTOTHROTTLE_ENABLED": delay_seconds > 0,
        "AUTOTHROTTLE_START_DELAY": max(delay_seconds, 0.1),
        "AUTOTHROTTLE_MAX_DELAY": max(60.0, delay_seconds),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "DOWNLOAD_DELAY": delay_seconds,
        "DOWNLOAD_DELAY_JITTER": 0.5 if delay_seconds > 0 else 0.0,
        "CONCURRENT_REQUESTS": max(4, source.concurrency),
        "CONCURRENT_REQUESTS_PER_DOMAIN": source.concurrency,
        "DOWNLOAD_TIMEOUT": http.timeout_seconds,
        "DOWNLOAD_MAXSIZE": http.max_response_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": http.retries,
        "RETRY_HTTP_CODES": RETRY_STATUSES,
        "REDIRECT_MAX_TIMES": 5,
        "DOWNLOADER_MIDDLEWARES": DOWNLOADER_MIDDLEWARES,
        "HTTPCACHE_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "COOKIES_ENABLED": False,  # no session needed; keeps the public-suffix lookup off
        "MEMUSAGE_ENABLED": False,
        "LOGSTATS_INTERVAL": 0,
        "STATS_DUMP": False,
        "LOG_ENABLED": False,  # the child entry point logs to stderr itself; the parent relays it
        "LOG_LEVEL": "WARNING",
        "LOG_INSTALL_ROOT_HANDLER": False,
        "DEPTH_LIMIT": 0,
        "DUPEFILTER_DEBUG": False,
    }
