"""Serve the hand-written smartedu NDR catalogues of tests/data/smartedu on a FixtureServer, with config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from config.source_models import StaticCatalogSourceConfig
from tests.support.http_server import FixtureServer, LoggedRequest, Reply, Responder

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "smartedu"
RESOURCES = "/zxx/ndrs/special_edu/resources"
VERSION_PATH = f"{RESOURCES}/version/data_version.json"


def part_path(name: str) -> str:
    return f"{RESOURCES}/{name}"


def _with_base(text: str, server: FixtureServer) -> str:
    return text.replace("BASE_URL", server.base_url)


def expected(version: str, server: FixtureServer) -> dict[str, Any]:
    """tests/data/smartedu/<version>/expected.json with BASE_URL pointed at `server`."""
    text = (DATA_DIR / version / "expected.json").read_text(encoding="utf-8")
    return dict(json.loads(_with_base(text, server)))


def source_config(server: FixtureServer, **overrides: Any) -> StaticCatalogSourceConfig:
    """The smartedu source of source.yaml, pointed at `server`; top-level keys can be overridden."""
    data = yaml.safe_load(_with_base((DATA_DIR / "source.yaml").read_text(encoding="utf-8"), server))
    data.update(overrides)
    return StaticCatalogSourceConfig.model_validate(data)


def serve_catalogue(
    server: FixtureServer,
    version: str,
    *,
    etag: str | None = None,
    replace: dict[str, bytes] | None = None,
) -> None:
    """Route the version index and every part file of tests/data/smartedu/<version> on `server`.

    With `etag`, the version index carries that ETag and answers 304 to a matching If-None-Match.
    `replace` maps a part file name to the bytes to serve instead (a broken part).
    """
    folder = DATA_DIR / version
    index = _with_base((folder / "data_version.json").read_text(encoding="utf-8"), server).encode("utf-8")
    if etag is None:
        server.route(VERSION_PATH, body=index, content_type="application/json")
    else:
        server.route(VERSION_PATH, responder=_conditional(index, etag))
    for part in sorted(folder.glob("part_*.json")):
        body = (replace or {}).get(part.name, part.read_bytes())
        server.route(part_path(part.name), body=body, content_type="application/json")


def _conditional(body: bytes, etag: str) -> Responder:
    def answer(request: LoggedRequest) -> Reply:
        if request.header("If-None-Match") == etag:
            return Reply(status=304, headers={"ETag": etag})
        return Reply(body=body, headers={"ETag": etag, "Content-Type": "application/json"})

    return answer
