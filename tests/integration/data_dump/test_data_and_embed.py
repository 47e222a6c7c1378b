"""/data/ lists and serves the dumps; /embed is framable by configured origins only; CORS for them only."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from config.loader import load_settings
from indexer.backends.base import IndexBackend
from indexer.backends.sqlite import SqliteBackend
from indexer.dump import build_dump
from search_api.app import create_app
from tests.integration.api.catalogue import live_server
from tests.integration.oai.repository import NoLinking, course

MEMBER = "https://www.member.example.cn"
PUBLIC = "https://learn.example.cn"


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SqliteBackend]:
    backend = SqliteBackend(tmp_path / "index.sqlite3", linker=NoLinking())
    backend.upsert([course(n) for n in range(30)])
    yield backend
    backend.close()


@contextmanager
def serve(data_dir: Path, backend: IndexBackend, *, origins: list[str]) -> Iterator[str]:
    environ = {"EDUFED_DATA_DIR": str(data_dir), "EDUFED_SERVER__PUBLIC_URL": PUBLIC,
               "EDUFED_EMBED__ALLOWED_ORIGINS": json.dumps(origins)}  # fmt: skip
    settings = load_settings(environ=environ)
    with live_server(create_app(settings=settings, backend=backend)) as server:
        yield server.url


def test_data_lists_the_published_dump_and_serves_it_whole(index: SqliteBackend, tmp_path: Path) -> None:
    with serve(tmp_path, index, origins=[]) as url, httpx.Client(base_url=url, timeout=30) as client:
        assert client.get("/data/").json()["dumps"] == []
        settings = load_settings(environ={"EDUFED_DATA_DIR": str(tmp_path)})
        manifest = build_dump(index, directory=tmp_path / "dumps", settings=settings.dump)
        listing = client.get("/data/").json()
        assert listing["schema"] == f"{PUBLIC}/data/record.schema.json"
        (listed,) = listing["dumps"]
        assert listed["url"] == f"{PUBLIC}/data/{manifest['file']}" and listed["records"] == 30
        body = client.get(f"/data/{manifest['file']}").content
        assert len(gzip.decompress(body).decode().splitlines()) == 30
        assert client.get(listed["manifest_url"].removeprefix(PUBLIC)).json()["attribution"]
        assert client.get("/data/record.schema.json").json()["properties"]["title"]
        assert client.get("/data/index.sqlite3").status_code == 404
        assert client.get("/data/..%2Findex.sqlite3").status_code == 404
        assert "/data/" in client.get("/openapi.json").json()["paths"]


def test_embed_is_framable_by_configured_origins_and_finds_other_platforms(
    index: SqliteBackend, tmp_path: Path
) -> None:
    title = course(4).title
    with serve(tmp_path, index, origins=[MEMBER]) as url, httpx.Client(base_url=url, timeout=30) as client:
        page = client.get("/embed", params={"platform": "lndx", "q": title})
        assert page.status_code == 200 and course(4).url in page.text
        (policy,) = page.headers.get_list("content-security-policy")
        assert f"frame-ancestors 'self' {MEMBER}" in policy and "script-src 'none'" in policy
        assert "frame-ancestors 'none'" in client.get("/").headers["content-security-policy"]
        assert client.get("/embed", params={"platform": "../x"}).status_code == 422


def test_cors_answers_configured_origins_on_search_and_records_only(index: SqliteBackend, tmp_path: Path) -> None:
    with serve(tmp_path, index, origins=[MEMBER]) as url, httpx.Client(base_url=url, timeout=30) as client:
        ok = client.get("/api/v1/search", params={"q": "山"}, headers={"Origin": MEMBER})
        assert ok.headers["access-control-allow-origin"] == MEMBER
        record = client.get(f"/api/v1/records/{course(1).uid}", headers={"Origin": MEMBER})
        assert record.headers["access-control-allow-origin"] == MEMBER
        preflight = client.options("/api/v1/search", headers={"Origin": MEMBER, "Access-Control-Request-Method": "GET"})
        assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == MEMBER
        stranger = client.get("/api/v1/search", headers={"Origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in stranger.headers
        admin = client.get("/api/v1/sources", headers={"Origin": MEMBER})
        assert "access-control-allow-origin" not in admin.headers


def test_nothing_is_open_to_other_origins_by_default(index: SqliteBackend, tmp_path: Path) -> None:
    with serve(tmp_path, index, origins=[]) as url, httpx.Client(base_url=url, timeout=30) as client:
        answer = client.get("/api/v1/search", headers={"Origin": MEMBER})
        assert "access-control-allow-origin" not in answer.headers
        policy = client.get("/embed", params={"platform": "lndx"}).headers["content-security-policy"]
        assert policy.endswith("frame-ancestors 'self'")
