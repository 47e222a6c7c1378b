"""A loopback HTTP server for the quality corpus's platform payloads (bench/quality/platforms.py routes)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from bench.quality.platforms import Routes

# Query parameters that pick a page: the JSON APIs' page numbers, the OAI verb and resumption token.
PAGE_KEYS = ("PageNum", "Page", "resumptionToken", "verb")


def route_key(path: str, query: dict[str, str]) -> str:
    """The routes key of a request: the path, then `?` and the page it asks for (when it asks for one)."""
    for key in PAGE_KEYS:
        if key in query:
            return f"{path}?{query[key]}"
    return path


@contextmanager
def serve(routes: Routes) -> Iterator[str]:
    """Serve `routes` on 127.0.0.1 (a free port) in a thread; yields the base URL; `BASE_URL` in bodies is it."""
    bodies: dict[str, tuple[bytes, str]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server hook name
            parts = urlsplit(self.path)
            found = bodies.get(route_key(parts.path, dict(parse_qsl(parts.query))))
            body, ctype = found if found else (b"not found", "text/plain")
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the hook's own signature
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    bodies.update({key: (body.replace(b"BASE_URL", base_url.encode()), ctype) for key, (body, ctype) in routes.items()})
    thread = threading.Thread(target=server.serve_forever, name="quality-platforms", daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
