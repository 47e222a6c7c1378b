"""The health answer over a real SQLite index: its record count and text analysis, read with one count of the
records (a count is milliseconds at a million records, and load balancers ask often)."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import httpx

from indexer.analysis_version import ANALYSIS_VERSION
from indexer.backends.sqlite import SqliteBackend
from search_api.app import create_app
from tests.integration.api.catalogue import live_server, settings_for

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "contract"))
from contract_corpus import build_corpus  # noqa: E402


def test_health_counts_the_records_once_and_answers_as_before(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "index.sqlite3")
    try:
        records = build_corpus()
        backend.upsert(records)
        app = create_app(settings=settings_for(tmp_path), backend=backend)
        with live_server(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
            first = http.get("/api/v1/health")  # the serving thread opens its connection
            counts: list[str] = []

            def seen(statement: str) -> None:
                if "COUNT(*) FROM DOCS" in statement.upper():
                    counts.append(statement)

            # every connection the backend opened, the serving thread's among them (private: no public hook)
            for conn in list(backend._pool._opened):
                conn.set_trace_callback(seen)
            second = http.get("/api/v1/health")
            for conn in list(backend._pool._opened):
                conn.set_trace_callback(None)
    finally:
        backend.close()
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    body = second.json()
    assert list(body) == ["status", "records", "backend", "version", "analysis", "linkage", "themes"]
    assert (body["status"], body["records"], body["backend"]) == ("ok", len(records), "sqlite")
    analysis = body["analysis"]
    assert (analysis["status"], analysis["index_version"], analysis["total"]) == ("current", ANALYSIS_VERSION,
                                                                                   len(records))  # fmt: skip
    assert len(counts) == 1, counts


def test_health_of_an_index_of_an_older_analysis_counts_every_record(tmp_path: Path) -> None:
    """A file an edufed before analysis versions wrote: the count is the same, the analysis says version 0."""
    path = tmp_path / "index.sqlite3"
    backend = SqliteBackend(path)
    try:
        backend.upsert(build_corpus())
    finally:
        backend.close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("DELETE FROM meta WHERE key = 'analysis'")
    conn.close()
    backend = SqliteBackend(path)
    try:
        app = create_app(settings=settings_for(tmp_path), backend=backend)
        with live_server(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
            body = http.get("/api/v1/health").json()
    finally:
        backend.close()
    assert body["records"] == body["analysis"]["total"] == len(build_corpus())
    assert body["analysis"]["index_version"] == 0 and body["analysis"]["status"] == "older"
