"""The bulk data dump: every live record as one gzipped JSON Lines file, with its schema and attribution.

    manifest = build_dump(backend, directory=data_dir / "dumps", settings=settings.dump)

Records stream from the index's change log in (datestamp, uid) order, a page at a time, up to the time the
dump started; entries stamped while it ran are read in one catch-up pass afterwards, so a record changed
mid-dump is neither lost nor written twice (only the uids written are held, never the records). The file is
written under a temporary name and renamed into place, then its manifest (`<name>.json`: counts, digest and
each platform's attribution) is renamed beside it: a dump is listed only once both are whole. The newest
`settings.keep` dumps are kept. `build_dump_in_child` runs a build in a process of its own at low priority
(`edufed dump` lowers its own), so a service answering searches keeps its interpreter and most of the CPU; and
a build pauses after every page to stay within BUSY_SHARE of one core, so searches keep their tail latency
even when the machine has no other work to preempt it with.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import multiprocessing
import os
import re
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from config.regions import region_table
from config.settings import DumpSettings, Settings
from indexer.backends.base import IndexBackend
from indexer.backends.changes import Change, ChangeQuery, now_stamp
from indexer.errors import DumpError
from indexer.record import Record

logger = logging.getLogger(__name__)

SCHEMA_FILE = "record.schema.json"
DUMP_NAME = re.compile(r"^edufed-\d{8}T\d{6}Z\.jsonl\.gz$")
_PAGE = 500
NICE = 10
"""The niceness a dump runs at, in the scheduler's child process and under `edufed dump` alike."""
BUSY_SHARE = 0.5
"""At most this share of the wall time is spent reading and writing: after each page the dump sleeps the rest,
so beside searches it takes at most half a core however idle the machine looks (bench/bench_dump.py)."""


def record_line(record: Record) -> dict[str, Any]:
    """One line of the dump: the public record (as /api/v1/records/{id} gives it), without the raw payload."""
    body = record.model_dump(mode="json", exclude={"raw"})
    body["id"] = record.uid
    return body


def record_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one line, generated from the record model."""
    schema = Record.model_json_schema(mode="serialization")
    schema["properties"].pop("raw", None)
    schema["properties"]["id"] = {"type": "string", "description": "Record id, the same as uid."}
    region = schema["properties"]["region"]
    region["properties"] = {
        "province": {"enum": [p.short for p in region_table().every],
                     "description": "Short form of the province, or 全国 for a national platform."},
        "city": {"type": "string", "description": "The city, e.g. 广州市, when known."},
    }  # fmt: skip
    schema["required"] = [name for name in schema.get("required", []) if name != "raw"] + ["id"]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "edufed record (one line of the bulk dump)", **schema}  # fmt: skip


def live_changes(backend: IndexBackend, *, since: int, until: int, busy_share: float = 1.0) -> Iterator[Change]:
    """The live entries (with their records) stamped in [since, until], in (datestamp, uid) order; with
    `busy_share` < 1, a pause after each page (its reading and the caller's work on it) keeps to that share."""
    after: tuple[int, str] | None = None
    while True:
        started = time.perf_counter()
        page = backend.changes(ChangeQuery(until=until, since=since, after=after, limit=_PAGE))
        yield from (c for c in page if not c.deleted and c.record is not None)
        if len(page) < _PAGE:
            return
        after = (page[-1].stamp, page[-1].uid)
        if busy_share < 1.0:
            time.sleep((time.perf_counter() - started) * (1.0 / busy_share - 1.0))


class _Tally:
    """Records written per platform, with the display name the records carry."""

    def __init__(self) -> None:
        self.platforms: dict[str, list[Any]] = {}
        self.written: set[str] = set()

    def add(self, record: Record) -> None:
        self.written.add(record.uid)
        entry = self.platforms.setdefault(record.platform, [record.platform_name, 0])
        entry[1] += 1

    def attribution(self, settings: DumpSettings) -> list[dict[str, Any]]:
        rows = []
        for platform, (name, count) in sorted(self.platforms.items()):
            configured = settings.platforms.get(platform)
            licence = (configured.licence if configured else None) or settings.default_licence
            url = configured.url if configured else None
            rows.append({"platform": platform, "name": name, "url": url, "records": count, "licence": licence})
        return rows


def _write_records(backend: IndexBackend, out: gzip.GzipFile, *, started: int, busy_share: float) -> _Tally:
    tally = _Tally()
    passes = [(0, started)]
    for since, until in passes:
        lines: list[str] = []
        for change in live_changes(backend, since=since, until=until, busy_share=busy_share):
            assert change.record is not None
            if change.uid in tally.written:
                continue
            tally.add(change.record)
            lines.append(json.dumps(record_line(change.record), ensure_ascii=False, separators=(",", ":")))
            if len(lines) >= _PAGE:
                out.write(("\n".join(lines) + "\n").encode())
                lines.clear()
        if lines:
            out.write(("\n".join(lines) + "\n").encode())
        if len(passes) == 1:  # the catch-up pass: entries stamped while the first one ran
            passes.append((started + 1, now_stamp()))
    return tally


def build_dump(
    backend: IndexBackend, *, directory: Path, settings: DumpSettings, busy_share: float = BUSY_SHARE
) -> dict[str, Any]:
    """Write a new dump into `directory`, publish it atomically, prune to `settings.keep`; its manifest.
    `busy_share` 1.0 reads without pausing (see BUSY_SHARE)."""
    started_at = datetime.now(UTC)
    name = f"edufed-{started_at:%Y%m%dT%H%M%SZ}.jsonl.gz"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _publish_json(directory / SCHEMA_FILE, record_schema())
        handle, temp = tempfile.mkstemp(dir=directory, prefix=".building-", suffix=".jsonl.gz")
    except OSError as exc:
        raise DumpError(f"cannot write dumps into {directory}: {exc}", path=str(directory)) from exc
    try:
        with os.fdopen(handle, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", filename="", mtime=0) as out:
            tally = _write_records(backend, out, started=now_stamp(), busy_share=busy_share)
        digest, size = _digest(Path(temp))
        os.replace(temp, directory / name)
    except BaseException as exc:
        Path(temp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise DumpError(f"cannot write dump {name}: {exc}", path=str(directory / name)) from exc
        raise
    manifest = {"file": name, "created": started_at.isoformat(timespec="seconds"),
                "records": len(tally.written), "bytes": size, "sha256": digest, "schema": SCHEMA_FILE,
                "attribution": tally.attribution(settings)}  # fmt: skip
    _publish_json(directory / manifest_name(name), manifest)
    prune(directory, keep=settings.keep)
    logger.info("dump %s: %d records, %d bytes", name, manifest["records"], size)
    return manifest


def manifest_name(dump_name: str) -> str:
    """The manifest file of a dump file: edufed-….jsonl.gz -> edufed-….json."""
    return dump_name.removesuffix(".jsonl.gz") + ".json"


def list_dumps(directory: Path) -> list[dict[str, Any]]:
    """The manifests of the published dumps, newest first (a dump without a whole manifest is not listed)."""
    found = []
    for path in sorted(directory.glob("edufed-*.jsonl.gz"), reverse=True):
        if not DUMP_NAME.match(path.name):
            continue
        try:
            found.append(json.loads((directory / manifest_name(path.name)).read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return found


def prune(directory: Path, *, keep: int) -> list[str]:
    """Delete all but the newest `keep` dumps (manifest first, so none is listed half gone); their names."""
    dumps = sorted((p for p in directory.glob("edufed-*.jsonl.gz") if DUMP_NAME.match(p.name)), reverse=True)
    removed = []
    for path in dumps[keep:]:
        (directory / manifest_name(path.name)).unlink(missing_ok=True)
        path.unlink(missing_ok=True)
        removed.append(path.name)
    return removed


def _publish_json(path: Path, body: dict[str, Any]) -> None:
    temp = path.with_name(f".building-{os.getpid()}-{path.name}")
    temp.write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(temp, path)


def _digest(path: Path) -> tuple[str, int]:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest(), path.stat().st_size


def dump_directory(settings: Settings) -> Path:
    """Where the dumps live: <data_dir>/dumps."""
    return settings.data_dir / "dumps"


def lower_priority() -> None:
    """Run this process at the dump's niceness (searches come first); a process already nicer stays as it is."""
    current = os.nice(0)
    if current < NICE:
        os.nice(NICE - current)


def _child(settings: Settings) -> None:
    from indexer.backends import open_backend

    lower_priority()  # searches in the serving process come first
    backend = open_backend(settings)
    try:
        build_dump(backend, directory=dump_directory(settings), settings=settings.dump)
    finally:
        backend.close()


def build_dump_in_child(settings: Settings, *, timeout: float = 6 * 3600.0) -> None:
    """Build a dump in a new low-priority process and wait for it; DumpError when it fails or overruns."""
    process = multiprocessing.get_context("spawn").Process(target=_child, args=(settings,), name="edufed-dump")
    process.start()
    process.join(timeout)
    if process.is_alive():
        process.terminate()
        process.join()
        raise DumpError(f"the dump did not finish within {timeout:.0f} s", path=str(dump_directory(settings)))
    if process.exitcode != 0:
        raise DumpError(f"the dump process failed (exit code {process.exitcode})", path=str(dump_directory(settings)))
