"""Record-linkage benchmark: clustering every stored record of a SQLite index, and the cost of one update.

Run from the checkout (see bench/README.md):

    .venv/bin/python -m bench.bench_linkage build --count 1000000 --index bench/out/link-1m.sqlite3
    .venv/bin/python -m bench.bench_linkage bulk --index bench/out/link-1m.sqlite3
    .venv/bin/python -m bench.bench_linkage update --index bench/out/link-1m.sqlite3 --updates 40

`build` stores the corpus with linking switched off (the stored records a bulk run starts from, as an index
written before linkage); with `--linking` every write links as a harvest's does, to time what linking adds.
`bulk` is `SqliteBackend.link_all` in phases: read and profile every stored record, candidate pairs,
clustering, writing the cluster ids; wall and CPU seconds per phase, peak RSS of the process.
`update` changes one stored record at a time (its description, so the content hash changes) and upserts it
alone, then withdraws and re-adds one: wall and CPU per write, linking on and off. Other sessions share the
machine, so CPU seconds are the steadier figure. `groups` times the rebuild's union-find over the stored link keys
alone (with a digest of the groups, comparable between two copies of one file), `same-clusters` compares two
files' uid -> cluster id maps:

    PYTHONPATH=../older .venv/bin/python bench/bench_linkage.py groups --index bench/out/old-copy.sqlite3
    PYTHONPATH=. .venv/bin/python bench/bench_linkage.py groups --index bench/out/new-copy.sqlite3
    PYTHONPATH=. .venv/bin/python bench/bench_linkage.py same-clusters --index A.sqlite3 --other B.sqlite3
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any

from bench.corpus import generate
from indexer.backends.sqlite import SqliteBackend
from indexer.backends.sqlite_bulk_links import link_stored, stored_groups
from indexer.backends.sqlite_link_keys import insert_link_keys
from indexer.backends.sqlite_links import SqliteLinkStore, link_stored_chunk
from indexer.backends.sqlite_schema import DOC_COLUMNS
from indexer.linkage import LinkProfile, cluster, profile_of
from indexer.linkage.clusters import candidate_pairs
from indexer.linkage.incremental import Linker, LinkStore
from indexer.record import Record


class OffLinker(Linker):
    """Linking switched off: what the index costs without it, and how `build` stores records unlinked."""

    def relink(self, store: LinkStore, *, arrived: Any, old_clusters: Any) -> int:
        return 0


class TimedLinker(Linker):
    """Linking on, with the CPU seconds spent inside `relink` added up (the part of a write that is linking)."""

    cpu_s = 0.0

    def relink(self, store: LinkStore, *, arrived: Any, old_clusters: Any) -> int:
        cpu = time.process_time()
        try:
            return super().relink(store, arrived=arrived, old_clusters=old_clusters)
        finally:
            self.cpu_s += time.process_time() - cpu


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@contextmanager
def timed(out: dict[str, Any], name: str) -> Iterator[None]:
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    out[name] = {"wall_s": round(time.perf_counter() - wall, 2), "cpu_s": round(time.process_time() - cpu, 2)}


def build(args: argparse.Namespace) -> dict[str, Any]:
    linker = TimedLinker() if args.linking else OffLinker()
    backend = SqliteBackend(args.index, linker=linker)
    records = generate(args.count)
    result: dict[str, Any] = {"records": args.count, "linking": args.linking}
    with timed(result, "store"):
        while chunk := list(islice(records, 5000)):
            backend.upsert(chunk)
    if isinstance(linker, TimedLinker):
        result["relink_cpu_s"] = round(linker.cpu_s, 2)
    backend.close()
    return result


def build_bare(args: argparse.Namespace) -> dict[str, Any]:
    """The corpus stored with only what linkage reads: `docs` (uid, cluster id, placeholders for the search
    columns), `payloads` and the link keys; no analysis, no FTS5 rows. A 1M index for clustering in minutes."""
    from indexer.backends.sqlite_link_keys import record_codes

    SqliteBackend(args.index).close()  # the layout
    conn = sqlite3.connect(args.index, isolation_level=None)
    conn.execute("PRAGMA synchronous = NORMAL")
    doc_sql = f"INSERT INTO docs ({', '.join(DOC_COLUMNS)}) VALUES ({', '.join('?' * len(DOC_COLUMNS))})"
    result: dict[str, Any] = {"records": args.count, "bare": True}
    records = generate(args.count, seed=args.seed)
    row_id = 0
    with timed(result, "store"):
        while chunk := list(islice(records, 5000)):
            docs: list[tuple[object, ...]] = []
            payloads: list[tuple[int, str]] = []
            keys: list[tuple[int, tuple[int, ...]]] = []
            for record in chunk:
                row_id += 1
                record.content_hash = record.compute_hash()
                values = dict.fromkeys(DOC_COLUMNS, 0) | {
                    "id": row_id, "uid": record.uid, "source": record.source, "content_hash": record.content_hash,
                    "cluster_id": None, "title": record.title, "title_fold": "", "title_pinyin": "",
                }  # fmt: skip
                docs.append(tuple(values[c] for c in DOC_COLUMNS))
                payloads.append((row_id, record.model_dump_json()))
                keys.append((row_id, record_codes(profile_of(record))))
            conn.execute("BEGIN")
            conn.executemany(doc_sql, docs)
            conn.executemany("INSERT INTO payloads (id, json) VALUES (?, ?)", payloads)
            insert_link_keys(conn, keys)
            conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def grouped(args: argparse.Namespace) -> dict[str, Any]:
    """`link_all` as a rebuild runs it: groups from the stored link keys, each clustered alone, in `--workers`
    processes (indexer.rebuild_pool) or in this one; wall and CPU of this process and of the workers."""
    from config.loader import load_themes
    from indexer.pipeline import RecordBuilder
    from indexer.rebuild_pool import RebuildPool

    backend = SqliteBackend(args.index)
    result: dict[str, Any] = {"records": backend.count(), "workers": args.workers}
    load, wall, cpu = os.getloadavg()[0], time.perf_counter(), time.process_time()
    with RebuildPool(builder=RecordBuilder(load_themes()), sources=[], workers=args.workers) as pool:
        summary = link_stored(backend._link_transaction, linker=Linker(), clusterer=pool.cluster_groups)  # noqa: SLF001
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    result.update(
        wall_s=round(time.perf_counter() - wall, 1), cpu_s=round(time.process_time() - cpu, 1),
        workers_cpu_s=round(children.ru_utime + children.ru_stime, 1), groups=summary.groups,
        largest_group=summary.largest, groups_linked_500_at_a_time=summary.big_groups, in_clusters=summary.linked,
        peak_rss_mb=peak_rss_mb(),
        largest_worker_peak_rss_mb=round(children.ru_maxrss / 1024) if args.workers > 1 else None,
        load_1min_before=round(load, 2), load_1min_after=round(os.getloadavg()[0], 2),
    )  # fmt: skip
    rows = backend._read("SELECT count(DISTINCT cluster_id) FROM docs WHERE cluster_id IS NOT NULL", ())  # noqa: SLF001
    result["clusters"] = rows[0][0]
    backend.close()
    return result


def groups(args: argparse.Namespace) -> dict[str, Any]:
    """The rebuild's union-find alone (`stored_groups`: the link keys read in key order, the groups formed), on
    the file as it is (opened with sqlite3, nothing converted); `--repeats` times, CPU and wall of each. Run as a
    script with PYTHONPATH naming another tree to time that tree's code on its own copy of the file."""
    conn = sqlite3.connect(args.index)
    result: dict[str, Any] = {"records": conn.execute("SELECT COUNT(*) FROM docs").fetchone()[0], "runs": []}
    for _ in range(args.repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        found = list(stored_groups(conn))
        result["runs"].append(
            {"cpu_s": round(time.process_time() - cpu, 2), "wall_s": round(time.perf_counter() - wall, 2)}
        )
    digest = hashlib.blake2b(repr(found).encode(), digest_size=8).hexdigest()  # the same row ids: comparable
    result.update(groups=len(found), grouped_records=sum(len(g) for g in found), digest=digest,
                  largest=max(map(len, found), default=0), load_1min=round(os.getloadavg()[0], 2))  # fmt: skip
    conn.close()
    return result


def same_clusters(args: argparse.Namespace) -> dict[str, Any]:
    """Whether two index files put every uid in the same cluster (the cluster ids compared as stored)."""
    maps = []
    for path in (args.index, args.other):
        conn = sqlite3.connect(path)
        maps.append(dict(conn.execute("SELECT uid, cluster_id FROM docs").fetchall()))
        conn.close()
    first, second = maps
    differing = sorted(uid for uid in first.keys() | second.keys() if first.get(uid, "-") != second.get(uid, "-"))
    return {"records": [len(first), len(second)], "in_clusters": [sum(1 for c in m.values() if c) for m in maps],
            "differing": len(differing), "differing_first": differing[:10]}  # fmt: skip


def bulk(args: argparse.Namespace) -> dict[str, Any]:
    backend = SqliteBackend(args.index)
    result: dict[str, Any] = {"records": backend.count()}
    profiles: list[LinkProfile] = []
    before: dict[str, str | None] = {}
    with timed(result, "read_and_profile"):
        for record in backend.iter_records():
            profiles.append(profile_of(record))
            before[record.uid] = record.cluster_id
        for profile in profiles:
            profile.blocking_keys()
    result["rss_after_profiles_mb"] = peak_rss_mb()
    with timed(result, "candidate_pairs"):
        pairs = candidate_pairs(profiles)
    result["pairs"] = len(pairs)
    with timed(result, "cluster"):
        links = cluster(profiles, pairs=pairs)
    del pairs
    with timed(result, "write"), backend._writing() as (conn, _generation):  # noqa: SLF001 (link_all, phased)
        SqliteLinkStore(conn).write_cluster_ids(links, before=before)
    clustered = [link for link in links.values() if link]
    sizes = [len(group) for group in _groups(links)]
    result.update(in_clusters=len(clustered), clusters=len({link.cluster_id for link in clustered}),
                  largest_cluster=max(sizes, default=0), peak_rss_mb=peak_rss_mb())  # fmt: skip
    backend.close()
    return result


def chunked(args: argparse.Namespace) -> dict[str, Any]:
    """Every stored record re-linked 500 at a time (`link_stored_chunk`), one transaction per chunk."""
    backend = SqliteBackend(args.index)
    result: dict[str, Any] = {"records": backend.count()}
    linker = Linker()
    with timed(result, "link"):
        after: int | None = 0
        while after is not None:
            with backend._writing() as (conn, _generation):  # noqa: SLF001 (one transaction per chunk)
                after = link_stored_chunk(conn, linker, after=after)
    rows = backend._read("SELECT count(*), count(DISTINCT cluster_id) FROM docs WHERE cluster_id IS NOT NULL", ())  # noqa: SLF001
    result.update(in_clusters=rows[0][0], clusters=rows[0][1], peak_rss_mb=peak_rss_mb())
    backend.close()
    return result


def _groups(links: dict[str, Any]) -> list[list[str]]:
    groups: dict[str, list[str]] = {}
    for uid, link in links.items():
        if link:
            groups.setdefault(link.cluster_id, []).append(uid)
    return list(groups.values())


def _per_write(samples: list[tuple[float, float]]) -> dict[str, Any]:
    walls = sorted(s[0] * 1000 for s in samples)
    cpus = sorted(s[1] * 1000 for s in samples)
    return {"writes": len(samples), "wall_ms_median": round(statistics.median(walls), 1),
            "wall_ms_p95": round(walls[int(len(walls) * 0.95) - 1], 1),
            "cpu_ms_median": round(statistics.median(cpus), 1)}  # fmt: skip


def _measure(write: Callable[[list[Any]], object], items: list[Any]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    write(items)
    return time.perf_counter() - wall, time.process_time() - cpu


def update(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {}
    rng = random.Random(7)
    for name, linker in (("linking_on", Linker()), ("linking_off", OffLinker())):
        backend = SqliteBackend(args.index, linker=linker)
        total = backend.count()
        result["records"] = total
        samples: list[tuple[float, float]] = []
        for n in range(args.updates):
            record = _stored(backend, rng.randrange(total))
            changed = record.model_copy(update={"description": f"{record.description}（第 {n} 次更新，{name}）"})
            changed.content_hash = changed.compute_hash()
            samples.append(_measure(backend.upsert, [changed]))
        result[name] = _per_write(samples)
        gone = _stored(backend, rng.randrange(total))
        result[name]["withdraw_ms"] = round(_measure(backend.withdraw, [gone.uid])[0] * 1000, 1)
        result[name]["readd_ms"] = round(_measure(backend.upsert, [gone])[0] * 1000, 1)
        result[name]["peak_rss_mb"] = peak_rss_mb()
        backend.close()
    return result


def _stored(backend: SqliteBackend, offset: int) -> Record:
    row = backend._read("SELECT uid FROM docs ORDER BY id LIMIT 1 OFFSET ?", (offset,))  # noqa: SLF001
    found = backend.get(str(row[0][0]))
    assert found is not None
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.bench_linkage", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    b = commands.add_parser("build", help="store N corpus records, linking off")
    b.add_argument("--count", type=int, default=100_000)
    b.add_argument("--index", type=Path, required=True)
    b.add_argument("--linking", action="store_true", help="link every 5,000-record write as a harvest does")
    b.add_argument("--bare", action="store_true", help="only what linkage reads (no analysis, no FTS5 rows)")
    b.add_argument("--seed", type=int, default=20261128)
    g = commands.add_parser("grouped", help="link_all as a rebuild runs it: group by group, in worker processes")
    g.add_argument("--index", type=Path, required=True)
    g.add_argument("--workers", type=int, default=2)
    k = commands.add_parser("bulk", help="cluster every stored record, phase by phase")
    k.add_argument("--index", type=Path, required=True)
    c = commands.add_parser("chunked", help="re-link every stored record 500 at a time, one group at a time")
    c.add_argument("--index", type=Path, required=True)
    r = commands.add_parser("groups", help="the rebuild's union-find over the stored link keys, timed")
    r.add_argument("--index", type=Path, required=True)
    r.add_argument("--repeats", type=int, default=3)
    s = commands.add_parser("same-clusters", help="compare two files' uid -> cluster id maps")
    s.add_argument("--index", type=Path, required=True)
    s.add_argument("--other", type=Path, required=True)
    u = commands.add_parser("update", help="one changed record per upsert, linking on and off")
    u.add_argument("--index", type=Path, required=True)
    u.add_argument("--updates", type=int, default=40)
    args = parser.parse_args(argv)
    run = {"build": build_bare if getattr(args, "bare", False) else build, "bulk": bulk, "chunked": chunked,
           "update": update, "grouped": grouped, "groups": groups,
           "same-clusters": same_clusters}[args.command]  # fmt: skip
    sys.stdout.write(json.dumps({args.command: run(args)}, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
