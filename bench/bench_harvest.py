"""Harvest->index benchmark: a local JSON API or OAI-PMH catalogue harvested into a fresh SQLite index.

Run from the checkout (see bench/README.md):

    .venv/bin/python -m bench.bench_harvest json_api --count 100000
    .venv/bin/python -m bench.bench_harvest oai_pmh --count 100000 --page-size 200
    .venv/bin/python -m bench.bench_harvest le_ouchn --count 10000 --rerun   # first run, then an unchanged one

`bench/harvest_server.py` serves the generated corpus from a child process (its CPU is not ours); this process
runs `crawlers.run.harvest` with a real Fetcher over HTTP into `bench/out/harvest-<kind>-<count>.sqlite3`, the
way `edufed harvest` does. It reports records/s, the process's peak RSS, where the time went (HTTP exchange,
source parsing and the run's own work, building records, index writes), and afterwards the bare parser's rate
on the same page bytes (json.loads or lxml, iterating the items, nothing else). `--state` also writes the state
database (run row, record states, cursor) when `harvest` takes a `state` store. `--rerun` (with the state
database) harvests the unchanged catalogue a second time and reports both runs' requests and seconds.
"""

from __future__ import annotations

import argparse
import inspect
import json
import logging
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
from lxml import etree

from bench.bench_index import directory_bytes, fresh_sqlite
from bench.harvest_server import FEED_PATH, KINDS, OAI_PATH, PAGING_PATH, VERSION_PATH
from config.loader import load_themes
from config.settings import HttpSettings, Settings
from config.source_models import (
    JsonApiSourceConfig,
    OaiPmhSourceConfig,
    RssSourceConfig,
    SourceBase,
    StaticCatalogSourceConfig,
)
from crawlers.fetch import Fetcher, FetchResponse
from crawlers.run import RunProgress, harvest
from indexer.backends.base import UpsertResult
from indexer.backends.sqlite import SqliteBackend
from indexer.pipeline import RecordBuilder
from indexer.record import RawRecord, Record

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
OAI_RECORD = "{http://www.openarchives.org/OAI/2.0/}record"
OAI_IDENTIFIER = "{http://www.openarchives.org/OAI/2.0/}header/{http://www.openarchives.org/OAI/2.0/}identifier"


@dataclass(frozen=True)
class Catalogue:
    """A running harvest_server: its base URL and what it serves."""

    url: str
    kind: str
    records: int
    pages: int
    bytes: int


@contextmanager
def catalogue_server(kind: str, *, count: int, page_size: int, port: int = 0) -> Iterator[Catalogue]:
    """Start bench.harvest_server in a child process, wait for its ready line, terminate it afterwards."""
    command = [sys.executable, "-m", "bench.harvest_server", kind, "--count", str(count), "--page-size", str(page_size)]
    command += ["--port", str(port)]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line:
                raise SystemExit(f"harvest_server exited with status {process.wait()} before it was ready")
            ready = json.loads(line)
            yield Catalogue(ready["url"], kind, ready["records"], ready["pages"], ready["bytes"])
        finally:
            process.terminate()  # leaving the block closes its stdout and waits for it


def source_config(catalogue: Catalogue, *, page_size: int) -> SourceBase:
    """The source as an operator would configure it for this catalogue (le.ouchn's block, an OAI block, ...)."""
    if catalogue.kind == "le_ouchn":
        listing = source_config(Catalogue(catalogue.url, "json_api", catalogue.records, catalogue.pages, 0),
                                page_size=page_size)  # fmt: skip
        detail = {
            "url_template": f"{catalogue.url}/api/Course/{{Id}}/MicroCourse/Details",
            "fields": {"title": "Data.Name"},
            "lessons_path": "Data.Modules",
            "lesson_fields": {"id": "Id", "title": "Title"},
        }
        return JsonApiSourceConfig.model_validate({**listing.model_dump(mode="json"), "id": "bench_le_ouchn",
                                                   "detail": detail})  # fmt: skip
    if catalogue.kind == "rss":
        return RssSourceConfig.model_validate(
            {"id": "bench_rss", "kind": "rss", "name": "基准测试课程订阅源", "platform": "bench_feed",
             "platform_name": "基准测试订阅源", "url": f"{catalogue.url}{FEED_PATH}", "complete_listing": True}
        )  # fmt: skip
    if catalogue.kind == "static_catalog":
        return StaticCatalogSourceConfig.model_validate(
            {"id": "bench_static", "kind": "static_catalog", "name": "基准测试资源目录", "platform": "bench_cdn",
             "platform_name": "基准测试资源目录", "version_url": f"{catalogue.url}{VERSION_PATH}",
             "url_template": "https://bench.example.edu.cn/r/{id}",
             "fields": {"title": "title", "description": "description", "tags": "tag_list.*.tag_name"}}
        )  # fmt: skip
    if catalogue.kind == "json_api":
        return JsonApiSourceConfig.model_validate(
            {
                "id": "bench_json",
                "kind": "json_api",
                "name": "基准测试课程库（JSON API）",
                "platform": "le_ouchn",
                "platform_name": "国家开放大学终身教育平台",
                "url": f"{catalogue.url}{PAGING_PATH}",
                "params": {"ChannelId": "education", "IsShowPaid": "true", "PageSize": page_size},
                "page_param": "PageNum",
                "page_start": 1,
                "max_pages": catalogue.pages + 1,
                "items_path": "Data.PageListInfos",
                "page_count_path": "Data.PageCount",
                "id_field": "Id",
                "url_template": "https://le.ouchn.cn/courseDetails/{Id}",
                "fields": {
                    "title": "Name",
                    "description": "Subtitle",
                    "instructors": "Teacher",
                    "provider": "SourceName",
                    "learner_count": "StudentCount",
                    "tags": "Tag",
                },
                "defaults": {"record_type": "micro_course", "media_type": "video"},
            }
        )
    return OaiPmhSourceConfig.model_validate(
        {
            "id": "bench_oai",
            "kind": "oai_pmh",
            "name": "基准测试资源库（OAI-PMH）",
            "platform": "bench_repository",
            "platform_name": "基准测试资源库",
            "base_url": f"{catalogue.url}{OAI_PATH}",
            "max_pages": catalogue.pages + 1,
            "type_map": {
                "MovingImage": {"record_type": "video", "media_type": "video"},
                "Text": {"record_type": "document", "media_type": "document"},
                "课程": {"record_type": "course"},
            },
        }
    )


class TimedFetcher(Fetcher):
    """A Fetcher that adds up the seconds spent in requests (sending, waiting, reading the body)."""

    seconds = 0.0

    def request(self, method: str, url: str, **options: Any) -> FetchResponse:
        started = time.perf_counter()
        try:
            return super().request(method, url, **options)
        finally:
            self.seconds += time.perf_counter() - started


class TimedBuilder(RecordBuilder):
    """A RecordBuilder that adds up the seconds spent building records."""

    seconds = 0.0

    def build(self, raw: RawRecord, source: SourceBase, *, fetched_at: datetime) -> Record:
        started = time.perf_counter()
        try:
            return super().build(raw, source, fetched_at=fetched_at)
        finally:
            self.seconds += time.perf_counter() - started


class TimedBackend(SqliteBackend):
    """A SqliteBackend that adds up the seconds spent in upsert (analysis, rows, the write transaction)."""

    seconds = 0.0

    def upsert(self, records: Any) -> UpsertResult:
        started = time.perf_counter()
        try:
            return super().upsert(records)
        finally:
            self.seconds += time.perf_counter() - started


class Checkpoints:
    """The progress callback: one JSON line every `every` fetched records, with the rate and current RSS."""

    def __init__(self, every: int) -> None:
        self.every = every
        self.mark = (0, time.perf_counter())

    def __call__(self, progress: RunProgress) -> None:
        if progress.phase != "fetching" or progress.fetched - self.mark[0] < self.every:
            return
        now = time.perf_counter()
        rate = (progress.fetched - self.mark[0]) / (now - self.mark[1])
        line = {"fetched": progress.fetched, "stretch_records_per_s": round(rate), "rss_mb": current_rss_mb()}
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
        self.mark = (progress.fetched, now)


def current_rss_mb() -> float | None:
    """Resident set size now (Linux /proc), in MB."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return round(pages * resource.getpagesize() / 2**20, 1)


def peak_rss_mb() -> float:
    """The process's peak resident set size so far (ru_maxrss is in KiB on Linux)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@dataclass
class Timers:
    """The timed parts of one harvest; what is left of the wall time is parsing and the run's own work."""

    fetcher: TimedFetcher
    builder: TimedBuilder
    backend: TimedBackend

    def split(self, seconds: float) -> dict[str, float]:
        spent = self.fetcher.seconds + self.builder.seconds + self.backend.seconds
        return {
            "http": round(self.fetcher.seconds, 1),
            "parse_and_run": round(seconds - spent, 1),
            "build": round(self.builder.seconds, 1),
            "index_write": round(self.backend.seconds, 1),
        }


def run_harvest(args: argparse.Namespace, catalogue: Catalogue) -> dict[str, Any]:
    """One timed harvest of the catalogue into a fresh index (and state database with --state); with --rerun,
    a second harvest of the unchanged catalogue into the same index and state, reported under `rerun`."""
    index = Path(args.index or f"bench/out/harvest-{catalogue.kind}-{catalogue.records}.sqlite3")
    fresh_sqlite(index)
    source = source_config(catalogue, page_size=args.page_size)
    extra, state = _state_arguments(args, index, source)
    try:
        result = _timed_harvest(args, index, source, extra)
        if args.rerun:
            again = _timed_harvest(args, index, source, extra)
            keys = ("status", "fetched", "unchanged", "withdrawn", "requests", "bytes_received", "harvest_seconds")
            result["rerun"] = {key: again[key] for key in keys}
            result["rerun"]["requests_share"] = round(again["requests"] / max(result["requests"], 1), 4)
            result["rerun"]["notes"] = again["notes"]
    finally:
        if state is not None:
            state.close()
    return result


def _timed_harvest(args: argparse.Namespace, index: Path, source: SourceBase, extra: dict[str, Any]) -> dict[str, Any]:
    http = HttpSettings(delay_seconds=0, retries=0, timeout_seconds=60, allow_private_hosts=["127.0.0.1"])
    timers = Timers(TimedFetcher(http, delay_seconds=0), TimedBuilder(load_themes()), TimedBackend(index))
    result: dict[str, Any] = {"rss_before_mb": current_rss_mb()}
    if args.trace_python:
        tracemalloc.start()
    try:
        cpu_started, started = time.process_time(), time.perf_counter()
        report = harvest(
            source,
            settings=Settings(http=http, data_dir=index.parent),
            backend=timers.backend,
            builder=timers.builder,
            fetcher=timers.fetcher,
            progress=Checkpoints(args.checkpoint),
            **extra,
        )
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        result["python_heap_peak_mb"] = (
            round(tracemalloc.get_traced_memory()[1] / 2**20, 1) if args.trace_python else None
        )
        tracemalloc.stop()
        result["indexed"] = timers.backend.count(source.id)
    finally:
        timers.fetcher.close()
        timers.backend.close()
    result.update(
        status=report.status,
        error=report.error.message if report.error else None,
        fetched=report.fetched,
        new=report.new,
        updated=report.updated,
        unchanged=report.unchanged,
        withdrawn=report.withdrawn,
        rejected=report.rejected,
        notes=report.notes,
        requests=report.http.requests,
        bytes_received=report.http.bytes,
        harvest_seconds=round(seconds, 1),
        records_per_s=round(report.fetched / seconds),
        cpu_seconds=round(cpu_seconds, 1),
        records_per_cpu_s=round(report.fetched / max(cpu_seconds, 1e-6)),
        split_seconds=timers.split(seconds),
        peak_rss_mb=peak_rss_mb(),
        bytes_on_disk=directory_bytes(index),
        state="state" in extra,
    )
    return result


def _state_arguments(args: argparse.Namespace, index: Path, source: SourceBase) -> tuple[dict[str, Any], Any]:
    """harvest's `state=` argument when --state asks for it: a fresh SQLite state database beside the index,
    with the source registered in it (as `edufed serve` seeds sources.yaml)."""
    if not (args.state or args.rerun):
        return {}, None
    if "state" not in inspect.signature(harvest).parameters:
        raise SystemExit("--state: crawlers.run.harvest does not take a state store in this checkout")
    from crawlers.state.store import StateStore

    path = index.with_name(index.stem + "-state.sqlite3")
    fresh_sqlite(path)
    store = StateStore.open(f"sqlite:///{path.resolve()}")
    store.sources.seed([source])  # type: ignore[list-item]
    return {"state": store}, store


def download_pages(catalogue: Catalogue, *, page_size: int) -> list[bytes]:
    """Every list page's bytes, fetched plainly (untimed), for the bare parser."""
    pages: list[bytes] = []
    with requests.Session() as session:
        for number in range(1, catalogue.pages + 1):
            if catalogue.kind == "json_api":
                params: Mapping[str, Any] = {"PageNum": number, "PageSize": page_size}
                response = session.get(f"{catalogue.url}{PAGING_PATH}", params=params, timeout=60)
            else:
                params = {"verb": "ListRecords", "metadataPrefix": "oai_dc"} if number == 1 else {}
                params = params or {"verb": "ListRecords", "resumptionToken": f"page-{number}"}
                response = session.get(f"{catalogue.url}{OAI_PATH}", params=params, timeout=60)
            response.raise_for_status()
            pages.append(response.content)
    return pages


def bare_parse(kind: str, pages: Sequence[bytes]) -> dict[str, Any]:
    """Parse every page and walk its items (reading each id), nothing else: the floor of the source's parsing."""
    started = time.perf_counter()
    items = 0
    for body in pages:
        if kind == "json_api":
            for item in json.loads(body)["Data"]["PageListInfos"]:
                items += bool(item["Id"])
        else:
            for record in etree.fromstring(body).iter(OAI_RECORD):
                items += bool(record.findtext(OAI_IDENTIFIER))
    seconds = time.perf_counter() - started
    return {
        "parser": "json.loads" if kind == "json_api" else "lxml.etree.fromstring",
        "items": items,
        "seconds": round(seconds, 2),
        "records_per_s": round(items / seconds),
        "payload_mb": round(sum(map(len, pages)) / 2**20, 1),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--count", type=int, default=100_000, help="records the catalogue serves")
    parser.add_argument("--page-size", type=int, default=100, help="records per page (OAI: per resumption)")
    parser.add_argument("--checkpoint", type=int, default=10_000, help="records between progress lines")
    parser.add_argument("--index", default=None, help="SQLite index file (default bench/out/harvest-KIND-N...)")
    parser.add_argument("--state", action="store_true", help="also write a fresh SQLite state database")
    parser.add_argument("--rerun", action="store_true", help="then harvest the unchanged catalogue again (--state)")
    parser.add_argument("--port", type=int, default=0, help="catalogue port (fixed: comparable api_url/hashes)")
    parser.add_argument(
        "--trace-python", action="store_true", help="also trace Python allocations (tracemalloc; slows the run)"
    )
    parser.add_argument("--no-bare", action="store_true", help="skip the bare parser measurement")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    with catalogue_server(args.kind, count=args.count, page_size=args.page_size, port=args.port) as catalogue:
        result: dict[str, Any] = {"kind": args.kind, "count": args.count, "page_size": args.page_size}
        result["payload_bytes"] = catalogue.bytes
        result.update(run_harvest(args, catalogue))
        if not args.no_bare and args.kind in (
            "json_api",
            "oai_pmh",
        ):  # after the harvest, so the pages held here do not count in its peak RSS
            result["bare_parser"] = bare_parse(args.kind, download_pages(catalogue, page_size=args.page_size))
    result["command"] = " ".join(sys.argv)
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0 if result["status"] in ("succeeded", "partial") else 1


if __name__ == "__main__":
    sys.exit(main())
