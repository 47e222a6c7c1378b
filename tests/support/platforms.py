"""The shipped sources (config/sources.yaml) against fixture servers shaped like their real platforms.

`rebase` points a shipped source's fetched URLs at a fixture server, keeping paths and queries; `serve_platform`
routes that platform's payloads (tests/data/platforms/expected.json says which file answers which real path).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from config.source_models import SourceBase
from tests.support.http_server import FixtureServer

DATA = Path(__file__).resolve().parent.parent / "data"
PLATFORMS_DIR = DATA / "platforms"
# Where a source kind keeps URLs it fetches; everything else holding a URL (url_template, headers) is left alone,
# so record links and Referers keep naming the real platform.
FETCHED_URLS = ("url", "base_url", "version_url")
FETCHED_URL_LISTS = ("start_urls", "detail_urls")
KEPT_URLS = frozenset({"url_template", "headers"})

Config = TypeVar("Config", bound=SourceBase)


def moved(url: str, base_url: str) -> str:
    """`url` with its scheme and host replaced by those of `base_url` (path, query and fragment kept)."""
    parts, base = urlsplit(url), urlsplit(base_url)
    return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, parts.fragment))


def rebase(config: Config, base_url: str) -> Config:
    """A copy of a shipped source that fetches from `base_url`; the host pause is dropped for the fixture.

    Part files of a static catalogue may live on the fixture's host only, as the version index does.
    """
    data = config.model_dump(mode="json")
    for key in FETCHED_URLS:
        if key in data:
            data[key] = moved(data[key], base_url)
    for key in FETCHED_URL_LISTS:
        if key in data:
            data[key] = [moved(url, base_url) for url in data[key]]
    if (data.get("detail") or {}).get("url_template"):  # json_api's detail request (an html detail block has none)
        data["detail"]["url_template"] = moved(data["detail"]["url_template"], base_url)
    if data.get("part_hosts"):
        data["part_hosts"] = [urlsplit(base_url).hostname]
    data["delay_seconds"] = 0.0
    return type(config).model_validate(data)


def foreign_urls(value: Any, base_url: str, *, at: str = "") -> list[str]:
    """Dotted paths of the URLs in a dumped config that do not point at `base_url` (outside KEPT_URLS)."""
    if isinstance(value, dict):
        return [
            found
            for key, item in value.items()
            if key not in KEPT_URLS
            for found in foreign_urls(item, base_url, at=f"{at}.{key}" if at else str(key))
        ]
    if isinstance(value, list):
        return [found for i, item in enumerate(value) for found in foreign_urls(item, base_url, at=f"{at}.{i}")]
    if isinstance(value, str) and "://" in value and urlsplit(value).netloc != urlsplit(base_url).netloc:
        return [at]
    return []


def expectations() -> dict[str, dict[str, Any]]:
    """tests/data/platforms/expected.json: per shipped source id, its routes, requests and records."""
    data = json.loads((PLATFORMS_DIR / "expected.json").read_text(encoding="utf-8"))
    return {key: value for key, value in data.items() if not key.startswith("_")}


def serve_platform(server: FixtureServer, routes: dict[str, list[str]]) -> None:
    """Route `path[?query]` -> [file under tests/data, content type]; BASE_URL in a file becomes the server's."""
    for target, (name, content_type) in routes.items():
        path, _, query = target.partition("?")
        body = (DATA / name).read_bytes().replace(b"BASE_URL", server.base_url.encode("ascii"))
        server.route(path, query=dict(parse_qsl(query)), body=body, content_type=content_type)
