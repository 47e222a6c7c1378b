"""CPU microseconds of `indexer.analysis.fold` per title and per description, this checkout against another.

    .venv/bin/python -m bench.bench_fold --baseline /path/to/old-tree --rounds 7

The texts: titles and descriptions of the bench corpus (`--records`, seeded), and the same descriptions in
traditional characters (OpenCC s2t). Each checkout folds them in a child process of its own, started with that
checkout as working directory, the two alternating round after round; a child times one pass over each list
with its process CPU clock and the best pass of the rounds is kept. Folds are uncached (`_fold`, what indexing a
new text and folding a description cost); the first pass is untimed (it builds OpenCC's converter and whatever
the code keeps from first use, timed apart as `first_use_ms`). One JSON line on stdout.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

WORKER = """
import json, sys, time
sys.path.insert(0, ".")
import opencc
from bench.corpus import generate
from indexer import analysis

records = list(generate(int(sys.argv[1]), seed=20261207))
s2t = opencc.OpenCC("s2t")
texts = {
    "title": [r.title for r in records],
    "description": [r.description or "" for r in records],
}
texts["description_traditional"] = [s2t.convert(t) for t in texts["description"]]
fold = getattr(analysis, "_fold")
start = time.process_time()
fold("書法")
first_use = time.process_time() - start
for values in texts.values():
    for text in values:
        fold(text)
best = {}
for _ in range(int(sys.argv[2])):
    for name, values in texts.items():
        start = time.process_time()
        for text in values:
            fold(text)
        took = (time.process_time() - start) / len(values) * 1e6
        best[name] = min(best.get(name, took), took)
chars = {name: sum(map(len, values)) / len(values) for name, values in texts.items()}
print(json.dumps({"us": best, "chars": chars, "first_use_ms": first_use * 1000}))
"""


def run(checkout: str, records: int, passes: int) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", WORKER, str(records), str(passes)],
        cwd=checkout,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", required=True, help="another edufed checkout to compare with")
    parser.add_argument("--records", type=int, default=2000, help="bench corpus records whose texts are folded")
    parser.add_argument("--rounds", type=int, default=5, help="alternating child runs of each checkout")
    parser.add_argument("--passes", type=int, default=5, help="timed passes over the texts in each child run")
    args = parser.parse_args()
    here = str(Path(__file__).resolve().parents[1])
    columns = {"baseline": args.baseline, "this checkout": here}
    best: dict[str, dict[str, float]] = {name: {} for name in columns}
    first_use: dict[str, list[float]] = {name: [] for name in columns}
    chars: object = None
    for _ in range(args.rounds):
        for name, checkout in columns.items():
            result = run(checkout, args.records, args.passes)
            chars = result["chars"]
            first_use[name].append(float(result["first_use_ms"]))  # type: ignore[arg-type]
            for text, us in result["us"].items():  # type: ignore[attr-defined]
                best[name][text] = min(best[name].get(text, us), us)
    summary = {"best_us": best, "first_use_ms_min": {k: min(v) for k, v in first_use.items()}, "chars": chars}
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
