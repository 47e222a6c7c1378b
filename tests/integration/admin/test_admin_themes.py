"""The admin console and the health answer say when the index's records were classified by other theme rules, with
the command that classifies them again and its cost, and say nothing once they are current."""

from __future__ import annotations

import sqlite3

import httpx

from config.loader import load_themes
from indexer.themes_version import UNRECORDED, Reclassifier, themes_version
from tests.integration.admin.conftest import AdminSite


def test_the_console_and_health_tell_of_other_theme_rules_until_the_records_are_classified_again(
    site: AdminSite,
) -> None:
    ours = themes_version(load_themes())
    with httpx.Client(base_url=site.url, timeout=30) as client:
        assert client.post("/admin/login", data={"key": site.admin_key}).status_code == 303
        assert "themes-notice" not in client.get("/admin").text
        health = client.get("/api/v1/health").json()["themes"]
        assert (health["status"], health["index_version"], health["version"]) == ("current", ours, ours)
        conn = sqlite3.connect(site.settings.index_path)
        with conn:  # what an edufed before themes versions left
            conn.execute("DELETE FROM meta WHERE key = 'themes'")
        conn.close()
        page = client.get("/admin").text
        assert "themes-notice" in page and f"未记录版本的旧主题规则分的主题，本服务的规则是 {ours}" in page
        assert "edufed reindex --themes-only" in page
        health = client.get("/api/v1/health").json()["themes"]
        assert (health["status"], health["index_version"]) == ("older", UNRECORDED)
        assert health["records"] == site.backend.count() and "edufed reindex --themes-only" in health["notice"]
        reclassify = Reclassifier(load_themes())
        site.backend.reclassify_all(reclassify, version=reclassify.version)
        assert "themes-notice" not in client.get("/admin").text
        assert client.get("/api/v1/health").json()["themes"]["status"] == "current"
