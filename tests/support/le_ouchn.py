"""Serve the hand-written le.ouchn.cn payloads in tests/data/le_ouchn on a FixtureServer, and their config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from config.source_models import JsonApiSourceConfig
from tests.support.http_server import FixtureServer

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "le_ouchn"
PAGING_PATH = "/api/Course/Paging"


def detail_path(course_id: str) -> str:
    return f"/api/Course/{course_id}/MicroCourse/Details"


def expected() -> dict[str, Any]:
    """tests/data/le_ouchn/expected.json: the raw records the payloads must give."""
    return dict(json.loads((DATA_DIR / "expected.json").read_text(encoding="utf-8")))


def source_config(server: FixtureServer, **overrides: Any) -> JsonApiSourceConfig:
    """The le.ouchn source of source.yaml, pointed at `server`; top-level keys can be overridden."""
    text = (DATA_DIR / "source.yaml").read_text(encoding="utf-8").replace("BASE_URL", server.base_url)
    data = yaml.safe_load(text)
    data.update(overrides)
    return JsonApiSourceConfig.model_validate(data)


def serve_le_ouchn(server: FixtureServer, *, pages: dict[str, str] | None = None) -> None:
    """Route the list pages (PageNum -> file in pages/) and every detail in details/ on `server`.

    Details named in expected.json's `detail_status` answer with that status, as le.ouchn does for a bad id.
    """
    pages = pages or {"1": "page-1.json", "2": "page-2.json", "3": "page-3.json"}
    for number, name in pages.items():
        body = (DATA_DIR / "pages" / name).read_bytes()
        server.route(PAGING_PATH, query={"PageNum": number}, body=body, content_type="application/json")
    server.route(PAGING_PATH, json={"Data": {"PageListInfos": [], "PageCount": len(pages)}})
    for file in sorted((DATA_DIR / "details").glob("*.json")):
        server.route(detail_path(file.stem), body=file.read_bytes(), content_type="application/json")
    for course_id, status in expected()["detail_status"].items():
        server.route(detail_path(course_id), status=status, json={"Data": None, "Message": "服务器内部错误"})
