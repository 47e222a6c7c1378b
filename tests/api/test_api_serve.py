"""End to end: `edufed serve` as a process: the demo fills its catalogue; failing sources do not stop it."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

EDUFED = str(Path(sys.executable).parent / "edufed")
URL_LINE = re.compile(r"edufed is serving on (http://127\.0\.0\.1:\d+)/")


@dataclass
class Service:
    url: str
    process: subprocess.Popen[str]
    lines: queue.Queue[str]

    def wait_for_line(self, pattern: re.Pattern[str], *, timeout: float) -> re.Match[str]:
        """The first stderr line matching `pattern`, read as the process writes them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                found = pattern.search(self.lines.get(timeout=1))
            except queue.Empty:
                assert self.process.poll() is None, "edufed serve exited early"
                continue
            if found:
                return found
        raise AssertionError(f"edufed serve never logged {pattern.pattern!r}")


@contextmanager
def service(*args: str, env_extra: dict[str, str]) -> Iterator[Service]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDUFED_")} | env_extra
    process = subprocess.Popen(
        [EDUFED, "serve", "--port", "0", *args], env=env, stderr=subprocess.PIPE, text=True
    )
    lines: queue.Queue[str] = queue.Queue()
    stderr = process.stderr
    assert stderr is not None
    reader = threading.Thread(target=lambda: [lines.put(line) for line in stderr], daemon=True)
    reader.start()
    try:
        running = Service("", process, lines)
        running.url = running.wait_for_line(URL_LINE, timeout=60).group(1)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reader.join(timeout=10)
        stderr.close()


@pytest.fixture
def demo_service(tmp_path: Path) -> Iterator[Service]:
    with service("--demo", env_extra={"EDUFED_DATA_DIR": str(tmp_path / "data")}) as running:
        yield running


def test_serve_demo_answers_at_once_and_fills_the_catalogue(demo_service: Service) -> None:
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
    with service(env_extra=env) as running:
        failed = running.wait_for_line(re.compile(r"run of offline_platform failed: (.+)"), timeout=60)
        assert "127.0.0.1:9" in failed.group(1)
        with httpx.Client(base_url=running.url, timeout=10) as http:
            health = http.get("/api/v1/health").json()
        assert health == {"status": "ok", "records": 0, "backend": "sqlite", "version": health["version"]}
