"""Serve the hand-written feeds in tests/data/rss on a FixtureServer, with matching rss source configs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from config.source_models import RssSourceConfig
from tests.support.http_server import FixtureServer

RSS_DIR = Path(__file__).resolve().parent.parent / "data" / "rss"


def expected_cases() -> list[str]:
    """Names of every `<case>.expected.json` in tests/data/rss."""
    return sorted(p.name for p in RSS_DIR.glob("*.expected.json"))


def load_case(name: str) -> dict[str, Any]:
    return dict(json.loads((RSS_DIR / name).read_text(encoding="utf-8")))


def rss_config(server: FixtureServer, *, path: str = "/feed", **overrides: Any) -> RssSourceConfig:
    """An rss source reading `path` on `server`; any field can be overridden."""
    values: dict[str, Any] = {
        "id": "test_feed",
        "kind": "rss",
        "name": "测试订阅源",
        "platform": "test_platform",
        "platform_name": "测试学习平台",
        "url": server.url(path),
    }
    values.update(overrides)
    return RssSourceConfig.model_validate(values)


def serve_feed(
    server: FixtureServer, feed: str, *, path: str = "/feed", content_type: str = "application/rss+xml"
) -> None:
    """Serve the bytes of tests/data/rss/<feed> at `path`."""
    server.route(path, body=(RSS_DIR / feed).read_bytes(), content_type=content_type)
