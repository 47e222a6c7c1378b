"""Where a search's CPU goes: the steps of the SQLite backend's search path timed inside real searches (issue 17).

    .venv/bin/python -m bench.search_parts --index bench/out/copy-100k.sqlite3 --baseline /path/to/old-tree \
        --baseline-index bench/out/copy2-100k.sqlite3 --classes typical common --rounds 15

Each checkout answers in a child process of its own started in its tree (bench.inprocess_path's columns), with the
tantivy engine and the serving process's collector thresholds (crawlers.run_gc.serving_collections). The child
wraps each step of STEPS it finds (a module function or a class's method, looked up by name, so an older tree
lacking one reports it missing) in a timer of the calling thread's CPU, inclusive of what the step calls; then, per
round, it answers every query of a class (bench_engines', with its invisible suffix so no answer comes from the
recent results) and reports each step's CPU per search. The first round is untimed. The columns take turns round
by round (in a shuffled order), so both see the same machine load; the figures are each step's median over the
rounds, in microseconds a search. Steps nest (`_terms` inside `TantivySearch._facets`), so they do not add up;
`SqliteSearch.search` is the whole search. Since a search's hits are read when a result shows them, `HitReader.hits`
only makes them: their records are read in `_PageRead.build` (under `HitReader.built`, or where a step first reads
a record), and the words of records that only place a page in `_texts`. One JSON line on stdout (and `--json`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.inprocess_path import Column, turn
from bench.search_mix import report

BASELINE, THIS = "baseline", "this checkout"
STEPS = (
    ("indexer.backends.sqlite_search", "SqliteSearch.search"),
    ("indexer.backends.sqlite_search", "parse_query"),
    ("indexer.backends.base", "_known"),
    ("indexer.backends.base", "match_plan"),
    ("indexer.backends.tantivy_search", "TantivySearch.text_query"),
    ("indexer.backends.tantivy_search", "TantivySearch._facets"),
    ("indexer.backends.tantivy_search", "_terms"),
    ("indexer.backends.tantivy_search", "_packed_counts"),
    ("indexer.backends.tantivy_search", "TantivySearch._named"),
    ("indexer.backends.tantivy_search", "TantivySearch._ranked"),
    ("indexer.backends.tantivy_search", "TantivySearch._ids_and_uids"),
    ("indexer.backends.tantivy_search", "TantivySearch._rowids"),
    ("indexer.backends.sqlite_hits", "HitReader.hits"),
    ("indexer.backends.sqlite_hits", "HitReader.built"),
    ("indexer.backends.sqlite_hits", "_PageRead.build"),
    ("indexer.backends.sqlite_hits", "_texts"),
    ("indexer.backends.sqlite_hits", "_stored"),
    ("indexer.backends.sqlite_hits", "payload_json"),
    ("indexer.highlight", "Highlighter.record"),
    ("indexer.backends.base", "_with_missing"),
    ("indexer.backends.base", "missing_terms"),
    ("indexer.backends.sqlite_search", "encode_cursor"),
    ("indexer.backends.sqlite_search", "RecentResults.put"),
    ("indexer.backends.sqlite_facets", "FacetColumns.sync"),
)
"""(module, name) of each step timed: a function as the module that calls it names it, or Class.method."""

WORKER = """
import functools, importlib, json, sys, time
from pathlib import Path
sys.path.insert(0, ".")
from bench.bench_engines import Varying, classes, search_query
from bench.search_mix import sqlite_settings
from crawlers.run_gc import serving_collections
from indexer.backends import open_backend
from indexer.backends.base import SearchQuery

spent = {}
missing = []

def timed(name, step):
    @functools.wraps(step)
    def wrapper(*args, **kwargs):
        start = time.thread_time_ns()
        try:
            return step(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0) + time.thread_time_ns() - start
    return wrapper

for module, name in json.loads(sys.argv[2]):
    owner = importlib.import_module(module)
    *outer, attribute = name.split(".")
    for part in outer:
        owner = getattr(owner, part, None)
    if owner is None or not callable(getattr(owner, attribute, None)):
        missing.append(name)
        continue
    setattr(owner, attribute, timed(name, getattr(owner, attribute)))

serving_collections()
backend = open_backend(sqlite_settings(Path(sys.argv[1]), engine="tantivy"))
vary = Varying()
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    queries = classes()[json.loads(line)]
    spent.clear()
    for params in queries:
        backend.search(search_query(vary(params), facets=True, query_type=SearchQuery))
    print(json.dumps({"us_a_search": {n: t / 1000 / len(queries) for n, t in spent.items()}, "missing": missing}),
          flush=True)
"""


def run(args: argparse.Namespace) -> dict[str, Any]:
    steps = json.dumps([list(step) for step in STEPS])
    here = Path(args.checkout).resolve() if args.checkout else Path.cwd()
    load = [os.getloadavg()[0]]
    columns: dict[str, Column] = {}
    found: dict[str, Any] = {}
    try:
        if args.baseline:
            theirs = str(Path(args.baseline_index or args.index).resolve())
            columns[BASELINE] = Column(WORKER, [theirs, steps], checkout=Path(args.baseline))
        columns[THIS] = Column(WORKER, [str(Path(args.index).resolve()), steps], checkout=here)
        names = list(columns)
        for number, cls in enumerate(args.classes):
            rounds: dict[str, list[dict[str, float]]] = {name: [] for name in names}
            missing: dict[str, list[str]] = {}
            for round_ in range(args.rounds + 1):
                for name in turn(names, number * 1000 + round_):
                    answer = columns[name].ask(cls)  # type: ignore[arg-type]  # a class name, not parameters
                    missing[name] = answer["missing"]
                    if round_:
                        rounds[name].append(answer["us_a_search"])
            found[cls] = {
                name: {
                    "us_a_search_p50": {
                        step: round(statistics.median(r.get(step, 0.0) for r in rounds[name]), 1)
                        for _, step in STEPS
                        if step not in missing[name]
                    },
                    "missing_steps": missing[name],
                }
                for name in names
            }
    finally:
        for column in columns.values():
            column.close()
    load.append(os.getloadavg()[0])
    return {"index": str(Path(args.index).resolve()), "checkout": str(here), "baseline": args.baseline,
            "rounds": args.rounds, "classes": found, "load_1m": load}  # fmt: skip


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--index", required=True, help="a SQLite index file with its derived tantivy index")
    parser.add_argument("--checkout", help="the checkout whose backend is measured (default: this one)")
    parser.add_argument("--baseline", help="another edufed checkout measured in turn")
    parser.add_argument("--baseline-index", help="the baseline's own copy of the index")
    parser.add_argument(
        "--classes", nargs="+", default=["typical", "common"], choices=["typical", "common", "browse", "filtered"]
    )
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds of each class (one untimed first)")
    parser.add_argument("--json", help="also write the result here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    report(run(args), args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
