"""The bundled demo platforms: a loopback HTTP server shaped like le.ouchn.cn's API and a GBK CMS feed."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.error import URLError
from urllib.parse import parse_qs, unquote, urlsplit
from urllib.request import urlopen

import yaml

from config.errors import ConfigError, ConfigProblem
from config.loader import validate
from config.source_models import SourceConfig, SourcesFile
from crawlers.demo import render
from crawlers.demo.content import DemoCatalogue, load_catalogue

logger = logging.getLogger(__name__)

SOURCES_FILE = Path(__file__).resolve().parent / "sources.yaml"
BASE_URL_PLACEHOLDER = "{base_url}"
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
KNOWN_CHANNELS = ("", "education")
ROBOTS_TXT = b"User-agent: *\nAllow: /\n"
JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
GBK_HTML_TYPE = f"text/html; charset={render.FEED_ENCODING}"
IDENTITY_PATH = "/edufed-demo.json"
"""Where running demo platforms say what they are, so a second process can harvest them instead of starting its own."""
IDENTITY_SERVICE = "edufed-demo-platforms"
IDENTITY_TIMEOUT_SECONDS = 2.0
DETAILS_PATH = re.compile(r"^/le/api/Course/([^/]+)/MicroCourse/Details$")
COURSE_PAGE_PATH = re.compile(r"^/le/courseDetails/([^/]+)$")
ARTICLE_PATH = re.compile(r"^/shequ/Pages/Recomend/\d{4}/\d{2}/\d{2}/[^/]+\.htm$")


@dataclass
class Reply:
    """One response: status, body, content type and the optional Last-Modified of the document."""

    status: int
    body: bytes
    content_type: str
    last_modified: datetime | None = None
    headers: dict[str, str] = field(default_factory=dict)


class _BadRequest(Exception):
    """A query parameter has a value the API cannot use."""


def _positive_int(query: dict[str, list[str]], name: str, default: int) -> int:
    values = query.get(name)
    if not values or values[-1] == "":
        return default
    text = values[-1].strip()
    if not text.isdigit() or int(text) < 1:
        raise _BadRequest(f"{name} must be a positive integer, got {values[-1]!r}")
    return int(text)


class DemoRoutes:
    """Maps a request path and query to a Reply; pure, so it needs no socket to be understood."""

    def __init__(self, catalogue: DemoCatalogue, base_url: str) -> None:
        self.catalogue = catalogue
        self.base_url = base_url
        self._exact: dict[str, Callable[[dict[str, list[str]]], Reply]] = {
            "/": lambda q: Reply(200, render.index_page(), HTML_TYPE),
            "/robots.txt": lambda q: Reply(200, ROBOTS_TXT, "text/plain; charset=utf-8"),
            "/le/api/Course/Paging": self._paging,
            "/le/home": lambda q: Reply(200, render.course_list_page(catalogue), HTML_TYPE),
            "/shequ/": lambda q: Reply(200, render.article_list_page(catalogue), GBK_HTML_TYPE, catalogue.last_updated),
            "/shequ/rss.xml": self._feed,
            IDENTITY_PATH: lambda q: Reply(200, self._identity(), JSON_TYPE),
        }

    def _identity(self) -> bytes:
        body = {"service": IDENTITY_SERVICE, "catalogue": self.catalogue.fingerprint}
        return json.dumps(body).encode("utf-8")

    def answer(self, path: str, query: dict[str, list[str]]) -> Reply:
        """The reply for a GET of `path` (already URL-decoded) with its parsed query."""
        exact = self._exact.get(path)
        if exact is not None:
            return exact(query)
        match = DETAILS_PATH.match(path)
        if match:
            return self._details(match.group(1))
        match = COURSE_PAGE_PATH.match(path)
        if match:
            return self._course_page(match.group(1))
        if ARTICLE_PATH.match(path):
            return self._article(path)
        return Reply(404, render.html_page("未找到", "<h1>404 未找到该页面</h1>"), HTML_TYPE)

    def _paging(self, query: dict[str, list[str]]) -> Reply:
        try:
            number = _positive_int(query, "PageNum", 1)
            size = min(_positive_int(query, "PageSize", DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
        except _BadRequest as exc:
            return Reply(400, render.error_body(str(exc)), JSON_TYPE)
        channel = (query.get("ChannelId") or [""])[-1]
        if channel not in KNOWN_CHANNELS:
            return Reply(200, render.paging_body([], 0), JSON_TYPE)
        items, count = self.catalogue.page(number, size)
        return Reply(200, render.paging_body(items, count), JSON_TYPE)

    def _details(self, course_id: str) -> Reply:
        course = self.catalogue.course(course_id)
        if course is None:
            # The real platform answers a bad id with HTTP 500 (PLATFORMS.md 1.1).
            return Reply(500, render.error_body(f"course {course_id} does not exist"), JSON_TYPE)
        return Reply(200, render.details_body(course), JSON_TYPE)

    def _course_page(self, course_id: str) -> Reply:
        course = self.catalogue.course(course_id)
        if course is None:
            return Reply(404, render.html_page("未找到", "<h1>没有这门课程</h1>"), HTML_TYPE)
        return Reply(200, render.course_page(course), HTML_TYPE)

    def _article(self, path: str) -> Reply:
        item = self.catalogue.item_at(path)
        if item is None:
            return Reply(404, render.html_page("未找到", "<h1>404 未找到该页面</h1>"), HTML_TYPE)
        return Reply(200, render.article_page(item), GBK_HTML_TYPE, item.published)

    def _feed(self, query: dict[str, list[str]]) -> Reply:
        body = render.rss_body(self.catalogue, self.base_url)
        content_type = f"application/rss+xml; charset={render.FEED_ENCODING}"
        return Reply(200, body, content_type, self.catalogue.last_updated)


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:20] + '"'


def not_modified(reply: Reply, *, if_none_match: str | None, if_modified_since: str | None) -> bool:
    """Whether a conditional GET may be answered 304: the ETag matches, or (without one) nothing is newer."""
    if if_none_match is not None:
        wanted = {tag.strip() for tag in if_none_match.split(",")}
        return "*" in wanted or _etag(reply.body) in wanted
    if if_modified_since is None or reply.last_modified is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        return False
    return reply.last_modified.replace(microsecond=0) <= since


class _DemoRequestHandler(BaseHTTPRequestHandler):
    """Serves GET and HEAD from the server's DemoRoutes; logs through `logging`, not stderr."""

    server: _DemoHTTPServer
    protocol_version = "HTTP/1.0"
    server_version = "edufed-demo/0.1"

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _serve(self, *, send_body: bool) -> None:
        parts = urlsplit(self.path)
        try:
            query = parse_qs(parts.query, keep_blank_values=True)
            reply = self.server.routes.answer(unquote(parts.path), query)
        except Exception:  # one broken route must not take the demo down; the request gets a 500
            logger.exception("demo platforms: error answering %s", self.path)
            reply = Reply(500, render.error_body("internal error"), JSON_TYPE)
        headers = {"Content-Type": reply.content_type, **reply.headers}
        if reply.status == 200:
            headers["ETag"] = _etag(reply.body)
            if reply.last_modified is not None:
                headers["Last-Modified"] = format_datetime(reply.last_modified.astimezone(UTC), usegmt=True)
            if not_modified(
                reply,
                if_none_match=self.headers.get("If-None-Match"),
                if_modified_since=self.headers.get("If-Modified-Since"),
            ):
                reply = Reply(304, b"", reply.content_type)
        self.send_response(reply.status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if send_body and reply.body:
            self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("demo platforms: %s %s", self.address_string(), format % args)


class _DemoHTTPServer(ThreadingHTTPServer):
    """A threaded server that carries the routes and logs connection errors instead of printing them."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], routes_for: Callable[[str], DemoRoutes]) -> None:
        super().__init__(address, _DemoRequestHandler)
        host, port = self.server_address[:2]
        self.base_url = f"http://{_url_host(str(host))}:{port}"
        self.routes = routes_for(self.base_url)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("demo platforms: connection from %s failed", client_address, exc_info=True)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class DemoPlatforms:
    """The demo platforms on a loopback port, served from a daemon thread.

    with DemoPlatforms() as demo:          # or: base = demo.start(); ...; demo.stop()
        sources = demo_sources(demo.base_url)
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, catalogue: DemoCatalogue | None = None) -> None:
        self.host = host
        self.port = port
        self.catalogue = catalogue or load_catalogue()
        self._server: _DemoHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._joined: str | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        """http://host:port of the running server (no trailing slash); RuntimeError before start()."""
        if self._joined is not None:
            return self._joined
        if self._server is None:
            raise RuntimeError("the demo platforms are not running; call start() first")
        return self._server.base_url

    @property
    def joined(self) -> bool:
        """True when another process's demo platforms answer at `base_url` (see start_or_join)."""
        return self._joined is not None

    def start_or_join(self) -> str:
        """Start serving on the chosen port, or, when that port is taken by demo platforms serving this same
        catalogue (e.g. `edufed serve --demo`'s), use theirs: records harvested either way link to one address
        that outlives this process. Raises OSError when the port is taken by anything else."""
        try:
            return self.start()
        except OSError:
            if not self.port:
                raise
            origin = f"http://{_url_host(self.host)}:{self.port}"
            if not self._same_catalogue_at(origin):
                raise
            with self._lock:
                self._joined = origin
            logger.info("demo platforms of another process answer on %s; using them", origin)
            return origin

    def _same_catalogue_at(self, origin: str) -> bool:
        try:
            with urlopen(origin + IDENTITY_PATH, timeout=IDENTITY_TIMEOUT_SECONDS) as reply:
                identity = json.loads(reply.read(4096))
        except (OSError, URLError, ValueError):
            return False
        return (
            isinstance(identity, dict)
            and identity.get("service") == IDENTITY_SERVICE
            and identity.get("catalogue") == self.catalogue.fingerprint
        )

    def start(self) -> str:
        """Bind and start serving (once); returns the base URL (the joined platforms' after start_or_join)."""
        with self._lock:
            if self._joined is not None:
                return self._joined
            if self._server is None:
                server = _DemoHTTPServer((self.host, self.port), self._routes)
                self._thread = threading.Thread(
                    target=server.serve_forever,
                    kwargs={"poll_interval": 0.05},
                    name="edufed-demo",
                    daemon=True,
                )
                self._server = server
                self._thread.start()
                logger.info("demo platforms serving on %s", server.base_url)
            return self._server.base_url

    def _routes(self, base_url: str) -> DemoRoutes:
        return DemoRoutes(self.catalogue, base_url)

    def stop(self) -> None:
        """Stop serving and release the socket (or let go of joined platforms); safe to call twice."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
            self._joined = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=10)
        logger.info("demo platforms stopped")

    def __enter__(self) -> DemoPlatforms:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _fill(node: Any, base_url: str) -> Any:
    if isinstance(node, str):
        return node.replace(BASE_URL_PLACEHOLDER, base_url)
    if isinstance(node, list):
        return [_fill(value, base_url) for value in node]
    if isinstance(node, dict):
        return {key: _fill(value, base_url) for key, value in node.items()}
    return node


def demo_sources(base_url: str, *, path: Path = SOURCES_FILE) -> list[SourceConfig]:
    """The sources that harvest the demo platforms at `base_url` (e.g. DemoPlatforms.start()'s answer).

    Every `{base_url}` in sources.yaml is replaced, then the result is validated like any sources file;
    a base URL that is not a plain http(s) origin, or an invalid file, raises ConfigError.
    """
    origin = f"{path} (base_url={base_url!r})"
    parts = urlsplit(base_url.rstrip("/"))
    origin_only = not (parts.path or parts.query or parts.fragment or "{" in base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or not origin_only:
        problem = ConfigProblem("base_url", "must be an http(s) origin like http://127.0.0.1:8765")
        raise ConfigError(origin, [problem])
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(origin, [ConfigProblem("(file)", f"cannot read: {exc}")]) from exc
    if not isinstance(data, dict):
        raise ConfigError(origin, [ConfigProblem("(top level)", "must be a mapping with a `sources` list")])
    return validate(SourcesFile, _fill(data, base_url.rstrip("/")), origin).sources
