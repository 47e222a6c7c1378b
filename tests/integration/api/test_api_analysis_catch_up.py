"""End to end: `edufed serve` on an index written with an older text analysis says so at start and in its health
answer, re-analyses the records in the background while it answers searches, and then finds what the new analysis
indexes (pinyin initials)."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import httpx

from indexer.analysis_version import ANALYSIS_VERSION
from indexer.backends.sqlite import SqliteBackend
from tests.support.older_analysis import to_older_analysis
from tests.support.serve_process import serve_process

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "contract"))
from contract_corpus import build_corpus, make_record  # noqa: E402


def test_serve_catches_an_older_index_up_in_the_background_while_it_answers(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    backend = SqliteBackend(data / "index.sqlite3")
    try:
        words = ("八段锦", "太极拳", "智能手机", "广场舞")
        backend.upsert([*build_corpus(), *(make_record(f"x{n}", f"{words[n % 4]}入门 第{n}讲") for n in range(3000))])
    finally:
        backend.close()
    to_older_analysis(data / "index.sqlite3")
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources: []\n", encoding="utf-8")
    env = {"EDUFED_DATA_DIR": str(data), "EDUFED_SOURCES_FILE": str(sources), "EDUFED_SCHEDULER__ENABLED": "false"}
    with serve_process(env) as running:
        logged = re.compile(r"WARNING .*text analysis version 0, this edufed's is \d+")
        assert any(logged.search(line) for line in running.seen)  # at start, before it serves
        with httpx.Client(base_url=running.url, timeout=30) as http:
            seen = set()
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                analysis = http.get("/api/v1/health").json()["analysis"]
                seen.add(analysis["status"])
                assert http.get("/api/v1/search", params={"q": "书法"}).json()["total"] > 0  # answers throughout
                if analysis["status"] == "current":
                    break
                assert analysis["notice"] and "edufed reindex --analysis-only" in analysis["notice"]
                time.sleep(0.2)  # poll interval while the background catch-up goes
            assert analysis["status"] == "current" and analysis["index_version"] == ANALYSIS_VERSION
            assert seen & {"older", "catching_up"}
            bdj = http.get("/api/v1/search", params={"q": "bdj", "collapse": "false"}).json()["total"]
            assert bdj == http.get("/api/v1/search", params={"q": "八段锦", "collapse": "false"}).json()["total"] > 0
