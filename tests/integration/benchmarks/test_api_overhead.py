"""api_overhead runs end to end on a tiny index: every column answers, the path alone too, and turns are fair."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bench.api_overhead import parse_args, run, turn
from tests.support.generated_index import write_generated_index

CHECKOUT = Path(__file__).resolve().parents[3]


def test_every_column_answers_and_the_path_alone_is_measured(tmp_path: Path) -> None:
    index = write_generated_index(tmp_path / "index.sqlite3", 300)
    # through the script's own parser, so that options it gains later take their defaults here too
    args = parse_args(["--index", str(index), "--baseline", str(CHECKOUT), "--engine", "fts5", "--rounds", "1",
                       "--requests", "20"])  # fmt: skip
    result = run(args)
    for cls in ("typical", "common"):
        columns = result["http"][cls]
        assert set(columns) == {"edufed in-process", "HTTP, baseline", "HTTP, this checkout"}
        assert all(column["n"] > 0 and column["cpu_ms"] >= 0 for column in columns.values())
        assert columns["HTTP, baseline"]["minus_baseline_p50"] == 0
        assert set(result["stages_p50_ms"][cls]) == {"search", "shape", "body"}
    assert {name: column["n"] for name, column in result["path_alone"].items()} == {"baseline": 20, "this checkout": 20}


def test_each_column_comes_first_about_as_often_as_the_others() -> None:
    names = ["a", "b", "c", "d"]
    firsts = Counter(turn(names, n)[0] for n in range(2000))
    assert len({tuple(turn(names, n)) for n in range(100)}) > 12  # shuffled: many orders, not a few rotations
    assert set(firsts) == set(names) and max(firsts.values()) - min(firsts.values()) < 150
