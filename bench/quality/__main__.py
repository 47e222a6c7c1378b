"""Run the quality suite: `python -m bench.quality [--corpus main|heldout|heldout2|heldout3|heldout4|heldout5]
[--backend sqlite|elasticsearch|both|sqlite-fts5] [--sample N] [--json F]`."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from bench.quality.corpus import CORPORA, floors_file
from bench.quality.explain import explained
from bench.quality.report import below_floors, load_floors, tables, worst_queries
from bench.quality.suite import BACKENDS, SQLITE_FTS5, run_suite


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__)
    parser.add_argument(
        "--backend",
        choices=(*BACKENDS, "both", SQLITE_FTS5),
        default="sqlite",
        help="sqlite (its default search engine), elasticsearch, both of them, or sqlite-fts5 (SQLite with the FTS5 "
        "search engine, index.search_engine: fts5)",
    )
    parser.add_argument(
        "--corpus",
        choices=tuple(CORPORA),
        default="main",
        help="the suite's own corpus (main), the held-out set never tuned against (heldout), the held-out "
        "corpus with its second query set (heldout2), the third held-out set, a corpus and queries of its own "
        "(heldout3), the third held-out corpus with its second query set (heldout4), or the fourth held-out set, "
        "a corpus and queries of its own (heldout5)",
    )
    parser.add_argument(
        "--es-url",
        default=os.environ.get("ELASTICSEARCH_URL"),
        help="Elasticsearch to use (default ELASTICSEARCH_URL; else a noida-db engine is started)",
    )
    parser.add_argument("--sample", type=int, help="only the first N queries of each class (as CI runs Elasticsearch)")
    parser.add_argument("--worst", type=int, default=0, help="also list the N queries with the lowest nDCG@10")
    parser.add_argument(
        "--explain",
        type=int,
        default=0,
        help="also list up to N missed duplicates and N merged hard negatives of each kind, and why",
    )
    parser.add_argument("--json", type=Path, help="also write every figure and per-query row to this file")
    parser.add_argument("--check", action="store_true", help="exit 1 when a figure is below its floor")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    kinds = BACKENDS if args.backend == "both" else (args.backend,)
    reports = [run_suite(kind, es_url=args.es_url, sample=args.sample, corpus_name=args.corpus) for kind in kinds]
    print(tables(reports))
    for report in reports if args.worst else ():
        print("\n" + worst_queries(report, args.worst))
    for report in reports if args.explain else ():
        print("\n" + explained(report, args.explain))
    if args.json:
        args.json.write_text(json.dumps(reports, ensure_ascii=False, indent=1), encoding="utf-8")
    floors = load_floors(floors_file(args.corpus))
    problems = [line for report in reports for line in below_floors(report, floors)]
    if args.check and problems:
        where = floors_file(args.corpus)
        print("\n".join(["", f"below the floors of {where}:", *problems]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
