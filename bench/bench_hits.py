"""The CPU of building a search page's hits (payloads, records, highlights, also_on), per hit, against another checkout.

    .venv/bin/python -m bench.bench_hits --index bench/out/mine.sqlite3 --baseline /path/to/old-tree \
        --baseline-index bench/out/theirs.sqlite3 --rounds 10 --json bench/out/hits.json

Each checkout answers in a child process of its own started in its tree (bench.inprocess_path's columns), with the
tantivy engine. The child times the SQLite backend's hit building apart from the rest of the search: its search
object's hit reader is wrapped in one that measures the CPU time of the calling thread around each page it builds
(`hits`), so a search that builds several pages (a widened or relaxed query) counts them all; a reader whose hits
are built when a result shows them (`built`) is timed there too, and its hits counted there (a step reading a record
before, as a learner's question's tags do, builds it outside the timer). Every query of the chosen classes
(bench_engines', with its invisible suffix so no answer comes from the recent results) is sent to each column in a
shuffled order before the next; the first round is untimed. Per column: the search's and the hit
building's CPU percentiles per query, the hit building's CPU per hit and per record built (hits and their also_on
records) over all timed queries, and against the baseline the median of the paired differences. The answers'
gists are compared as inprocess_path compares them. One JSON line on stdout (and `--json`). `--gc-threshold N`
sets the first column's young-generation threshold of the cyclic collector (with `--baseline` naming the same tree:
what that setting alone changes).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.bench_engines import classes
from bench.inprocess_path import Column, turn
from bench.search_mix import percentiles, report

BASELINE, THIS = "baseline", "this checkout"

WORKER = """
import gc, json, sys, time
from pathlib import Path
sys.path.insert(0, ".")
from bench.bench_engines import Varying, search_query
from bench.search_mix import sqlite_settings
from indexer.backends import open_backend
from indexer.backends.base import SearchQuery

backend = open_backend(sqlite_settings(Path(sys.argv[1]), engine="tantivy"))
if len(sys.argv) > 2:
    gc.set_threshold(int(sys.argv[2]), *gc.get_threshold()[1:])
vary = Varying()


class TimedHits:
    def __init__(self, inner):
        self.inner = inner
        self.pages = []
        self.inside = False

    def hits(self, conn, rows, **kwargs):
        self.inside = True
        start = time.thread_time_ns()
        try:
            found = self.inner.hits(conn, rows, **kwargs)
        finally:
            self.inside = False
        if lazy:  # nothing read yet: the hits are counted where they are built (`built`)
            self.pages.append((time.thread_time_ns() - start, 0, 0))
        else:
            self.pages.append((time.thread_time_ns() - start, len(found), sum(len(h.also_on) for h in found)))
        return found

    def built(self, hits):
        shown = [h for h in hits if not getattr(h, "built", True)]
        self.inside = True
        start = time.thread_time_ns()
        try:
            self.inner.built(hits)
        finally:
            self.inside = False
        self.pages.append((time.thread_time_ns() - start, len(shown), sum(len(h.also_on) for h in shown)))

    def __getattr__(self, name):
        return getattr(self.inner, name)


searcher = backend._search
lazy = hasattr(searcher._hit_reader, "built")
searcher._hit_reader = timed = TimedHits(searcher._hit_reader)
collected = {"all": 0, "in_hits": 0, "started": 0}


def collecting(phase, info):
    if phase == "start":
        collected["started"] = time.thread_time_ns()
        return
    spent = time.thread_time_ns() - collected["started"]
    collected["all"] += spent
    if timed.inside:
        collected["in_hits"] += spent


gc.callbacks.append(collecting)


def gist(result):
    hits = [[h.record.uid, round(h.score, 9), h.highlight, list(h.missing), [r.uid for r in h.also_on]]
            for h in result.hits]
    return [result.total, result.facets, hits, result.next_cursor, bool(getattr(result, "relaxed", False))]


print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    params = [tuple(p) for p in json.loads(line)]
    query = search_query(vary(params), facets=True, query_type=SearchQuery)
    timed.pages.clear()
    collected["all"] = collected["in_hits"] = 0
    cpu = time.thread_time_ns()
    result = backend.search(query)
    cpu = time.thread_time_ns() - cpu
    pages = list(timed.pages)
    print(json.dumps({
        "search_us": cpu / 1000, "hits_us": sum(p[0] for p in pages) / 1000,
        "hits": sum(p[1] for p in pages), "also_on": sum(p[2] for p in pages), "gist": gist(result),
        "gc_us": collected["all"] / 1000, "gc_in_hits_us": collected["in_hits"] / 1000,
    }, ensure_ascii=False), flush=True)
"""


def measure(columns: dict[str, Column], *, names: Sequence[str], rounds: int) -> tuple[dict[str, Any], list[str]]:
    """Per class and column the percentiles, per-hit and per-record figures, and the paired differences."""
    found: dict[str, Any] = {}
    differences: list[str] = []
    order = list(columns)
    for cls in names:
        queries = classes()[cls]
        answers: dict[str, list[dict[str, Any]]] = {name: [] for name in order}
        for round_ in range(rounds + 1):
            for number, params in enumerate(queries):
                got = {name: columns[name].ask(params) for name in turn(order, round_ * len(queries) + number)}
                if BASELINE in got and got[BASELINE]["gist"] != got[THIS]["gist"]:
                    differences.append(f"{cls} {params}")
                if round_:
                    for name, answer in got.items():
                        answers[name].append(answer)
        found[cls] = {name: _summary(answers[name], answers.get(BASELINE) if name != BASELINE else None)
                      for name in order}  # fmt: skip
    return found, sorted(set(differences))


def _summary(mine: list[dict[str, Any]], baseline: list[dict[str, Any]] | None) -> dict[str, Any]:
    hits = sum(a["hits"] for a in mine)
    records = hits + sum(a["also_on"] for a in mine)
    built = sum(a["hits_us"] for a in mine)
    collections = sum(a["gc_in_hits_us"] for a in mine)
    row: dict[str, Any] = {
        "queries": len(mine),
        "search_ms": _with_mean([a["search_us"] / 1000 for a in mine]),
        "hits_ms": _with_mean([a["hits_us"] / 1000 for a in mine]),
        "hits_us_per_hit": round(built / max(1, hits), 2),
        "hits_us_per_record": round(built / max(1, records), 2),
        "hits_us_per_hit_without_gc": round((built - collections) / max(1, hits), 2),
        "records_per_page": round(records / max(1, len(mine)), 2),
        "gc_us_per_search": round(sum(a["gc_us"] for a in mine) / max(1, len(mine)), 1),
        "gc_in_hits_us_per_search": round(collections / max(1, len(mine)), 1),
    }
    if baseline is not None:
        for key in ("search_us", "hits_us"):
            diffs = [(a[key] - b[key]) / 1000 for a, b in zip(mine, baseline, strict=True)]
            row[key.replace("_us", "_ms") + "_minus_baseline_p50"] = percentiles(diffs)["p50"]
    return row


def _with_mean(values: list[float]) -> dict[str, Any]:
    """Percentiles and the mean: a collection by the cyclic collector is a rare large sample, which the mean shows."""
    return {**percentiles(values), "mean": round(sum(values) / max(1, len(values)), 3)}


def run(args: argparse.Namespace) -> int:
    index = Path(args.index).resolve()
    threshold = [str(args.gc_threshold)] if args.gc_threshold else []
    columns = {THIS: Column(WORKER, [str(index), *threshold], checkout=Path(args.checkout).resolve())}
    if args.baseline:
        baseline_index = Path(args.baseline_index or args.index).resolve()
        columns[BASELINE] = Column(WORKER, [str(baseline_index)], checkout=Path(args.baseline).resolve())
    try:
        load = os.getloadavg()[0]
        found, differences = measure(columns, names=args.classes, rounds=args.rounds)
        result = {"load_1m_before": load, "load_1m_after": os.getloadavg()[0], "rounds": args.rounds,
                  "classes": found, "answers_differ": differences}  # fmt: skip
    finally:
        for column in columns.values():
            column.close()
    report(result, args.json)
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--index", required=True, help="a copy of a SQLite index file (with its tantivy directory)")
    parser.add_argument("--checkout", default=".", help="the tree whose code the first column runs")
    parser.add_argument("--baseline", help="another checkout to compare with, paired query by query")
    parser.add_argument("--baseline-index", help="the baseline's own copy of the index (default: --index)")
    parser.add_argument("--classes", nargs="+", default=["typical"], choices=sorted(classes()))
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds (one untimed before them)")
    parser.add_argument(
        "--gc-threshold", type=int, help="the first column's collector runs its young generation after this many "
        "allocations (gc.set_threshold; default 700): with --baseline naming the same tree, what the setting gives"
    )  # fmt: skip
    parser.add_argument("--json", help="also write the result to this file")
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(run(parse_args(None)))
