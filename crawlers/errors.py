"""Errors raised while harvesting a source.

HarvestError
 +-- FetchError                 an HTTP request failed (carries url, status, cause)
 |    +-- UrlRefusedError       the URL is not http(s), so it is never requested
 |    +-- RobotsDisallowedError robots.txt forbids the URL, so it is never requested
 |    +-- ResponseTooLargeError the body exceeded the configured size cap (carries the limit)
 +-- ParseError                 a fetched document cannot be understood (carries url, reason)
 +-- SourceConfigError          a source's configuration cannot be harvested (carries source id, reason)
"""

from __future__ import annotations


class HarvestError(Exception):
    """Base of every harvester error."""


class FetchError(HarvestError):
    """An HTTP request failed: a connection error, a timeout, or an error status after retries."""

    def __init__(
        self, url: str, *, status: int | None = None, cause: str | None = None, message: str | None = None
    ) -> None:
        self.url = url
        self.status = status
        self.cause = cause
        if message is None:
            what = f"HTTP {status}" if status is not None else (cause or "request failed")
            message = f"fetching {url} failed: {what}"
        super().__init__(message)


class UrlRefusedError(FetchError):
    """The URL's scheme is not http or https."""

    def __init__(self, url: str, *, reason: str) -> None:
        super().__init__(url, cause=reason, message=f"refusing to fetch {url!r}: {reason}")


class RobotsDisallowedError(FetchError):
    """The host's robots.txt forbids this URL for our User-Agent."""

    def __init__(self, url: str, *, robots_url: str, reason: str = "disallowed by robots.txt") -> None:
        self.robots_url = robots_url
        super().__init__(url, cause=reason, message=f"not fetching {url}: {reason} ({robots_url})")


class ResponseTooLargeError(FetchError):
    """The response body is larger than the size cap; reading stopped at the cap."""

    def __init__(self, url: str, *, limit: int, status: int | None = None) -> None:
        self.limit = limit
        super().__init__(
            url,
            status=status,
            cause="response too large",
            message=f"response from {url} is larger than the {limit}-byte cap; stopped reading",
        )


class ParseError(HarvestError):
    """A fetched document cannot be parsed (malformed JSON, not a feed, unexpected shape)."""

    def __init__(self, url: str, *, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"cannot parse {url}: {reason}")


class SourceConfigError(HarvestError):
    """A source configuration cannot be harvested (unknown kind, a template naming a missing field)."""

    def __init__(self, source_id: str, *, reason: str) -> None:
        self.source_id = source_id
        self.reason = reason
        super().__init__(f"source {source_id!r}: {reason}")
