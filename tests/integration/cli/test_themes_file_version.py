"""An installation classifying by its own themes table (`themes_file`) records that table's version in a new index,
so `edufed status` finds the index current instead of asking for a reclassification it does not need."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import yaml

from config.loader import load_settings, load_themes
from indexer.themes_version import themes_version
from search_api.cli.context import open_index
from tests.support.cli import edufed, no_sources_config


def own_table(tmp_path: Path) -> Path:
    """The bundled themes table under another version, as an installation's edited copy would be."""
    table = yaml.safe_load((Path(__file__).resolve().parents[3] / "config" / "themes.yaml").read_text("utf-8"))
    table["version"] = "2027.01-own"
    path = tmp_path / "themes.yaml"
    path.write_text(yaml.safe_dump(table, allow_unicode=True), encoding="utf-8")
    return path


def test_a_new_index_records_the_version_of_the_table_the_settings_load(tmp_path: Path) -> None:
    table = own_table(tmp_path)
    settings_path = no_sources_config(tmp_path, f"themes_file: {table}\n")
    ours = themes_version(load_themes(table))
    assert ours.startswith("2027.01-own+")

    with open_index(load_settings(settings_path)):  # as serve, harvest and reindex open it
        pass

    with sqlite3.connect(tmp_path / "data" / "index.sqlite3") as conn:
        recorded = conn.execute("SELECT value FROM meta WHERE key = 'themes'").fetchone()[0]
    assert recorded == ours
    code, out, _ = edufed(settings_path, "status", "--json")
    assert json.loads(out)["themes"]["status"] == "current", out
    assert code == 0
