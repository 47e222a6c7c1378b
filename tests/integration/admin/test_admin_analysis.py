"""The admin console and the health answer say when the index holds an older text analysis, with the catch-up's
progress and the command that finishes it, and say nothing once it is current."""

from __future__ import annotations

import sqlite3

import httpx

from indexer.analysis_version import ANALYSIS_VERSION
from tests.integration.admin.conftest import AdminSite


def test_the_console_and_health_tell_of_an_older_analysis_until_it_is_caught_up(site: AdminSite) -> None:
    with httpx.Client(base_url=site.url, timeout=30) as client:
        assert client.post("/admin/login", data={"key": site.admin_key}).status_code == 303
        assert "analysis-notice" not in client.get("/admin").text
        conn = sqlite3.connect(site.settings.index_path)
        with conn:  # what an edufed of the analysis before this one recorded
            conn.execute("UPDATE meta SET value = ? WHERE key = 'analysis'", (ANALYSIS_VERSION - 1,))
        conn.close()
        page = client.get("/admin").text
        assert "analysis-notice" in page and f"第 {ANALYSIS_VERSION - 1} 版" in page
        assert "edufed reindex --analysis-only" in page and "已完成 0 / 0 条" in page
        health = client.get("/api/v1/health").json()["analysis"]
        assert (health["status"], health["index_version"]) == ("older", ANALYSIS_VERSION - 1)
        site.backend.catch_up_analysis()
        assert "analysis-notice" not in client.get("/admin").text
        assert client.get("/api/v1/health").json()["analysis"]["status"] == "current"
