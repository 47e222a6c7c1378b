"""What a `/metrics` scrape costs as the run history grows: 10, 100k and 1M stored runs, SQLite or PostgreSQL.

    .venv/bin/python -m bench.bench_run_metrics sqlite --runs 10 100000 1000000
    .venv/bin/python -m bench.bench_run_metrics postgresql --runs 10 100000 1000000
    .venv/bin/python -m bench.bench_run_metrics sqlite --runs 1000000 --streak 100000

For each size a fresh state database is migrated to revision 0002 (the schema before the run totals), filled
with a deterministic history (8 sources; every status; durations from 0 to ~2 h to the microsecond; a fifth of
the runs with HTTP errors, some with counts that are not whole numbers; the last runs of each source still
running), migrated to 0003 (the run totals' backfill, timed) and opened as `edufed` opens it (migrating it to
head; the time that takes is printed: from 0003 it is migration 0004's health indexes). Timed: the run metrics a
scrape asks the store for (`HarvestCollector._run_metrics`: runs by status, HTTP errors, duration histograms), and
the whole harvest scrape (`AppMetrics.render`, which also reads each source's health and pending holds; the
index's record counts come from a stand-in answering 0, so the figure is the state database's share), and the
sources' health alone (`StateStore.health`, part of that scrape). Median of `--repeat`.
`--streak N` adds two sources of N runs each after the main history: `bench_streak` (one run that delivered
data, then N - 1 failed or timed out: a streak of N - 1) and `bench_never_good` (N failures, no data ever), to
time the health where its cost is the streak's length rather than a constant.
PostgreSQL: a fresh schema in the test database (`--url`), dropped afterwards. SQLite files go in bench/out/.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from config.source_models import RssSourceConfig
from crawlers.state import migrate
from crawlers.state.db import create_state_engine
from crawlers.state.schema import runs, sources
from crawlers.state.store import StateStore
from search_api.services.metrics import AppMetrics, HarvestCollector

OUT = Path(__file__).resolve().parent / "out"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SOURCES = tuple(f"bench_source_{n}" for n in range(8))
STREAK_SOURCES = ("bench_streak", "bench_never_good")
STATUSES = ("succeeded",) * 6 + ("partial", "failed", "timed_out", "held")
T0 = datetime(2024, 1, 1, tzinfo=UTC)
BATCH = 20_000


class NoIndex:
    """Stands in for the index: the scrape's record counts are the index's cost, not the state database's."""

    def count(self, source_id: str | None = None) -> int:
        return 0


def history(count: int) -> Iterator[dict[str, Any]]:
    """`count` runs, the same every time; each source's last run is still running."""
    running_from = count - len(SOURCES)
    for n in range(count):
        started = T0 + timedelta(seconds=n * 30)
        status = "running" if n >= running_from else STATUSES[n % len(STATUSES)]
        micros = (n * 7_919_993) % 7_300_000_000  # 0 to ~2 h 2 min, to the microsecond
        http = None
        if n % 5 == 0:
            http = {"requests": 40, "errors_by_status": {"503": n % 3, "404": 1, "500": 1.5 if n % 7 == 0 else 2}}
        yield {
            "id": f"run{n:08d}",
            "source_id": SOURCES[n % len(SOURCES)],
            "trigger": "schedule",
            "status": status,
            "holder": None,
            "started_at": started,
            "finished_at": None if status == "running" else started + timedelta(microseconds=micros),
            "fetched": 100, "new": 1, "updated": 2, "unchanged": 97, "withdrawn": 0, "rejected": 0,
            "http": http,
            "error_type": None,
            "error_message": None,
            "report": None,
        }  # fmt: skip


def streak_history(count: int, streak: int) -> Iterator[dict[str, Any]]:
    """`streak` runs of each of STREAK_SOURCES, started after the `count` runs of `history`."""
    base = next(iter(history(1)))
    for n in range(streak):
        started = T0 + timedelta(seconds=(count + n) * 30)
        for source_id in STREAK_SOURCES:
            delivered = source_id == "bench_streak" and n == 0
            status = "succeeded" if delivered else ("failed", "timed_out")[n % 2]
            yield {**base, "id": f"{source_id}-{n:08d}", "source_id": source_id, "status": status,
                   "started_at": started, "finished_at": started + timedelta(seconds=61), "http": None}  # fmt: skip


def fill_at_0002(url: str, count: int, streak: int = 0) -> float:
    """Migrate an empty database to 0002 and store the sources and `count` runs (and `streak` runs of each of
    STREAK_SOURCES when not 0); returns the seconds taken."""
    start = time.perf_counter()
    engine = create_state_engine(url)
    try:
        with engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(migrate.MIGRATIONS_DIR))
            config.set_main_option("path_separator", "os")
            config.attributes["connection"] = connection
            command.upgrade(config, "0002")
            for source_id in SOURCES + (STREAK_SOURCES if streak else ()):
                url = f"https://bench.example.org/{source_id}.xml"
                source = RssSourceConfig(id=source_id, kind="rss", name=source_id, platform="bench",
                                         platform_name="bench", url=url)  # fmt: skip
                row = source.model_dump(mode="json")
                connection.execute(
                    sources.insert().values(
                        id=source_id,
                        platform="bench",
                        kind="rss",
                        name=source_id,
                        config=row,
                        enabled=True,
                        paused=False,
                        created_by="config",
                        created_at=T0,
                        updated_at=T0,
                    )  # fmt: skip
                )
            batch: list[dict[str, Any]] = []
            for row in itertools.chain(history(count), streak_history(count, streak)):
                batch.append(row)
                if len(batch) == BATCH:
                    connection.execute(runs.insert(), batch)
                    batch = []
            if batch:
                connection.execute(runs.insert(), batch)
    finally:
        engine.dispose()
    return time.perf_counter() - start


def median_seconds(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def upgrade_to_0003(url: str) -> float:
    """Migrate the filled database to 0003 (the run totals' backfill); returns the seconds taken."""
    engine = create_state_engine(url)
    try:
        start = time.perf_counter()
        with engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(migrate.MIGRATIONS_DIR))
            config.set_main_option("path_separator", "os")
            config.attributes["connection"] = connection
            command.upgrade(config, "0003")
        return time.perf_counter() - start
    finally:
        engine.dispose()


def measure(url: str, count: int, repeat: int, streak: int = 0) -> dict[str, Any]:
    filled = fill_at_0002(url, count, streak)
    backfill = upgrade_to_0003(url)
    start = time.perf_counter()
    store = StateStore.open(url)
    opened = time.perf_counter() - start
    try:
        collector = HarvestCollector(store, NoIndex())  # type: ignore[arg-type]
        families = list(collector._run_metrics())
        assert all(family.samples for family in families), "a run metric came back empty"
        run_metrics = median_seconds(lambda: list(collector._run_metrics()), repeat)
        metrics = AppMetrics(store=store, backend=NoIndex())  # type: ignore[arg-type]
        assert b"edufed_harvest_runs_total" in metrics.render()
        scrape = median_seconds(metrics.render, repeat)
        health = median_seconds(store.health, repeat)
        found = store.health()
        if streak:
            streaks = (found["bench_streak"].consecutive_failures, found["bench_never_good"].consecutive_failures)
            assert streaks == (streak - 1, streak), streaks
    finally:
        store.close()
    return {"runs": count, "fill_s": filled, "backfill_s": backfill, "open_s": opened, "run_metrics_s": run_metrics,
            "scrape_s": scrape, "health_s": health, "revision": migrate.head_revision()}  # fmt: skip


def sqlite_url(count: int) -> str:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"run-metrics-{count}.sqlite3"
    for leftover in OUT.glob(f"{path.name}*"):
        leftover.unlink()
    return f"sqlite:///{path}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dialect", choices=("sqlite", "postgresql"))
    parser.add_argument("--runs", type=int, nargs="+", default=[10, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=5, help="scrapes timed per size (median; default 5)")
    parser.add_argument("--url", default=PG_URL, help="PostgreSQL database for the fresh schemas")
    parser.add_argument("--streak", type=int, default=0, help="runs of each of two failing sources (default: none)")
    args = parser.parse_args()
    for count in args.runs:
        if args.dialect == "sqlite":
            found = measure(sqlite_url(count), count, args.repeat, args.streak)
        else:
            admin = create_engine(args.url)
            schema = f"bench_run_metrics_{uuid.uuid4().hex[:10]}"
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            try:
                found = measure(f"{args.url}?options=-csearch_path%3D{schema}", count, args.repeat, args.streak)
            finally:
                with admin.begin() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(
            f"{args.dialect} {found['runs']:>9,} runs{f' + 2 x {args.streak:,} failing' if args.streak else ''} "
            f"(head {found['revision']}): fill {found['fill_s']:.1f} s, 0003 backfill {found['backfill_s']:.2f} s, "
            f"open+migrate to head {found['open_s']:.2f} s, run metrics {found['run_metrics_s'] * 1000:.1f} ms, "
            f"harvest scrape {found['scrape_s'] * 1000:.1f} ms, of which health {found['health_s'] * 1000:.1f} ms "
            f"(median of {args.repeat}; load {load})",
            flush=True,
        )


if __name__ == "__main__":
    main()
