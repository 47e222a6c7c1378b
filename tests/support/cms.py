"""Serve the crawled-site fixtures (tests/data/cms: lnjyw, shequ, caea; tests/data/sitemap), and configs."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import yaml

from config.source_models import HtmlSourceConfig, SitemapSourceConfig
from tests.support.http_server import FixtureServer

DATA = Path(__file__).resolve().parent.parent / "data"
CMS_DIR = DATA / "cms"
SITEMAP_DIR = DATA / "sitemap"


def with_base(value: Any, base_url: str) -> Any:
    """A copy of expected data with every BASE_URL placeholder replaced by the server's base URL."""
    return json.loads(json.dumps(value, ensure_ascii=False).replace("BASE_URL", base_url))


def cms_expected(site: str) -> dict[str, Any]:
    """tests/data/cms/expected.json for one site (lnjyw, shequ, caea)."""
    return dict(json.loads((CMS_DIR / "expected.json").read_text(encoding="utf-8"))[site])


def serve_cms(server: FixtureServer, site: str) -> None:
    """Route one CMS site's pages (bytes as stored: GBK where the real site is) under its real paths."""
    want = cms_expected(site)
    for path, name in want["routes"].items():
        content_type = "text/plain" if name.endswith(".txt") else want["content_type"]
        server.route(path, body=(CMS_DIR / name).read_bytes(), content_type=content_type)


def cms_config(server: FixtureServer, site: str, **overrides: Any) -> HtmlSourceConfig:
    """tests/data/cms/<site>.yaml pointed at `server`, with top-level keys overridden."""
    text = (CMS_DIR / f"{site}.yaml").read_text(encoding="utf-8").replace("BASE_URL", server.base_url)
    data = yaml.safe_load(text)
    data.update(overrides)
    return HtmlSourceConfig.model_validate(data)


def sitemap_expected(server: FixtureServer) -> dict[str, Any]:
    """tests/data/sitemap/expected.json with BASE_URL filled in for `server`."""
    raw = json.loads((SITEMAP_DIR / "expected.json").read_text(encoding="utf-8"))
    return dict(with_base(raw, server.base_url))


def serve_sitemap_site(server: FixtureServer) -> None:
    """Route the sitemap site: robots.txt, the index, a plain and a gzip sitemap, and the pages."""
    routes = json.loads((SITEMAP_DIR / "expected.json").read_text(encoding="utf-8"))["routes"]
    for path, (name, content_type) in routes.items():
        body = (SITEMAP_DIR / name).read_bytes().replace(b"BASE_URL", server.base_url.encode("ascii"))
        if path.endswith(".gz"):
            body = gzip.compress(body)
        server.route(path, body=body, content_type=content_type)


def sitemap_config(server: FixtureServer, **overrides: Any) -> SitemapSourceConfig:
    """A sitemap source for the fixture site on `server`."""
    values: dict[str, Any] = {
        "id": "city_lll",
        "kind": "sitemap",
        "name": "某市终身学习网 课程",
        "platform": "city_lll",
        "platform_name": "某市终身学习网",
        "url": server.url("/sitemap_index.xml"),
    }
    values.update(overrides)
    return SitemapSourceConfig.model_validate(values)
