"""An edufed over a given index on a loopback port, with a public URL and a sitemap child size of the test's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from config.loader import load_settings
from indexer.backends.base import IndexBackend
from search_api.app import create_app
from tests.integration.api.catalogue import live_server

PUBLIC = "https://learn.example.cn"


@contextmanager
def serve_site(
    data_dir: Path, *, backend: IndexBackend, public_url: str | None = PUBLIC, per_child: int | None = None,
    per_minute: int = 100_000,
) -> Iterator[str]:  # fmt: skip
    """The base URL of an edufed serving `backend` (its feeds, sitemaps and pages)."""
    environ = {"EDUFED_DATA_DIR": str(data_dir), "EDUFED_OAI__REQUESTS_PER_MINUTE": str(per_minute)}
    if public_url:
        environ["EDUFED_SERVER__PUBLIC_URL"] = public_url
    app = create_app(settings=load_settings(environ=environ), backend=backend)
    if per_child is not None:
        app.state.sitemap_urls_per_child = per_child
    with live_server(app) as server:
        yield server.url
