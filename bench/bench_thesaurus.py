"""What the thesaurus (indexer/thesaurus.py) costs a search: CPU seconds of the quality suite's query texts on an
index file, with the thesaurus of config/query_words.yaml on or off.

    .venv/bin/python -m bench.bench_thesaurus bench/out/<copy>.sqlite3 --thesaurus on
    .venv/bin/python -m bench.bench_thesaurus bench/out/<copy>.sqlite3 --thesaurus off

Each query text is searched once per process (a repeated one would be answered from the backend's recent
results), after the index and the query tables are warm. Run the two settings in turn, several times, and compare
the CPU seconds, which the machine's load moves less than wall time.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench.quality.judge import load_judgements
from config.loader import load_query_words, load_themes
from indexer.backends.base import SearchQuery
from indexer.backends.sqlite import SqliteBackend
from indexer.match_plan import load_query_tables
from indexer.query_vocabulary import query_vocabulary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("index", type=Path, help="an index file (a copy: opening it may catch its engine up)")
    parser.add_argument("--thesaurus", choices=("on", "off"), default="on")
    args = parser.parse_args(argv)
    table = load_query_words().model_copy(update={"thesaurus": args.thesaurus == "on"})
    backend = SqliteBackend(args.index, vocabulary=query_vocabulary(table, load_themes()))
    try:
        load_query_tables()
        backend.search(SearchQuery(q="书法", size=10))
        texts = list(dict.fromkeys(j.q for j in load_judgements()))
        started = time.process_time()
        for q in texts:
            backend.search(SearchQuery(q=q, size=10))
        seconds = time.process_time() - started
        each = 1000 * seconds / len(texts)
        print(f"thesaurus {args.thesaurus}: {len(texts)} queries, {seconds:.2f} CPU s, {each:.1f} ms a query")
    finally:
        backend.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
