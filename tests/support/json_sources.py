"""The small json_api source configs the harvest tests read from a fixture server."""

from __future__ import annotations

from typing import Any

from config.source_models import JsonApiSourceConfig
from tests.support.http_server import FixtureServer


def json_api_config(server: FixtureServer, path: str = "/items", **overrides: Any) -> JsonApiSourceConfig:
    """A json_api source of `{"data": {"items": [{"id", "name"}, ...]}}` at `path`; `overrides` change any field."""
    values: dict[str, Any] = {
        "id": "small_api",
        "kind": "json_api",
        "name": "测试接口",
        "platform": "test_platform",
        "platform_name": "测试平台",
        "url": server.url(path),
        "items_path": "data.items",
        "id_field": "id",
        "url_template": "https://example.edu.cn/course/{id}",
        "fields": {"title": "name"},
    }
    values.update(overrides)
    return JsonApiSourceConfig.model_validate(values)
