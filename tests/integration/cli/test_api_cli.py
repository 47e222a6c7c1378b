"""The `edufed` command line, run as a real process: sources, harvest, reindex, exit codes and messages."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from config.loader import load_sources
from indexer.backends.sqlite import SqliteBackend

EDUFED = str(Path(sys.executable).parent / "edufed")


def run(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDUFED_")}
    return subprocess.run([EDUFED, *args], capture_output=True, text=True, timeout=timeout, env=env, check=False)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A settings file with the data dir in tmp, quick HTTP failures, and one unreachable source."""
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n"
        "  - id: offline_platform\n"
        "    name: 一个连不上的平台\n"
        "    platform: offline\n"
        "    platform_name: 连不上的平台\n"
        "    kind: rss\n"
        "    url: http://127.0.0.1:9/feed.xml\n",
        encoding="utf-8",
    )
    settings = tmp_path / "settings.yaml"
    settings.write_text(
        f"data_dir: {tmp_path / 'data'}\nsources_file: {sources}\n"
        "http: {retries: 0, timeout_seconds: 5, delay_seconds: 0, backoff_seconds: 0}\n",
        encoding="utf-8",
    )
    return settings


def test_sources_list_shows_every_bundled_source() -> None:
    result = run("sources", "list")
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == [
        "ID", "KIND", "PLATFORM", "ENABLED", "PAUSED", "LAST_RUN", "LAST_SUCCESS", "FRESHNESS", "FAILURES", "URL",
    ]  # fmt: skip
    assert [row.split()[0] for row in rows] == [s.id for s in load_sources()]


def test_sources_show_prints_one_source_as_yaml() -> None:
    first = load_sources()[0]
    result = run("sources", "show", first.id)
    assert result.returncode == 0
    assert f"id: {first.id}" in result.stdout and f"kind: {first.kind}" in result.stdout


@pytest.mark.parametrize("args", [("harvest", "no_such_source"), ("sources", "show", "no_such_source")])
def test_unknown_source_is_a_usage_error_listing_known_ids(args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert "unknown source 'no_such_source'" in result.stderr
    assert all(s.id in result.stderr for s in load_sources())


@pytest.mark.parametrize(
    "args", [("harvest",), ("harvest", "le_ouchn", "--all"), ("frobnicate",), ("serve", "--port", "x")]
)
def test_bad_command_lines_exit_2(args: tuple[str, ...]) -> None:
    assert run(*args).returncode == 2


def test_invalid_config_names_file_and_field_without_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "settings.yaml"
    bad.write_text("search:\n  max_page_size: -5\n", encoding="utf-8")
    for args in (("sources", "list"), ("serve",), ("harvest", "--all"), ("reindex",)):
        result = run(*args, "--config", str(bad))
        assert result.returncode == 2, args
        assert str(bad) in result.stderr and "search.max_page_size" in result.stderr
        assert "Traceback" not in result.stderr


def test_harvest_of_an_unreachable_source_fails_with_exit_1_and_the_reason(config: Path) -> None:
    result = run("harvest", "offline_platform", "--json", "--config", str(config))
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["source_id"] == "offline_platform" and report["status"] == "failed"
    assert "127.0.0.1:9" in report["error"]["message"]
    text = run("harvest", "offline_platform", "--config", str(config))
    assert text.returncode == 1 and "offline_platform: failed" in text.stdout and "error:" in text.stdout


def test_demo_harvest_then_dry_run_then_reindex(config: Path, tmp_path: Path) -> None:
    index = tmp_path / "data" / "demo" / "index.sqlite3"
    harvested = run("harvest", "--all", "--demo", "--json", "--config", str(config))
    assert harvested.returncode == 0, harvested.stderr
    reports = json.loads(harvested.stdout)
    assert reports and all(r["status"] in ("succeeded", "partial") for r in reports)
    assert "fetched" in harvested.stderr  # progress went to stderr
    backend = SqliteBackend(index)
    try:
        count = backend.count()
        assert count == sum(r["written"] for r in reports) > 0
    finally:
        backend.close()

    _demo_commands_read_the_demo_catalogue(config, tmp_path, reports)

    dry = run("harvest", reports[0]["source_id"], "--demo", "--dry-run", "--config", str(config))
    assert dry.returncode == 0 and "dry run, nothing written" in dry.stdout

    again = run("reindex", "--demo", "--config", str(config))
    assert again.returncode == 0, again.stderr
    assert f"reindexed {count} records: {count} rebuilt" in again.stdout
    backend = SqliteBackend(index)
    try:
        assert backend.count() == count
    finally:
        backend.close()


def _demo_commands_read_the_demo_catalogue(config: Path, tmp_path: Path, reports: list[dict[str, object]]) -> None:
    """`--demo` on sources, runs, quarantine, holds and dump addresses the demo's data directory, as on harvest."""
    demo_ids = sorted(str(r["source_id"]) for r in reports)
    listed = run("sources", "list", "--demo", "--config", str(config))
    assert listed.returncode == 0, listed.stderr
    rows = listed.stdout.splitlines()[1:]
    assert sorted(row.split()[0] for row in rows) == demo_ids
    # their last runs, from the demo state, in China time with the offset said (as the pages show Beijing time)
    assert all(re.search(r" (partial|succeeded)@\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00 ", row) for row in rows)
    real = run("sources", "list", "--config", str(config)).stdout
    assert "offline_platform" in real and "demo_shequ" not in real
    shown = run("sources", "show", demo_ids[0], "--demo", "--config", str(config))
    assert shown.returncode == 0 and f"id: {demo_ids[0]}" in shown.stdout

    runs = run("runs", "--demo", "--config", str(config))
    assert {line.split()[1] for line in runs.stdout.splitlines()[1:]} == set(demo_ids)
    started = [line.split()[4] for line in runs.stdout.splitlines()[1:]]
    assert all(datetime.fromisoformat(s).utcoffset() == timedelta(hours=8) for s in started), started
    assert run("runs", "--config", str(config)).stdout.strip() == "no runs"
    rejected = run("quarantine", "list", "--demo", "--config", str(config))
    assert rejected.returncode == 0 and "demo_" in rejected.stdout  # the demo's deliberately invalid items
    assert all("+08:00" in line for line in rejected.stdout.splitlines()[1:] if line.startswith(tuple("0123456789")))
    made = run("keys", "create", "--role", "admin", "--demo", "--config", str(config))
    assert made.returncode == 0 and "demo catalogue" in made.stderr
    keys = run("keys", "list", "--demo", "--config", str(config)).stdout.splitlines()
    assert len(keys) == 2 and keys[1].split()[1:3] == ["admin", "-"] and keys[1].split()[4] == "-"
    assert datetime.fromisoformat(keys[1].split()[3]).utcoffset() == timedelta(hours=8)
    assert run("quarantine", "list", "--config", str(config)).stdout.strip() == "no quarantined items"
    assert run("holds", "list", "--demo", "--config", str(config)).returncode == 0
    dumped = run("dump", "--demo", "--config", str(config))
    assert dumped.returncode == 0, dumped.stderr
    assert list((tmp_path / "data" / "demo" / "dumps").glob("*.jsonl.gz"))


@pytest.mark.parametrize("command", [
    ["serve"], ["harvest"], ["sources", "list"], ["sources", "show", "x"], ["sources", "add", "f"],
    ["sources", "remove", "x"], ["runs"], ["reindex"], ["keys", "list"], ["keys", "revoke", "x"],
    ["holds", "list"], ["holds", "approve", "1"], ["quarantine", "list"], ["quarantine", "show", "1"], ["dump"],
])  # fmt: skip
def test_every_command_that_reads_the_data_directory_takes_demo(command: list[str]) -> None:
    from search_api.cli import build_parser

    assert build_parser().parse_args([*command, "--demo"]).demo is True
