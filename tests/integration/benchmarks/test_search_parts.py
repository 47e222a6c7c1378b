"""search_parts runs end to end on a tiny index: both columns time the search path's steps, inside the search."""

from __future__ import annotations

from pathlib import Path

from bench.search_parts import BASELINE, STEPS, THIS, parse_args, run
from tests.support.generated_index import write_generated_index

CHECKOUT = Path(__file__).resolve().parents[3]


def test_every_step_is_timed_in_both_columns_and_none_exceeds_the_search(tmp_path: Path) -> None:
    index = write_generated_index(tmp_path / "index.sqlite3", 300)
    # through the script's own parser, so that options it gains later take their defaults here too
    result = run(parse_args(["--index", str(index), "--baseline", str(CHECKOUT), "--rounds", "2"]))
    assert set(result["classes"]) == {"typical", "common"}
    for cls, columns in result["classes"].items():
        assert set(columns) == {BASELINE, THIS}
        for column in columns.values():
            assert column["missing_steps"] == []
            spent = column["us_a_search_p50"]
            assert set(spent) == {name for _, name in STEPS}
            whole = spent["SqliteSearch.search"]
            assert whole > 0 and spent["TantivySearch._facets"] > 0 and spent["HitReader.hits"] > 0
            assert all(0 <= us <= whole for us in spent.values()), cls
