"""Disk of a SQLite index file by what holds it (issue 17): dbstat page bytes per group of tables, a record.

Run on a copy of an index file; `--open` opens it with this checkout first (converting an older layout in place,
timed: the FTS5 table that kept its own copy of the text becomes the contentless index plus `texts`), `--vacuum`
then gives the freed pages back to the file system (timed) so the file's size is what its tables hold:

    cp bench/out/shared-100k.sqlite3 bench/out/t17d-100k.sqlite3
    .venv/bin/python -m bench.bench_disk bench/out/t17d-100k.sqlite3 --open --vacuum

`--open-engine tantivy` opens it as the default deployment does, which keeps no FTS5 index (sqlite_text).

Prints one line of JSON: bytes per group (and per FTS5 shadow table), bytes a record, the file's and the derived
tantivy directory's size, and the open's and VACUUM's seconds (wall and this process's CPU). `--engine N` then
times the tantivy engine's full build and N one-record writes. Run as a script with PYTHONPATH naming another tree
(an unpacked older commit) to measure that tree's code on its own copy:

    PYTHONPATH=../older .venv/bin/python bench/bench_disk.py bench/out/t17d-base-100k.sqlite3 --engine 7
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from pathlib import Path

from indexer.backends.sqlite import SqliteBackend

GROUPS = (
    ("payloads", ("payloads",)),
    ("link_keys", ("link_key", "link_keys")),
    ("fts5", ("fts",)),
    ("texts", ("texts",)),
    ("oai_log", ("oai_",)),
    ("docs", ("docs",)),
)


def group_of(table: str) -> str:
    for group, prefixes in GROUPS:
        if any(table == p or table.startswith(p + "_") or (p.endswith("_") and table.startswith(p)) for p in prefixes):
            return group
    return "other"


def measure(path: Path) -> dict[str, object]:
    conn = sqlite3.connect(path)
    try:
        owner = {str(n): str(t) for n, t in conn.execute("SELECT name, tbl_name FROM sqlite_master")}
        sizes = conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
        (records,) = conn.execute("SELECT COUNT(*) FROM docs").fetchone()
        (page_size,) = conn.execute("PRAGMA page_size").fetchone()
        (free_pages,) = conn.execute("PRAGMA freelist_count").fetchone()
    finally:
        conn.close()
    groups: dict[str, int] = {}
    fts_parts: dict[str, int] = {}
    for name, size in sizes:
        table = owner.get(str(name), str(name))
        group = group_of(table)
        groups[group] = groups.get(group, 0) + int(size)
        if group == "fts5":
            fts_parts[str(name)] = int(size)
    tantivy = Path(f"{path}.tantivy")
    engine = sum(f.stat().st_size for f in tantivy.rglob("*") if f.is_file()) if tantivy.exists() else 0
    return {
        "records": int(records),
        "file_bytes": path.stat().st_size,
        "free_bytes": int(free_pages) * int(page_size),
        "groups_bytes": dict(sorted(groups.items())),
        "fts5_bytes": dict(sorted(fts_parts.items())),
        "per_record": {g: round(b / max(1, int(records))) for g, b in sorted(groups.items())},
        "file_per_record": round(path.stat().st_size / max(1, int(records))),
        "tantivy_bytes": engine,
    }


def timed(action: object) -> dict[str, float]:
    assert callable(action)
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return {"wall_s": round(time.perf_counter() - wall, 2), "cpu_s": round(time.process_time() - cpu, 2)}


def open_once(path: Path, engine: str) -> None:
    """Open (and close) the file on `engine`: converts an older layout; on the tantivy engine also drops the FTS5
    index (sqlite_text.keep_fts_index), and the time includes building the derived index (closing waits for it)."""
    backend = SqliteBackend(path, search_engine=engine)  # type: ignore[arg-type]
    backend.close()


def vacuum(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("VACUUM")
    finally:
        conn.close()


def engine_costs(path: Path, writes: int) -> dict[str, object]:
    """The tantivy engine's full build from the file, then the median of `writes` one-record writes (each a
    SQLite write and the engine's catch-up reading that record's text back)."""
    backend = SqliteBackend(path, search_engine="tantivy")
    try:
        assert backend.engine is not None
        conn = backend._conn()  # noqa: SLF001 - the engine syncs inside a read transaction of the backend's
        conn.execute("BEGIN")
        try:
            build = timed(lambda: backend.engine.sync(conn, rebuild=True))  # type: ignore[union-attr]
        finally:
            conn.execute("COMMIT")
        (uid,) = conn.execute("SELECT uid FROM docs ORDER BY id LIMIT 1").fetchone()
        record = backend.get(uid)
        assert record is not None
        times = []
        for n in range(writes):
            changed = record.model_copy(update={"title": f"{record.title} {n}", "content_hash": ""})
            started = time.perf_counter()
            backend.upsert([changed])
            times.append((time.perf_counter() - started) * 1000)
        return {"build": build, "write_one_ms": sorted(round(t, 1) for t in times)}
    finally:
        backend.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", type=Path, help="a copy of an index file (never the shared one)")
    parser.add_argument("--open", action="store_true", help="open it with this checkout first (converts, timed)")
    parser.add_argument(
        "--open-engine",
        choices=("fts5", "tantivy"),
        default="fts5",
        help="the engine it is opened on: tantivy (the default deployment) drops the FTS5 index",
    )
    parser.add_argument("--vacuum", action="store_true", help="then VACUUM it (timed)")
    parser.add_argument("--engine", type=int, metavar="WRITES", help="then time the tantivy engine's full build "
                        "and WRITES one-record writes (the record's text read back by the catch-up)")  # fmt: skip
    args = parser.parse_args()
    report: dict[str, object] = {"before": measure(args.index)}
    if args.open:
        report["open"] = timed(lambda: open_once(args.index, args.open_engine))
    if args.vacuum:
        report["vacuum"] = timed(lambda: vacuum(args.index))
    if args.open or args.vacuum:
        report["after"] = measure(args.index)
    if args.engine:
        report["engine"] = engine_costs(args.index, args.engine)
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
