"""`edufed runs` and `edufed sources list` as real processes over a state database, and the progress bar."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from config.loader import load_settings
from crawlers.run import RunProgress
from crawlers.state import RunCounts, RunOutcome, StateStore
from search_api.cli.tables import ProgressBar
from tests.integration.state.conftest import rss_source

EDUFED = str(Path(sys.executable).parent / "edufed")


def edufed(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDUFED_")}
    return subprocess.run([EDUFED, *args], capture_output=True, text=True, timeout=120, env=env, check=False)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """Settings and sources files in tmp, with a state database holding three runs of two sources."""
    sources = [rss_source("elder_news"), rss_source("community_news", platform="shequ")]
    sources_file = tmp_path / "sources.yaml"
    sources_file.write_text(yaml.safe_dump({"sources": [s.model_dump(mode="json") for s in sources]}))
    settings_file = tmp_path / "settings.yaml"
    settings_file.write_text(f"data_dir: {tmp_path / 'data'}\nsources_file: {sources_file}\n")
    with StateStore.for_settings(load_settings(settings_file, environ={})) as store:
        store.sources.seed(sources)
        good = store.runs.start("elder_news", trigger="schedule")
        store.runs.finish(good.id, RunOutcome(status="succeeded", counts=RunCounts(fetched=12, new=12)))
        for trigger in ("schedule", "manual"):
            bad = store.runs.start("community_news", trigger=trigger)
            store.runs.finish(bad.id, RunOutcome(status="failed", error_type="FetchError", error_message="HTTP 502"))
        store.sources.set_paused("community_news", True)
    return settings_file


def test_runs_lists_the_history_newest_first_and_filters_failures(config: Path) -> None:
    every = edufed("runs", "--config", str(config))
    assert every.returncode == 0, every.stderr
    header, *rows = every.stdout.splitlines()
    assert header.split()[:4] == ["RUN", "SOURCE", "TRIGGER", "STATUS"]
    assert [row.split()[1:4] for row in rows] == [
        ["community_news", "manual", "failed"], ["community_news", "schedule", "failed"],
        ["elder_news", "schedule", "succeeded"],
    ]  # fmt: skip
    failed = edufed("runs", "--config", str(config), "--failed", "--source", "community_news", "--json")
    data = json.loads(failed.stdout)
    assert [(r["trigger"], r["status"]) for r in data] == [("manual", "failed"), ("schedule", "failed")]
    assert data[0]["error"] == {"type": "FetchError", "message": "HTTP 502"}


def test_sources_list_shows_health_columns(config: Path) -> None:
    result = edufed("sources", "list", "--config", str(config))
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["ID", "KIND", "PLATFORM", "ENABLED", "PAUSED", "LAST_RUN", "LAST_SUCCESS",
                              "FRESHNESS", "FAILURES", "URL"]  # fmt: skip
    cells = {row.split()[0]: row.split() for row in rows}
    assert cells["community_news"][4] == "yes" and cells["community_news"][8] == "2"
    assert cells["community_news"][5].startswith("failed@") and cells["community_news"][7] == "never"
    assert cells["elder_news"][5].startswith("succeeded@") and cells["elder_news"][8] == "0"


def test_progress_bar_fills_against_the_last_run_and_spins_without_one() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream, expected=10, every=5)
    for fetched in range(0, 11):
        bar(RunProgress("elder_news", "fetching", fetched, 0, 0))
    bar(RunProgress("elder_news", "done", 10, 0, 10))
    lines = stream.getvalue().splitlines()
    assert "[" + "." * 24 + "]" in lines[0] and "~  0%" in lines[0]
    assert "[" + "#" * 12 + "." * 12 + "] ~ 50%" in lines[1]
    assert lines[-1].startswith("elder_news [" + "#" * 24 + "] done: fetched 10, rejected 0, written 10")
    unknown = io.StringIO()
    ProgressBar(unknown)(RunProgress("elder_news", "fetching", 3, 0, 0))
    assert unknown.getvalue().split()[1] in "|/-\\"
