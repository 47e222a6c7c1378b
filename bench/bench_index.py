"""Bulk-indexing benchmark: generated records into the SQLite or Elasticsearch backend, throughput and size.

Run from the checkout (see bench/README.md):

    .venv/bin/python -m bench.bench_index sqlite --count 1000000 --index bench/out/sqlite-1m.sqlite3
    .venv/bin/python -m bench.bench_index reference --count 100000
    .venv/bin/python -m bench.bench_index elasticsearch --count 100000 --data-dir bench/out/noida-100k

Records are generated before each batch is timed, so the numbers are indexing alone. Every `--checkpoint`
records a line of JSON reports the rate over that stretch, so one 1M run shows how throughput falls with
size. `reference` measures the floor the issue quotes: segmentation plus a bare FTS5 insert, no backend.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from itertools import islice
from pathlib import Path

from bench.corpus import generate
from indexer.analysis import analyze_document
from indexer.backends.base import SearchQuery
from indexer.backends.sqlite_schema import FTS_COLUMNS
from indexer.record import Record

logger = logging.getLogger(__name__)

_ES_ALIAS = "edufed-bench"


def directory_bytes(path: Path) -> int:
    """Bytes on disk of a file, or of every file under a directory (SQLite: the file plus -wal/-shm)."""
    if path.is_file():
        siblings = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        return sum(p.stat().st_size for p in siblings if p.exists())
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run_batches(
    write: Callable[[Sequence[Record]], object], *, count: int, batch: int, checkpoint: int, start: int = 0
) -> dict[str, object]:
    """Feed `count` generated records to `write` in batches, from the `start`-th on (the earlier ones are
    generated and passed over, so the corpus is the same); JSON progress lines every `checkpoint`."""
    records = generate(count)
    started = time.perf_counter()
    for _ in islice(records, start):
        pass
    done, spent, stretch_done, stretch_spent = start, 0.0, 0, 0.0
    generating = time.perf_counter() - started
    while True:
        before = time.perf_counter()
        chunk = list(islice(records, batch))
        generating += time.perf_counter() - before
        if not chunk:
            break
        before = time.perf_counter()
        write(chunk)
        took = time.perf_counter() - before
        done, spent = done + len(chunk), spent + took
        stretch_done, stretch_spent = stretch_done + len(chunk), stretch_spent + took
        if stretch_done >= checkpoint or done == count:
            line = {"indexed": done, "stretch_records_per_s": round(stretch_done / stretch_spent)}
            sys.stdout.write(json.dumps(line) + "\n")
            sys.stdout.flush()
            stretch_done, stretch_spent = 0, 0.0
    return {
        "records": done,
        "started_at": start,
        "index_seconds": round(spent, 1),
        "records_per_s": round((done - start) / spent) if spent else None,
        "generate_seconds": round(generating, 1),
        "wall_seconds": round(time.perf_counter() - started, 1),
    }


def bench_sqlite(args: argparse.Namespace) -> dict[str, object]:
    from bench.bench_linkage import OffLinker
    from indexer.backends.sqlite import SqliteBackend

    path = Path(args.index)
    if not args.resume:
        fresh_sqlite(path)
    backend = SqliteBackend(path, linker=OffLinker() if args.no_linking else None, search_engine=args.engine)
    try:
        result = run_batches(
            lambda chunk: backend.upsert(chunk), count=args.count, batch=args.batch, checkpoint=args.checkpoint,
            start=backend.count() if args.resume else 0,
        )  # fmt: skip
        before = time.perf_counter()
        backend.search(SearchQuery(q="健康"))
        result["first_search_seconds"] = round(time.perf_counter() - before, 2)
    finally:
        backend.close()
    result["bytes_on_disk"] = directory_bytes(path)
    return result


def bench_reference(args: argparse.Namespace) -> dict[str, object]:
    """Segmentation + FTS5 insert into a bare table: the floor for the backend's indexing rate."""
    path = Path(args.index)
    fresh_sqlite(path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(f"CREATE VIRTUAL TABLE fts USING fts5 ({', '.join(FTS_COLUMNS)})")
    sql = f"INSERT INTO fts ({', '.join(FTS_COLUMNS)}) VALUES ({', '.join('?' * len(FTS_COLUMNS))})"

    def write(chunk: Sequence[Record]) -> None:
        rows = []
        for r in chunk:
            text = analyze_document(
                title=r.title, subtitle=r.subtitle or "", tags=" ".join(r.tags), description=r.description or "",
                people=" ".join(p.name for p in r.instructors), provider=r.provider.name if r.provider else "",
            )  # fmt: skip
            rows.append(tuple(text.fields[c] for c in FTS_COLUMNS))
        conn.execute("BEGIN")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")

    try:
        result = run_batches(write, count=args.count, batch=args.batch, checkpoint=args.checkpoint)
    finally:
        conn.close()
    result["bytes_on_disk"] = directory_bytes(path)
    return result


def bench_elasticsearch(args: argparse.Namespace) -> dict[str, object]:
    from indexer.backends.elasticsearch import ElasticsearchBackend

    with es_engine(args.url, data_dir=Path(args.data_dir)) as url:
        backend = ElasticsearchBackend(url, alias=_ES_ALIAS, replicas=0, refresh=False)
        try:
            result = run_batches(
                lambda chunk: backend.upsert(chunk), count=args.count, batch=args.batch, checkpoint=args.checkpoint
            )
            before = time.perf_counter()
            backend.client.indices.refresh(index=backend.alias)  # loaded without refreshes; one at the end
            result["refresh_seconds"] = round(time.perf_counter() - before, 1)
            result["count_in_index"] = backend.count()
        finally:
            backend.close()
        result["bytes_on_disk"] = directory_bytes(Path(args.data_dir)) if not args.url else None
        if args.keep_running:
            sys.stdout.write(json.dumps({"engine": url, "note": "press Ctrl-C to stop"}) + "\n")
            sys.stdout.flush()
            _wait_forever()
    return result


def es_engine(url: str | None, *, data_dir: Path) -> AbstractContextManager[str]:
    """The given cluster URL, or a noida-db engine on a free loopback port keeping its data in `data_dir`."""
    if url:
        return nullcontext(url.rstrip("/"))
    from contextlib import contextmanager

    from tests.support.noida import _run_noida

    data_dir.mkdir(parents=True, exist_ok=True)
    return contextmanager(_run_noida)(data_dir)


def _wait_forever() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return


def fresh_sqlite(path: Path) -> None:
    """Make room for a new SQLite file at `path`: its directory exists, no old file, WAL, shared memory, nor
    derived tantivy index (`<file>.tantivy/` and its lock file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", ".tantivy.lock"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    shutil.rmtree(path.with_name(path.name + ".tantivy"), ignore_errors=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("backend", choices=("sqlite", "reference", "elasticsearch"))
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5000, help="records per upsert call")
    parser.add_argument("--checkpoint", type=int, default=100_000, help="records between progress lines")
    parser.add_argument("--index", default="bench/out/index.sqlite3", help="SQLite file (sqlite, reference)")
    parser.add_argument("--no-linking", action="store_true", help="sqlite: store records unlinked (no clusters)")
    parser.add_argument("--resume", action="store_true", help="sqlite: add the corpus's records past those stored")
    parser.add_argument("--engine", choices=("tantivy", "fts5"), default="tantivy", help="sqlite: index.search_engine")
    parser.add_argument("--url", default=None, help="Elasticsearch URL; default: start noida-db")
    parser.add_argument("--data-dir", default="bench/out/noida", help="noida-db data directory")
    parser.add_argument("--keep-running", action="store_true", help="keep noida-db up for bench_search")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    runner = {"sqlite": bench_sqlite, "reference": bench_reference, "elasticsearch": bench_elasticsearch}
    result = runner[args.backend](args)
    result["backend"], result["command"] = args.backend, " ".join(sys.argv)
    result["linking"] = not args.no_linking
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
