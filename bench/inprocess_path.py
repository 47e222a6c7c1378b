"""The backend's in-process search path against another checkout's and bare tantivy, interleaved (issue 17).

    .venv/bin/python -m bench.inprocess_path --index bench/out/copy-100k.sqlite3 --baseline /path/to/old-tree --bare

Each column is a child process of its own, started with its checkout as working directory (so it imports that
checkout's code): this checkout's backend and, with `--baseline`, another checkout's, both `open_backend` +
`IndexBackend.search` over the same index file with the tantivy engine; with `--bare`, a bare tantivy index of
the same tokens (bench.bare_tantivy, built once next to the index), the yardstick. When the two checkouts derive
different engine indexes (another layout version), give the baseline its own copy of the file
(`--baseline-index`), or each would rebuild the other's. Every query of a class is
sent to every column in turn, in a shuffled order, before the next query, so all columns meet the same machine
load; the first round is untimed. A child times each search itself: wall milliseconds and the CPU milliseconds
its process spent (all its threads, tantivy's included), which on a loaded machine show the work apart from
the waiting for a core.

With a baseline, every answer of the two checkouts is compared (total, facets, the hits' uids, scores,
highlights, `missing` and also_on, the next cursor): any difference is listed in the result. Every edufed
request carries bench_engines' invisible query suffix, so no answer comes from the backend's memory of recent
results. With `--mix-pairs N`, each edufed column then answers the full mix of bench.search_mix from `--clients`
threads in its process, N closed loops each, the columns in turn: throughput, latency and CPU per search. The
result is one JSON line on stdout (and `--json`).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.bench_engines import classes
from bench.search_mix import Params, percentiles, report

CLASSES = ("typical", "common", "browse", "filtered", "in_theme")
IN_THEME: list[Params] = [
    [("q", "吵架"), ("theme", "代际沟通")],
    [("q", "孙子"), ("theme", "代际沟通")],
    [("q", "上当"), ("theme", "法律法规")],
    [("q", "钓鱼"), ("theme", "心理健康")],
    [("q", "养生"), ("theme", "养生保健")],
    [("q", "健康"), ("theme", "养生保健"), ("page", "3")],
]
"""Searches that also find every record of their theme filter: words no record of the theme holds (its records
follow, those holding the word's characters first, the rest tied at score 0) and words naming the theme (their
holders, then the theme's others). edufed columns only: a bare index has no such pass."""
BASELINE, THIS, BARE = "baseline", "this checkout", "bare tantivy"

WORKER = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, ".")
from bench.bench_engines import Varying, search_query
from bench.search_mix import sqlite_settings
from indexer.backends import open_backend
from indexer.backends.base import SearchQuery

backend = open_backend(sqlite_settings(Path(sys.argv[1]), engine="tantivy"))
vary = Varying()

def gist(result):
    hits = [[h.record.uid, round(h.score, 9), h.highlight, list(h.missing), [r.uid for r in h.also_on]]
            for h in result.hits]
    return [result.total, result.facets, hits, result.next_cursor, bool(getattr(result, "relaxed", False))]

class Client:
    def ask(self, params):
        backend.search(search_query(vary(params), facets=True, query_type=SearchQuery))
        return True

    def close(self):
        pass

print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    asked = json.loads(line)
    if isinstance(asked, dict):  # the closed loop of the full mix
        from bench.search_mix import closed_loop, query_set
        cpu = time.process_time()
        found = closed_loop(lambda i: Client(), query_set(), clients=asked["clients"], requests=asked["requests"],
                            seconds=asked["seconds"])
        found["cpu_ms_per_request"] = (time.process_time() - cpu) * 1000 / max(1, found["requests"])
        print(json.dumps(found, ensure_ascii=False), flush=True)
        continue
    params = [tuple(p) for p in asked]
    query = search_query(vary(params), facets=True, query_type=SearchQuery)
    wall, cpu = time.perf_counter(), time.process_time()
    result = backend.search(query)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps({"wall_ms": wall * 1000, "cpu_ms": cpu * 1000, "gist": gist(result)}, ensure_ascii=False),
          flush=True)
"""
"""A column's child: one search per line of JSON parameters on stdin, one JSON answer per line on stdout."""

BARE_WORKER = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, ".")
from bench.bare_tantivy import BareTantivy
from bench.search_mix import Plans

searcher = BareTantivy(Path(sys.argv[2]), plans=Plans(Path(sys.argv[1])))
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    params = [tuple(p) for p in json.loads(line)]
    wall, cpu = time.perf_counter(), time.process_time()
    answer = searcher.answer(params)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps({"wall_ms": wall * 1000, "cpu_ms": cpu * 1000, "gist": answer["total"]}), flush=True)
"""


class Column:
    """One child process answering searches (WORKER or BARE_WORKER) from `checkout`."""

    def __init__(self, code: str, args: Sequence[str], *, checkout: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, *args], cwd=checkout, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, encoding="utf-8",
        )  # fmt: skip
        if not json.loads(self._line()).get("ready"):
            raise RuntimeError(f"the column of {checkout} did not start")

    def ask(self, params: Params | dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(params, ensure_ascii=False) + "\n")
        self.process.stdin.flush()
        answer: dict[str, Any] = json.loads(self._line())
        return answer

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"a column's child ended (exit code {self.process.wait()})")
        return line

    def close(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)
        self.process.stdout.close()


def turn(names: list[str], n: int) -> list[str]:
    """The order of the n-th query's columns: shuffled, seeded by n."""
    return random.Random(n).sample(names, len(names))


def interleaved(
    columns: dict[str, Column], *, rounds: int, classes_asked: Sequence[str] = CLASSES
) -> tuple[dict[str, Any], list[str]]:
    """Per class and column: wall and CPU percentiles, and against the baseline the median of the paired
    differences (the same query in the same round); the CPU percentiles of the untimed first round apart (each
    query's first time in the process: nothing of it kept yet, such as its words' document frequencies); the
    queries whose answers differ between the checkouts."""
    found: dict[str, Any] = {}
    differences: list[str] = []
    for cls in classes_asked:
        queries = IN_THEME if cls == "in_theme" else classes()[cls]
        names = [name for name in columns if name != BARE or cls != "in_theme"]
        wall: dict[str, list[float]] = {name: [] for name in names}
        cpu: dict[str, list[float]] = {name: [] for name in names}
        first: dict[str, list[float]] = {name: [] for name in names}
        for round_ in range(rounds + 1):
            for number, params in enumerate(queries):
                answers = {}
                for name in turn(names, round_ * len(queries) + number):
                    answers[name] = columns[name].ask(params)
                if BASELINE in answers and answers[BASELINE]["gist"] != answers[THIS]["gist"]:
                    differences.append(f"{cls} {params}")
                for name, answer in answers.items():
                    if round_:
                        wall[name].append(answer["wall_ms"])
                        cpu[name].append(answer["cpu_ms"])
                    else:
                        first[name].append(answer["cpu_ms"])
        found[cls] = {}
        for name in names:
            row = {
                "wall": percentiles(wall[name]),
                "cpu": percentiles(cpu[name]),
                "first_cpu": percentiles(first[name]),
            }
            if BASELINE in names and name != BASELINE:
                row["wall_minus_baseline_p50"] = _paired(wall[name], wall[BASELINE])
                row["cpu_minus_baseline_p50"] = _paired(cpu[name], cpu[BASELINE])
            found[cls][name] = row
    return found, sorted(set(differences))


def mixes(columns: dict[str, Column], *, pairs: int, clients: int, requests: int) -> dict[str, list[dict[str, Any]]]:
    """The full mix (search_mix.query_set) from `clients` threads in each edufed column's process, the columns one
    after another (in turn reversed each pair, so neither always follows the other): `pairs` closed loops each."""
    names = [name for name in (BASELINE, THIS) if name in columns]
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for pair in range(pairs):
        for name in names if pair % 2 else names[::-1]:
            load = os.getloadavg()[0]
            answer = columns[name].ask({"clients": clients, "requests": requests, "seconds": 300})
            latency = answer["latency_ms"]["all"]
            found[name].append({"load_1m": load, "throughput_rps": answer["throughput_rps"], "p50_ms": latency["p50"],
                                "p99_ms": latency["p99"], "cpu_ms_per_request": round(answer["cpu_ms_per_request"], 2),
                                "errors": answer["error_count"]})  # fmt: skip
    return found


def _paired(mine: list[float], theirs: list[float]) -> float:
    return percentiles([a - b for a, b in zip(mine, theirs, strict=True)])["p50"]


def run(args: argparse.Namespace) -> dict[str, Any]:
    index = Path(args.index).resolve()
    here = Path(args.checkout).resolve() if args.checkout else Path.cwd()
    load = [os.getloadavg()[0]]
    columns: dict[str, Column] = {}
    try:
        if args.bare:
            from bench.bare_tantivy import ensure_built

            directory = index.with_name(index.name + ".bare-tantivy")
            ensure_built(index, directory)
            columns[BARE] = Column(BARE_WORKER, [str(index), str(directory)], checkout=Path.cwd())
        if args.baseline:
            theirs = Path(args.baseline_index or args.index).resolve()
            columns[BASELINE] = Column(WORKER, [str(theirs)], checkout=Path(args.baseline))
        columns[THIS] = Column(WORKER, [str(index)], checkout=here)
        latency, differences = interleaved(columns, rounds=args.rounds, classes_asked=args.classes)
        mix = mixes(columns, pairs=args.mix_pairs, clients=args.clients, requests=args.requests)
    finally:
        for column in columns.values():
            column.close()
    load.append(os.getloadavg()[0])
    return {"index": str(index), "rounds": args.rounds, "checkout": str(here), "baseline": args.baseline,
            "baseline_index": args.baseline_index, "classes": latency,
            "answers_differ": differences, "mix": mix, "load_1m": load}  # fmt: skip


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--index", required=True, help="a SQLite index file with its derived tantivy index")
    parser.add_argument("--checkout", help="the checkout whose backend is measured (default: this one)")
    parser.add_argument("--baseline", help="another edufed checkout whose backend answers the same queries in turn")
    parser.add_argument(
        "--baseline-index", help="the baseline's copy of the index (when their derived engine indexes differ)"
    )
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds over each class's queries")
    parser.add_argument("--bare", action="store_true", help="also time a bare tantivy index (built once)")
    parser.add_argument("--classes", nargs="+", choices=CLASSES, default=CLASSES, help="the query classes timed")
    parser.add_argument("--mix-pairs", type=int, default=0, help="closed loops of the full mix per edufed column")
    parser.add_argument("--clients", type=int, default=8, help="threads of each closed loop")
    parser.add_argument("--requests", type=int, default=400, help="searches of each closed loop")
    parser.add_argument("--json", help="also write the result here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    report(run(args), args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
