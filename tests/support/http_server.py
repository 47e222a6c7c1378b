"""A local HTTP server for tests: routes map to canned responses, every request is logged.

Use it as a pytest fixture (`from tests.support.http_server import http_server_fixture`, then ask for
`http_server`) or as a context manager (`with FixtureServer() as server: ...`). It binds 127.0.0.1 on a free
port in a background thread and shuts down cleanly.

    http_server.route("/api/items", json={"items": []})
    http_server.route("/api/items", query={"page": "2"}, status=500)      # more specific routes win
    http_server.route("/feed.xml", body=path.read_bytes(), content_type="application/rss+xml")
    http_server.route("/flaky", responses=[Reply(status=503), Reply(body=b"ok")])  # in turn; last repeats
    http_server.route("/slow", body=b"late", delay=5)                     # answer after 5 s (timeout tests)
    http_server.route("/feed.xml", responder=conditional(body, etag='"v1"'))  # 304 to a matching If-None-Match
    assert http_server.requests_for("/api/items")[0].query == {"page": "1"}
"""

from __future__ import annotations

import json as jsonlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest


@dataclass(frozen=True)
class Reply:
    """One canned response. `send_length=False` omits Content-Length (the body then ends at close)."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    send_length: bool = True


@dataclass(frozen=True)
class LoggedRequest:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    received_at: float

    def header(self, name: str) -> str | None:
        """A request header by case-insensitive name."""
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


Responder = Callable[[LoggedRequest], Reply]


@dataclass
class _Route:
    path: str
    query: dict[str, str]
    replies: list[Reply] | None
    responder: Responder | None
    served: int = 0

    def matches(self, request: LoggedRequest) -> bool:
        return request.path == self.path and all(request.query.get(k) == v for k, v in self.query.items())

    def next_reply(self, request: LoggedRequest) -> Reply:
        if self.responder is not None:
            return self.responder(request)
        assert self.replies
        reply = self.replies[min(self.served, len(self.replies) - 1)]
        self.served += 1
        return reply


class FixtureServer:
    """An HTTP server on 127.0.0.1 with programmable routes and a request log; unknown paths answer 404."""

    def __init__(self) -> None:
        self.requests: list[LoggedRequest] = []
        self._routes: list[_Route] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fixture-http",
            daemon=True,
        )
        self._started = False

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """Absolute URL of a path on this server."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def route(
        self,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        status: int = 200,
        body: bytes | str = b"",
        json: Any = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        send_length: bool = True,
        responses: list[Reply] | None = None,
        responder: Responder | None = None,
    ) -> None:
        """Serve `path` when every `query` parameter matches; a later route for the same match replaces it."""
        if responses is None and responder is None:
            responses = [
                _reply(
                    status=status,
                    body=body,
                    json=json,
                    content_type=content_type,
                    headers=headers,
                    delay=delay,
                    send_length=send_length,
                )
            ]
        new = _Route(path, dict(query or {}), responses, responder)
        with self._lock:
            self._routes = [r for r in self._routes if (r.path, r.query) != (new.path, new.query)]
            self._routes.append(new)

    def requests_for(self, path: str) -> list[LoggedRequest]:
        """Requests received for one path, in order."""
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def start(self) -> FixtureServer:
        if not self._started:
            self._thread.start()
            self._started = True
        return self

    def close(self) -> None:
        """Stop serving, wake delayed replies, and release the socket."""
        self._stopping.set()
        if self._started:
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()

    def __enter__(self) -> FixtureServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _answer(self, request: LoggedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            candidates = [r for r in self._routes if r.matches(request)]
            if not candidates:
                return Reply(status=404, body=b"not found", headers={"Content-Type": "text/plain"})
            # The route naming the most query parameters is the most specific.
            best = max(candidates, key=lambda r: len(r.query))
            return best.next_reply(request)

    def _wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)


def conditional(
    body: bytes,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    content_type: str = "application/octet-stream",
) -> Responder:
    """A responder that sends `body` with these validators, or 304 when the request's validators match them.

    If-None-Match wins over If-Modified-Since (RFC 9110); a date matches when it is not before Last-Modified.
    """
    validators = {k: v for k, v in (("ETag", etag), ("Last-Modified", last_modified)) if v}

    def answer(request: LoggedRequest) -> Reply:
        if _not_modified(request, etag=etag, last_modified=last_modified):
            return Reply(status=304, headers=validators)
        return Reply(body=body, headers={**validators, "Content-Type": content_type})

    return answer


def _not_modified(request: LoggedRequest, *, etag: str | None, last_modified: str | None) -> bool:
    asked_tags = request.header("If-None-Match")
    if asked_tags is not None:
        return etag is not None and (asked_tags.strip() == "*" or etag in [t.strip() for t in asked_tags.split(",")])
    asked_date = request.header("If-Modified-Since")
    if asked_date is None or last_modified is None:
        return False
    try:
        return parsedate_to_datetime(asked_date) >= parsedate_to_datetime(last_modified)
    except (TypeError, ValueError):
        return False


def _reply(
    *,
    status: int,
    body: bytes | str,
    json: Any,
    content_type: str | None,
    headers: Mapping[str, str] | None,
    delay: float,
    send_length: bool,
) -> Reply:
    all_headers = dict(headers or {})
    if json is not None:
        body = jsonlib.dumps(json, ensure_ascii=False).encode("utf-8")
        content_type = content_type or "application/json; charset=utf-8"
    if isinstance(body, str):
        body = body.encode("utf-8")
        content_type = content_type or "text/plain; charset=utf-8"
    if content_type:
        all_headers.setdefault("Content-Type", content_type)
    return Reply(status=status, body=body, headers=all_headers, delay=delay, send_length=send_length)


def _make_handler(server: FixtureServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = LoggedRequest(
                method=self.command,
                path=parts.path,
                query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                headers=dict(self.headers.items()),
                body=self.rfile.read(length) if length else b"",
                received_at=time.monotonic(),
            )
            reply = server._answer(request)
            if reply.delay:
                server._wait(reply.delay)
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.send_length:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if self.command != "HEAD" and reply.status not in (204, 304):
                    self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test); nothing to answer

        do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture(name="http_server")
def http_server_fixture() -> Iterator[FixtureServer]:
    """A started FixtureServer, closed after the test."""
    with FixtureServer() as server:
        yield server
