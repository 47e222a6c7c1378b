"""bench_analysis_catch_up runs small: a generated index made older, caught up in a child, searches meanwhile."""

from __future__ import annotations

from pathlib import Path

from bench.bench_analysis_catch_up import main, measure, parse_args
from tests.support.generated_index import write_generated_index


def test_the_catch_up_bench_reports_rates_memory_and_searches(tmp_path: Path) -> None:
    index = write_generated_index(tmp_path / "index.sqlite3", 600)
    result = measure(
        parse_args(
            [
                "--index",
                str(index),
                "--work",
                str(tmp_path / "work.sqlite3"),
                "--batch",
                "100",
                "--searching",
                "--after-seconds",
                "1",
            ]
        )
    )
    assert result["records_differing"] > 0 and result["status_after"] == "current"
    assert result["catch_up"]["read"] == 600 and result["catch_up"]["rewritten"] == result["records_differing"]
    assert result["catch_up"]["peak_rss_mb"] >= result["catch_up"]["rss_open_mb"] > 0
    assert result["searches_after"]["searches"] > 0
    assert callable(main)
