"""End to end: `edufed serve` as a process: the demo fills its catalogue; failing sources do not stop it."""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.serve_process import ServeProcess, serve_process


@pytest.fixture
def demo_service(tmp_path: Path) -> Iterator[ServeProcess]:
    with serve_process({"EDUFED_DATA_DIR": str(tmp_path / "data")}, "--demo") as running:
        yield running


def test_serve_demo_answers_at_once_and_fills_the_catalogue(demo_service: ServeProcess) -> None:
    url, process = demo_service.url, demo_service.process
    with httpx.Client(base_url=url, timeout=10) as http:
        assert http.get("/api/v1/health").status_code == 200  # answers while the harvest runs
        deadline = time.monotonic() + 90
        records = 0
        while records == 0 and time.monotonic() < deadline:
            records = http.get("/api/v1/health").json()["records"]
            if records == 0:
                time.sleep(0.2)  # poll interval while the background harvest fills the index
        assert records > 0
        found = http.get("/api/v1/search", params={"q": "书法"}).json()
        assert found["total"] > 0
        assert any("<mark>书法</mark>" in item["highlight"]["title"] for item in found["items"])
        assert "共找到" in http.get("/", params={"q": "书法"}).text
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0  # a clean stop, as under a service manager


def test_serve_keeps_answering_when_every_source_fails_at_start(tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n  - {id: offline_platform, name: 连不上, platform: offline, platform_name: 连不上,"
        " kind: rss, url: 'http://127.0.0.1:9/feed.xml'}\n",
        encoding="utf-8",
    )
    env = {
        "EDUFED_DATA_DIR": str(tmp_path / "data"), "EDUFED_SOURCES_FILE": str(sources),
        "EDUFED_SCHEDULER__HARVEST_ON_START": "true", "EDUFED_HTTP__RETRIES": "0",
    }  # fmt: skip
    with serve_process(env) as running:
        failed = running.wait_for_line(re.compile(r"run of offline_platform failed: (.+)"), timeout=60)
        assert "127.0.0.1:9" in failed.group(1)
        with httpx.Client(base_url=running.url, timeout=10) as http:
            health = http.get("/api/v1/health").json()
        assert health == {"status": "ok", "records": 0, "backend": "sqlite", "version": health["version"],
                          "analysis": health["analysis"], "linkage": health["linkage"],
                          "themes": health["themes"]}  # fmt: skip
        assert health["analysis"]["status"] == "current" and health["linkage"]["status"] == "current"
        assert health["themes"]["status"] == "current"
