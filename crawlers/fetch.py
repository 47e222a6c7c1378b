"""The polite HTTP fetcher every source uses: honest User-Agent, robots.txt, host delay, retries, size cap."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from config.settings import HttpSettings
from crawlers.errors import (
    FetchError,
    ParseError,
    ResponseTooLargeError,
    RobotsDisallowedError,
    UrlRefusedError,
)
from crawlers.netguard import AddressPolicy, GuardedAdapter
from crawlers.robots import RobotsAnswer, RobotsCache

logger = logging.getLogger(__name__)

ALLOWED_SCHEMES = ("http", "https")
MAX_REDIRECTS = 5
CHUNK_BYTES = 64 * 1024
ROBOTS_MAX_BYTES = 512 * 1024


@dataclass
class FetchResponse:
    """A complete response: final URL, status, headers and the body bytes (empty for 304 Not Modified)."""

    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes
    elapsed_seconds: float

    @property
    def not_modified(self) -> bool:
        """True when a conditional GET found the document unchanged (HTTP 304)."""
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("ETag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("Last-Modified")

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the body: equal digests mean byte-identical documents (for servers without ETags)."""
        return hashlib.sha256(self.content).hexdigest()

    def json(self) -> Any:
        """The body as JSON; a body that is not JSON raises ParseError naming the URL."""
        try:
            return json.loads(self.content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(self.url, reason=f"not valid JSON: {exc}") from exc


@dataclass
class RequestLogEntry:
    """One attempted request, as a run report shows it."""

    method: str
    url: str
    status: int | None
    bytes: int
    elapsed_seconds: float
    robots: str
    sent: bool = True
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FetchStats:
    """Totals over a fetcher's request log."""

    requests: int = 0
    bytes: int = 0
    errors_by_status: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Fetcher:
    """Fetches http(s) URLs for one harvest run, politely; keeps a request log for the run report."""

    def __init__(
        self,
        settings: HttpSettings,
        *,
        obey_robots: bool = True,
        delay_seconds: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.delay_seconds = settings.delay_seconds if delay_seconds is None else delay_seconds
        self.log: list[RequestLogEntry] = []
        self._sleep = sleep
        self._last_request: dict[str, float] = {}
        self._host_delay: dict[str, float] = {}
        self._session = requests.Session()
        self._session.headers["User-Agent"] = settings.user_agent
        self._session.max_redirects = MAX_REDIRECTS
        guard = GuardedAdapter(AddressPolicy.from_list(settings.allow_private_hosts))
        for scheme in ALLOWED_SCHEMES:  # every connection, redirects included, goes to a checked address
            self._session.mount(f"{scheme}://", guard)
        self.robots: RobotsCache | None = (
            RobotsCache(user_agent=settings.user_agent, load=self._load_robots) if obey_robots else None
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close pooled connections."""
        self._session.close()

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResponse:
        """GET a URL; pass a stored ETag / Last-Modified to get a 304 response when nothing changed."""
        return self.request("GET", url, params=params, headers=headers, etag=etag, last_modified=last_modified)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResponse:
        """Send one request with robots.txt, delay, retries and the size cap applied; error statuses raise."""
        full_url = self._full_url(method, url, params)
        robots = self._check_robots(method, full_url)
        sent_headers = dict(headers or {})
        if etag:
            sent_headers["If-None-Match"] = etag
        if last_modified:
            sent_headers["If-Modified-Since"] = last_modified
        return self._send_with_retries(
            method,
            full_url,
            headers=sent_headers,
            json_body=json_body,
            robots=robots,
            max_bytes=self.settings.max_response_bytes,
        )

    def stats(self) -> FetchStats:
        """Requests sent, bytes received and errors counted by HTTP status (or failure kind)."""
        stats = FetchStats()
        for entry in self.log:
            if not entry.sent:
                continue
            stats.requests += 1
            stats.bytes += entry.bytes
            key = None
            if entry.status is not None and entry.status >= 400:
                key = str(entry.status)
            elif entry.status is None and entry.error:
                key = entry.error.split(":", 1)[0]
            if key:
                stats.errors_by_status[key] = stats.errors_by_status.get(key, 0) + 1
        return stats

    def _full_url(self, method: str, url: str, params: Mapping[str, Any] | None) -> str:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ALLOWED_SCHEMES or not parts.netloc:
            self.log.append(RequestLogEntry(method, url, None, 0, 0.0, "not checked", False, "refused"))
            raise UrlRefusedError(url, reason="only http and https URLs are fetched")
        prepared = requests.PreparedRequest()
        prepared.prepare_url(url, dict(params) if params else None)
        return str(prepared.url)

    def _check_robots(self, method: str, url: str) -> str:
        host = urlsplit(url).netloc
        if self.robots is None:
            self._host_delay.setdefault(host, self.delay_seconds)
            return "not checked"
        decision = self.robots.decide(url)
        crawl_delay = self.robots.crawl_delay(url) or 0.0
        self._host_delay[host] = max(self.delay_seconds, crawl_delay)
        if not decision.allowed:
            self.log.append(RequestLogEntry(method, url, None, 0, 0.0, "disallowed", False, decision.reason))
            raise RobotsDisallowedError(url, robots_url=decision.robots_url, reason=decision.reason)
        return "allowed"

    def _load_robots(self, robots_url: str) -> RobotsAnswer:
        host = urlsplit(robots_url).netloc
        self._host_delay.setdefault(host, self.delay_seconds)
        try:
            response = self._send_with_retries(
                "GET", robots_url, headers={}, json_body=None, robots="robots.txt", max_bytes=ROBOTS_MAX_BYTES
            )
        except FetchError as exc:
            if exc.status is None:
                raise  # the host itself is unreachable: report that, not a robots refusal
            return RobotsAnswer(exc.status)
        return RobotsAnswer(response.status, response.content.decode("utf-8", errors="replace"))

    def _send_with_retries(
        self, method: str, url: str, *, headers: dict[str, str], json_body: Any, robots: str, max_bytes: int
    ) -> FetchResponse:
        attempt = 0
        while True:
            self._wait_for_host(url)
            try:
                response = self._exchange(
                    method, url, headers=headers, json_body=json_body, robots=robots, max_bytes=max_bytes
                )
            except (ResponseTooLargeError, UrlRefusedError):
                raise
            except FetchError:
                if attempt >= self.settings.retries:
                    raise
                self._sleep(self.settings.backoff_seconds * 2**attempt)
                attempt += 1
                continue
            if response.status == 429 or response.status >= 500:
                if attempt >= self.settings.retries:
                    raise FetchError(url, status=response.status)
                self._sleep(self._retry_wait(response, attempt))
                attempt += 1
                continue
            if response.status >= 400:
                raise FetchError(url, status=response.status)
            return response

    def _retry_wait(self, response: FetchResponse, attempt: int) -> float:
        """Seconds to wait before retrying: the server's Retry-After if it sent one, else backoff."""
        header = response.headers.get("Retry-After")
        if header is None:
            return self.settings.backoff_seconds * 2**attempt
        wait = retry_after_seconds(header)
        if wait is None:
            return self.settings.backoff_seconds * 2**attempt
        limit = self.settings.max_retry_after_seconds
        if wait > limit:
            raise FetchError(
                response.url,
                status=response.status,
                cause="retry-after too long",
                message=f"fetching {response.url} failed: HTTP {response.status} asks to retry after "
                f"{wait:.0f} s, longer than the {limit:.0f} s limit",
            )
        return wait

    def _wait_for_host(self, url: str) -> None:
        host = urlsplit(url).netloc
        last = self._last_request.get(host)
        if last is None:
            return
        wait = self._host_delay.get(host, self.delay_seconds) - (time.monotonic() - last)
        if wait > 0:
            self._sleep(wait)

    def _exchange(
        self, method: str, url: str, *, headers: dict[str, str], json_body: Any, robots: str, max_bytes: int
    ) -> FetchResponse:
        """One HTTP exchange, logged; transport failures become FetchError."""
        started = time.monotonic()
        entry = RequestLogEntry(method, url, None, 0, 0.0, robots)
        self.log.append(entry)
        try:
            with self._transport(method, url, headers=headers, json_body=json_body) as raw:
                entry.status = raw.status_code
                body = read_capped(raw, url=url, limit=max_bytes)
                entry.bytes = len(body)
                return FetchResponse(raw.url, raw.status_code, raw.headers, body, time.monotonic() - started)
        except ResponseTooLargeError as exc:
            entry.error = f"too large: {exc}"
            raise
        except UrlRefusedError as exc:
            entry.error = f"refused: {exc.cause}"
            raise UrlRefusedError(url, reason=str(exc.cause)) from exc
        except requests.Timeout as exc:
            entry.error = f"timeout: {exc}"
            raise FetchError(
                url, cause=f"timed out after {self.settings.timeout_seconds:g} s ({type(exc).__name__})"
            ) from exc
        except requests.TooManyRedirects as exc:
            entry.error = f"redirects: {exc}"
            raise FetchError(url, cause=redirect_cause(exc)) from exc
        except requests.exceptions.ChunkedEncodingError as exc:
            entry.error = f"truncated: {exc}"
            raise FetchError(url, cause=f"truncated: the body ended before its declared length ({exc})") from exc
        except requests.RequestException as exc:
            entry.error = f"connection: {exc}"
            raise FetchError(url, cause=f"{type(exc).__name__}: {exc}") from exc
        finally:
            entry.elapsed_seconds = time.monotonic() - started
            self._last_request[urlsplit(url).netloc] = time.monotonic()
            logger.debug("%s %s -> %s (%d bytes, robots %s)", method, url, entry.status, entry.bytes, robots)

    @contextmanager
    def _transport(
        self, method: str, url: str, *, headers: dict[str, str], json_body: Any
    ) -> Iterator[requests.Response]:
        response = self._session.request(
            method, url, headers=headers, json=json_body, timeout=self.settings.timeout_seconds, stream=True
        )
        try:
            yield response
        finally:
            response.close()


def redirect_cause(exc: requests.TooManyRedirects) -> str:
    """What a run says of a redirect chain that never ends: a loop (named up to its first repeat) or too many hops."""
    response = exc.response
    if response is None:
        return f"too many redirects: {exc}"
    chain = [hop.url for hop in response.history] + [response.url]
    location = response.headers.get("Location")
    if location:
        chain.append(urljoin(response.url, location))
    seen: set[str] = set()
    for position, url in enumerate(chain):
        if url in seen:
            return "redirect loop: " + " -> ".join(chain[chain.index(url) : position + 1])
        seen.add(url)
    return f"too many redirects ({len(chain) - 1} hops): " + " -> ".join(chain)


def read_capped(response: requests.Response, *, url: str, limit: int) -> bytes:
    """Read a streamed body, stopping with ResponseTooLargeError as soon as it passes `limit` bytes."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ResponseTooLargeError(url, limit=limit, status=response.status_code)
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_content(CHUNK_BYTES):
        total += len(chunk)
        if total > limit:
            raise ResponseTooLargeError(url, limit=limit, status=response.status_code)
        chunks.append(chunk)
    return b"".join(chunks)


def retry_after_seconds(value: str, *, now: datetime | None = None) -> float | None:
    """A Retry-After header (delay seconds or an HTTP date) as seconds from now; None if unreadable."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
