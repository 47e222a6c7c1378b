"""Configuration loading: bundled files validate, bad files fail with file, field and reason, env overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, load_settings, load_sources, load_themes
from config.loader import BUNDLED_DIR


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_files_are_valid():
    settings = load_settings(environ={})
    assert settings.index.backend == "sqlite"
    assert load_themes().keyword_rules
    sources = load_sources()
    assert {s.kind for s in sources} >= {"json_api"}


def test_unknown_key_names_file_and_field(tmp_path):
    path = write(tmp_path / "settings.yaml", "index:\n  backend: sqlite\n  colour: blue\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    message = str(caught.value)
    assert str(path) in message
    assert "index.colour" in message
    assert "Extra inputs are not permitted" in message


def test_wrong_value_names_field_value_and_reason(tmp_path):
    path = write(tmp_path / "settings.yaml", "http:\n  timeout_seconds: -1\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert caught.value.problems[0].location == "http.timeout_seconds"
    assert "-1" in caught.value.problems[0].message


def test_broken_yaml_names_the_line(tmp_path):
    path = write(tmp_path / "settings.yaml", "index:\n  backend: [sqlite\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert "line" in caught.value.problems[0].location


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "nope.yaml", environ={})


def test_environment_overrides_nested_settings(tmp_path):
    settings = load_settings(
        environ={
            "EDUFED_DATA_DIR": str(tmp_path),
            "EDUFED_HTTP__RETRIES": "5",
            "EDUFED_SEARCH__MAX_PAGE_SIZE": "20",
        }
    )
    assert settings.data_dir == tmp_path
    assert settings.http.retries == 5
    assert settings.search.max_page_size == 20


def test_bad_environment_override_is_reported_as_such():
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"EDUFED_INDEX__BACKEND": "mongodb"})
    assert "EDUFED_" in caught.value.path
    assert caught.value.problems[0].location == "index.backend"


def test_source_of_unknown_kind_is_rejected(tmp_path):
    path = write(
        tmp_path / "sources.yaml",
        "sources:\n  - {id: abc, name: x, platform: p1, platform_name: P, kind: ftp}\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_sources(path)
    assert "sources.0" in caught.value.problems[0].location


def test_duplicate_source_ids_are_rejected(tmp_path):
    block = "  - {id: feed_a, name: x, platform: p1, platform_name: P, kind: rss, url: 'https://example.org/rss'}\n"
    path = write(tmp_path / "sources.yaml", "sources:\n" + block + block)
    with pytest.raises(ConfigError, match="duplicate source id"):
        load_sources(path)


def test_json_api_source_must_map_a_title(tmp_path):
    path = write(
        tmp_path / "sources.yaml",
        """
sources:
  - id: api_a
    name: x
    platform: p1
    platform_name: P
    kind: json_api
    url: https://example.org/api
    items_path: Data.Items
    id_field: Id
    url_template: https://example.org/c/{Id}
""",
    )
    with pytest.raises(ConfigError, match="fields.title"):
        load_sources(path)


def test_theme_table_rejects_a_theme_outside_the_ten(tmp_path):
    text = (BUNDLED_DIR / "themes.yaml").read_text(encoding="utf-8").replace("theme: 心理健康", "theme: 心理学", 1)
    with pytest.raises(ConfigError, match="心理学"):
        load_themes(write(tmp_path / "themes.yaml", text))
