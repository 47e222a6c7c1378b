"""The harvest benchmark end to end at a small size: its catalogue server, the real harvest, the bare parser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.bench_harvest import main
from bench.corpus import generate
from indexer.backends.sqlite import SqliteBackend

COUNT = 250


@pytest.mark.parametrize("kind", ["json_api", "oai_pmh"])
def test_the_benchmark_harvests_every_generated_record(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = tmp_path / "bench.sqlite3"
    status = main([kind, "--count", str(COUNT), "--page-size", "40", "--checkpoint", "100", "--index", str(index)])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    result = lines[-1]
    assert status == 0
    assert (result["status"], result["fetched"], result["new"], result["indexed"]) == ("succeeded", COUNT, COUNT, COUNT)
    assert result["bare_parser"]["items"] == COUNT
    assert result["records_per_s"] > 0 and result["rss_before_mb"] > 0
    # the peak (getrusage) and the RSS before (/proc/self/statm) are different kernel counters, which may
    # disagree by a few pages: the peak is never far below the earlier reading
    assert result["peak_rss_mb"] >= result["rss_before_mb"] - 1
    assert [line["fetched"] for line in lines[:-1]] == [100, 200]
    backend = SqliteBackend(index)
    try:
        titles = sorted(record.title for record in backend.iter_records())
    finally:
        backend.close()
    assert titles == sorted(record.title for record in generate(COUNT))


@pytest.mark.parametrize("kind", ["le_ouchn", "oai_pmh", "rss", "static_catalog"])
def test_an_unchanged_re_harvest_downloads_a_tenth_of_the_first_run_at_most(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = tmp_path / "bench.sqlite3"
    status = main([kind, "--count", "60", "--page-size", "20", "--rerun", "--index", str(index)])
    result = json.loads(capsys.readouterr().out.splitlines()[-1])
    rerun = result["rerun"]
    assert status == 0 and (result["status"], result["new"], rerun["status"]) == ("succeeded", 60, "succeeded")
    assert rerun["withdrawn"] == 0
    if kind == "le_ouchn":  # a detail per course the first time; the three list pages (and robots.txt) after
        assert (result["requests"], rerun["requests"]) == (1 + 3 + 60, 1 + 3)
    else:  # the same few requests, answered 304 (or, for OAI, nothing changed since `from`)
        assert rerun["bytes_received"] <= result["bytes_received"] / 10
