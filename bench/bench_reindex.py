"""Reindex benchmark: `edufed reindex` of a stored SQLite index with 1 and with N worker processes, interleaved.

Run from the checkout (see bench/README.md):

    .venv/bin/python -m bench.bench_reindex --count 100000 --rounds 2
    .venv/bin/python -m bench.bench_reindex --count 1000000 --rounds 1

The stored index is made once per count (bench/out/reindex-<count>-<format>.sqlite3, kept for later runs): the
corpus's records with the raw fields a harvest would have kept, and an outdated title, so that a rebuild
rewrites every record as it does after a change of rules. Each measurement copies that file and runs the
reindex of `edufed reindex` on the copy (indexer.reindex, the same stored-JSON reading) in a child process of
its own, so its peak memory is its own: one JSON line per measurement (records/s, CPU seconds of the writer
and of the workers, peak RSS of the writer and of the largest worker, load average before and after), then
a summary with the ratio of each worker count's median rate to the single-process one. On a shared machine
`cpu_bound_records_per_s` says what the CPU time spent allows on the cores used, had they been free:
records / max(writer CPU, all CPU / cores).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from itertools import islice
from pathlib import Path

from bench.bench_index import directory_bytes, fresh_sqlite
from bench.corpus import PLATFORMS, generate
from config.loader import load_themes
from config.source_models import JsonApiSourceConfig, SourceBase
from indexer.linkage.incremental import Linker
from indexer.record import Record

OUT = Path("bench/out")
STALE = "旧版·"
_SETUP_BATCH = 5000
STORED_FORMAT = "teacher-keys"
"""In the stored index's file name: an index stored before linkage joined its blocking keys with teachers is
linked at the old cost in its first reindex (every look-up reads other teachers' records), not a steady state."""


def bench_sources() -> list[SourceBase]:
    """One configured json_api source per corpus platform (the corpus's records are theirs)."""
    return [
        JsonApiSourceConfig.model_validate(
            {
                "id": platform,
                "kind": "json_api",
                "name": name,
                "platform": platform,
                "platform_name": name,
                "url": f"https://{platform}.example.edu.cn/api/list",
                "items_path": "items",
                "id_field": "id",
                "url_template": f"https://{platform}.example.edu.cn/course/{{id}}",
                "fields": {"title": "name"},
            }
        )  # fmt: skip
        for platform, name in PLATFORMS
    ]


def stored(records: Iterator[Record]) -> Iterator[Record]:
    """Corpus records as an older rule set stored them: the raw fields kept, the title outdated."""
    for record in records:
        fields = {
            "title": record.title, "url": record.url, "subtitle": record.subtitle, "description": record.description,
            "tags": record.tags, "instructors": [p.name for p in record.instructors],
            "provider": record.provider.name if record.provider else None, "learner_count": record.learner_count,
            "published_at": record.published_at.isoformat() if record.published_at else None,
            "lessons": [{"id": lesson.id, "title": lesson.title} for lesson in record.lessons],
            "is_free": record.is_free, "media_type": record.media_type, "audience": record.audience,
            "lesson_count": record.lesson_count,
        }  # fmt: skip
        old = record.model_copy(update={"title": STALE + record.title, "raw": {"fields": fields, "payload": fields}})
        old.content_hash = old.compute_hash()
        yield old


def stored_index(count: int) -> Path:
    """The stored index of `count` records (made the first time, then reused)."""
    path = OUT / f"reindex-{count}-{STORED_FORMAT}.sqlite3"
    if path.exists():
        return path
    from indexer.backends.sqlite import SqliteBackend

    building = path.with_name(path.name + ".building")
    fresh_sqlite(building)
    # stored unlinked: linking every chunk as a harvest does took over an hour at 1M; the reindex links once
    # the stored index is only the rebuild's input: no derived search index for it
    backend = SqliteBackend(building, linker=_NoLinking(), search_engine="fts5")
    try:
        records = stored(generate(count))
        while chunk := list(islice(records, _SETUP_BATCH)):
            backend.upsert(chunk)
    finally:
        backend.close()
    _checkpoint(building)
    building.rename(path)
    return path


class _NoLinking(Linker):
    """A linker that leaves clusters alone (the stored index's setup, and the no-linkage diagnostic)."""

    def relink(self, *args: object, **kwargs: object) -> int:
        return 0


def _checkpoint(path: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    Path(str(path) + "-wal").unlink(missing_ok=True)
    Path(str(path) + "-shm").unlink(missing_ok=True)


def measure(path: Path, *, workers: int, linkage: bool = True, keep: Path | None = None) -> dict[str, object]:
    """One reindex of a copy of `path` with `workers` processes (run in a child process of its own).

    Without `linkage` the backend skips re-linking clusters after each write (a diagnostic: how much of the
    writer's time linkage takes). With `keep` the rebuilt index (and its derived tantivy index) is moved there
    instead of deleted: a clustered index for `bench_linkage update` and the search benchmarks."""
    from indexer.backends.sqlite import SqliteBackend
    from indexer.backends.sqlite_file import SqliteIndexFile
    from indexer.pipeline import RecordBuilder
    from indexer.reindex import reindex

    link_pass = _LinkPassLog()
    logging.getLogger("indexer.backends.sqlite_bulk_links").addHandler(link_pass)
    logging.getLogger("indexer.backends.sqlite_bulk_links").setLevel(logging.INFO)
    work = OUT / f"reindex-work-{os.getpid()}.sqlite3"
    fresh_sqlite(work)
    shutil.copyfile(path, work)
    builder = RecordBuilder(load_themes())
    load_before = os.getloadavg()[0]
    cpu_before = time.process_time()
    started = time.perf_counter()
    backend = SqliteBackend(work, linker=None if linkage else _NoLinking())
    try:
        with SqliteIndexFile(work) as index_file:
            summary = reindex(backend, builder=builder, sources=bench_sources(), records=index_file.stored(),
                              workers=workers)  # fmt: skip
    finally:
        backend.close()
    wall = time.perf_counter() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    writer_cpu = time.process_time() - cpu_before
    workers_cpu = children.ru_utime + children.ru_stime
    cores = min(workers + (workers > 1), os.cpu_count() or 1)  # the writer is a process of its own beside workers
    result: dict[str, object] = {
        "workers": workers,
        "linkage": linkage,
        "records": summary.seen,
        "rebuilt": summary.rebuilt,
        "written": summary.written,
        "wall_seconds": round(wall, 1),
        "records_per_s": round(summary.seen / wall),
        "writer_cpu_seconds": round(writer_cpu, 1),
        "workers_cpu_seconds": round(workers_cpu, 1),
        "cpu_bound_records_per_s": round(summary.seen / max(writer_cpu, (writer_cpu + workers_cpu) / cores)),
        "link_pass_seconds": link_pass.seconds,
        "records_in_clusters": link_pass.linked,
        "writer_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "largest_worker_peak_rss_mb": round(children.ru_maxrss / 1024) if workers > 1 else None,
        "load_1min_before": round(load_before, 2),
        "load_1min_after": round(os.getloadavg()[0], 2),
        "bytes_on_disk": directory_bytes(work),
        "derived_index_bytes": _bytes_under(work.with_name(work.name + ".tantivy")),
    }
    if keep is not None:
        fresh_sqlite(keep)
        for suffix in ("", ".tantivy", ".tantivy.lock"):
            moved = work.with_name(work.name + suffix)
            if moved.exists():
                moved.rename(keep.with_name(keep.name + suffix))
    fresh_sqlite(work)
    return result


def _bytes_under(path: Path) -> int | None:
    return directory_bytes(path) if path.is_dir() else None


class _LinkPassLog(logging.Handler):
    """Keeps what the rebuild's one linkage pass logs (sqlite_bulk_links.link_stored): its seconds, records linked."""

    seconds: float | None = None
    linked: int | None = None

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        if record.msg.startswith("clustered the stored records") and len(args) == 5:
            self.seconds, self.linked = round(float(str(args[0])), 1), int(str(args[4]))


def floor(path: Path, *, limit: int) -> dict[str, object]:
    """The per-record floor the issue quotes, on the same stored records: analysis of each rebuilt record's
    text (indexer.analysis) and a bare FTS5 insert, nothing else; CPU seconds of those two steps alone."""
    import sqlite3

    from indexer.backends.sqlite_file import SqliteIndexFile
    from indexer.backends.sqlite_schema import FTS_COLUMNS
    from indexer.pipeline import RecordBuilder
    from indexer.rebuild_pool import rebuild_one
    from indexer.record_text import record_text

    builder, sources = RecordBuilder(load_themes()), {s.id: s for s in bench_sources()}
    work = OUT / f"floor-{os.getpid()}.sqlite3"
    fresh_sqlite(work)
    conn = sqlite3.connect(work, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(
        f"CREATE VIRTUAL TABLE fts USING fts5 ({', '.join(FTS_COLUMNS)}, tokenize = 'unicode61 remove_diacritics 0')"
    )
    sql = f"INSERT INTO fts ({', '.join(FTS_COLUMNS)}) VALUES ({', '.join('?' * len(FTS_COLUMNS))})"
    cpu = 0.0
    seen = 0
    with SqliteIndexFile(path) as index_file:
        stored = islice(index_file.stored(), limit)
        while chunk := list(islice(stored, 5000)):
            records = [
                r
                for item in chunk
                if isinstance(r := rebuild_one(item, builder=builder, sources=sources).record, Record)
            ]
            for record in records:
                record.remember_folds({})  # the analysis from scratch, as a worker makes it
            started = time.process_time()
            rows = []
            for record in records:
                text = record_text(record)
                rows.append(tuple(text.fields[c] for c in FTS_COLUMNS))
            conn.execute("BEGIN")
            conn.executemany(sql, rows)
            conn.execute("COMMIT")
            cpu += time.process_time() - started
            seen += len(records)
    conn.close()
    fresh_sqlite(work)
    return {"floor_records": seen, "floor_cpu_seconds": round(cpu, 1), "floor_us_per_record": round(cpu / seen * 1e6),
            "floor_records_per_cpu_s": round(seen / cpu)}  # fmt: skip


def in_child(path: Path, *, workers: int, linkage: bool, keep: Path | None = None) -> dict[str, object]:
    command = [sys.executable, "-m", "bench.bench_reindex", "--measure", str(path), "--workers", str(workers)]
    command += [] if linkage else ["--no-linkage"]
    command += [] if keep is None else ["--keep", str(keep)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    line: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return line


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2, help="measurements per worker count, interleaved")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to compare")
    parser.add_argument("--no-linkage", action="store_true", help="diagnostic: skip re-linking clusters on write")
    parser.add_argument("--floor", action="store_true", help="only the per-record floor: analysis + bare FTS5 insert")
    parser.add_argument("--keep", type=Path, help="keep the last measurement's rebuilt (clustered) index at this path")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # one measurement (the child's job)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.measure is not None:
        sys.stdout.write(
            json.dumps(measure(args.measure, workers=args.workers[0], linkage=not args.no_linkage, keep=args.keep))
            + "\n"
        )
        return 0
    started = time.perf_counter()
    if args.floor:
        sys.stdout.write(json.dumps(floor(stored_index(args.count), limit=args.count)) + "\n")
        return 0
    path = stored_index(args.count)
    sys.stdout.write(json.dumps({"stored_index": str(path), "setup_seconds": round(time.perf_counter() - started)}))
    sys.stdout.write("\n")
    rates: dict[int, list[int]] = {w: [] for w in args.workers}
    bounds: dict[int, list[int]] = {w: [] for w in args.workers}
    for _ in range(args.rounds):
        for workers in args.workers:
            line = in_child(path, workers=workers, linkage=not args.no_linkage, keep=args.keep)
            rates[workers].append(int(str(line["records_per_s"])))
            bounds[workers].append(int(str(line["cpu_bound_records_per_s"])))
            sys.stdout.write(json.dumps(line) + "\n")
            sys.stdout.flush()
    base, base_bound = statistics.median(rates[args.workers[0]]), statistics.median(bounds[args.workers[0]])
    summary = {
        w: {"median_records_per_s": statistics.median(rates[w]), "ratio": round(statistics.median(rates[w]) / base, 2),
            "median_cpu_bound_records_per_s": statistics.median(bounds[w]),
            "cpu_bound_ratio": round(statistics.median(bounds[w]) / base_bound, 2)}
        for w in args.workers
    }  # fmt: skip
    sys.stdout.write(json.dumps({"count": args.count, "by_workers": summary, "command": " ".join(sys.argv)}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
