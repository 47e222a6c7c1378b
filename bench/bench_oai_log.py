"""OAI-PMH change log benchmark: its bytes on disk (dbstat) and the time of a page of each kind of list.

Run on a copy of an index file (opening it with this checkout converts a first-layout log in place):

    cp bench/out/shared-100k.sqlite3 bench/out/t17b-100k.sqlite3
    .venv/bin/python bench/bench_oai_log.py bench/out/t17b-100k.sqlite3 --repeats 300

Run as a script with PYTHONPATH naming another tree (an unpacked older commit) to measure that tree's code on
its own copy. Prints one line of JSON: bytes per table and index of the log, bytes a record, the time of
opening the backend, and for each list the p50 / mean ms of a page (ListRecords: 101 entries with their
records, as the provider asks for a page of 100; ListIdentifiers: headers only; a count is the list size the
first page of a list reports). `--writes N` then times one write changing N records and one withdrawing N others,
and the change log's part of each.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from indexer.backends import sqlite as sqlite_backend
from indexer.backends.changes import ChangeQuery, now_stamp
from indexer.backends.sqlite import SqliteBackend

_PAGE = 101


def log_bytes(path: Path) -> dict[str, int]:
    """dbstat page bytes of every table and index of the change log (its tables are named oai_*)."""
    conn = sqlite3.connect(path)
    try:
        owner = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master"))
        sizes = conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
    finally:
        conn.close()
    return {str(n): int(b) for n, b in sizes if str(owner.get(n, "")).startswith("oai_")}


def timed(action: Callable[[], object], repeats: int) -> dict[str, float]:
    action()  # the first run reads the pages in; the figures are of a warm file
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(times), 3), "mean_ms": round(statistics.fmean(times), 3)}


def lists(backend: SqliteBackend) -> dict[str, Callable[[], object]]:
    """The lists timed, chosen from the file's own entries so every tree answers the same ones."""
    until = now_stamp()
    every = backend.changes(ChangeQuery(until=until, limit=1_000_000, records=False))
    middle = every[len(every) // 2]
    themes: dict[str, int] = {}
    for entry in every:
        for theme in entry.sets.get("theme", ()):
            themes[theme] = themes.get(theme, 0) + 1
    theme = max(themes, key=lambda t: themes[t])
    platform = every[0].sets["platform"][0]
    resume = (middle.stamp, middle.uid)
    queries: dict[str, ChangeQuery] = {
        "records": ChangeQuery(until=until, limit=_PAGE),
        "records_resumed": ChangeQuery(until=until, limit=_PAGE, after=resume),
        "records_from": ChangeQuery(until=until, since=middle.stamp, limit=_PAGE),
        "records_theme": ChangeQuery(until=until, set_kind="theme", set_values=(theme,), limit=_PAGE),
        "records_theme_resumed": ChangeQuery(
            until=until, set_kind="theme", set_values=(theme,), limit=_PAGE, after=resume
        ),  # fmt: skip
        "records_platform": ChangeQuery(until=until, set_kind="platform", set_values=(platform,), limit=_PAGE),
        "records_region_kind": ChangeQuery(until=until, set_kind="region", limit=_PAGE),
        "identifiers_theme_kind": ChangeQuery(until=until, set_kind="theme", limit=_PAGE, records=False),
        "identifiers_theme_kind_resumed": ChangeQuery(
            until=until, set_kind="theme", limit=_PAGE, after=resume, records=False
        ),  # fmt: skip
        "identifiers_resumed": ChangeQuery(until=until, limit=_PAGE, after=resume, records=False),
        "identifiers_theme_resumed": ChangeQuery(
            until=until, set_kind="theme", set_values=(theme,), limit=_PAGE, after=resume, records=False
        ),  # fmt: skip
    }
    actions: dict[str, Callable[[], object]] = {
        name: (lambda q=q: backend.changes(q))  # type: ignore[misc]
        for name, q in queries.items()
    }
    actions["count_all"] = lambda: backend.count_changes(queries["records"])
    actions["count_theme"] = lambda: backend.count_changes(queries["records_theme"])
    actions["count_theme_kind"] = lambda: backend.count_changes(queries["identifiers_theme_kind"])
    actions["count_region_kind"] = lambda: backend.count_changes(queries["records_region_kind"])
    actions["get_record"] = lambda: backend.changes(ChangeQuery(until=until, uid=middle.uid, limit=1))
    actions["change_sets"] = backend.change_sets
    return actions


def writes(backend: SqliteBackend, count: int) -> dict[str, float]:
    """Seconds of one write changing `count` records and of one withdrawing `count` others, and of the change
    log's part of each (`stamp_changes`, timed where the backend calls it)."""
    spent: list[float] = []
    stamp_changes = sqlite_backend.stamp_changes

    def timed_stamp(conn: sqlite3.Connection, generation: int) -> None:
        started = time.perf_counter()
        stamp_changes(conn, generation)
        spent.append(time.perf_counter() - started)

    sqlite_backend.stamp_changes = timed_stamp  # type: ignore[attr-defined]
    try:
        uids = [e.uid for e in backend.changes(ChangeQuery(until=now_stamp(), limit=2 * count, records=False))]
        changed = [r.model_copy(update={"title": r.title + "（新版）", "content_hash": ""})
                   for r in (backend.get(uid) for uid in uids[:count]) if r is not None]  # fmt: skip
        started = time.perf_counter()
        backend.upsert(changed)
        upsert = time.perf_counter() - started
        started = time.perf_counter()
        backend.withdraw(uids[count:])
        withdraw = time.perf_counter() - started
    finally:
        sqlite_backend.stamp_changes = stamp_changes  # type: ignore[attr-defined]
    return {"upsert_s": round(upsert, 3), "upsert_log_s": round(spent[0], 3), "withdraw_s": round(withdraw, 3),
            "withdraw_log_s": round(spent[1], 3)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", type=Path, help="a copy of an index file (it may be converted in place)")
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--writes", type=int, default=0, help="then change N records in one write, withdraw N")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    backend = SqliteBackend(args.index, search_engine="fts5")
    opened = time.perf_counter() - started
    report: dict[str, Any] = {"index": args.index.name, "load_average": os.getloadavg()[0], "open_s": round(opened, 2)}
    try:
        records = backend.count()
        entries = backend.count_changes(ChangeQuery(until=now_stamp()))
        sizes = log_bytes(args.index)
        report.update(records=records, entries=entries, log_bytes=sum(sizes.values()),
                      bytes_per_entry=round(sum(sizes.values()) / max(entries, 1)), tables=sizes)  # fmt: skip
        report["pages"] = {name: timed(action, args.repeats) for name, action in lists(backend).items()}
        if args.writes:
            report["writes"] = writes(backend, args.writes)
    finally:
        backend.close()
    report["load_average_end"] = os.getloadavg()[0]
    json.dump(report, sys.stdout, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
