"""The admin console and the health answer say when the index was linked by older linkage rules, with the command
that links it again and its cost, and say nothing once it is current."""

from __future__ import annotations

import sqlite3

import httpx

from indexer.linkage.version import LINKAGE_VERSION, UNRECORDED
from tests.integration.admin.conftest import AdminSite


def test_the_console_and_health_tell_of_an_older_linkage_until_it_is_linked_again(site: AdminSite) -> None:
    with httpx.Client(base_url=site.url, timeout=30) as client:
        assert client.post("/admin/login", data={"key": site.admin_key}).status_code == 303
        assert "linkage-notice" not in client.get("/admin").text
        assert client.get("/api/v1/health").json()["linkage"]["status"] == "current"
        conn = sqlite3.connect(site.settings.index_path)
        with conn:  # what an edufed before linkage versions left
            conn.execute("DELETE FROM meta WHERE key = 'linkage'")
        conn.close()
        page = client.get("/admin").text
        assert "linkage-notice" in page and f"第 {UNRECORDED} 版，本服务第 {LINKAGE_VERSION} 版" in page
        assert "edufed reindex --links-only" in page
        health = client.get("/api/v1/health").json()["linkage"]
        assert (health["status"], health["index_version"]) == ("older", UNRECORDED)
        assert health["records"] == site.backend.count() and "edufed reindex --links-only" in health["notice"]
        site.backend.relink_all()
        assert "linkage-notice" not in client.get("/admin").text
        assert client.get("/api/v1/health").json()["linkage"]["status"] == "current"
