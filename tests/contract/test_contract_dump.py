"""Contract: every backend streams the bulk dump: each live record once, no withdrawn one, changes included."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from config.settings import DumpSettings
from indexer.backends.base import IndexBackend
from indexer.dump import build_dump
from tests.integration.oai.repository import course

COUNT = 1100  # more than two pages of the change log


def test_every_backend_dumps_each_live_record_once(backend: IndexBackend, tmp_path: Path) -> None:
    records = [course(n) for n in range(COUNT)]
    backend.upsert(records)
    backend.withdraw([records[0].uid, records[700].uid])
    backend.upsert([course(3, version=1)])
    manifest = build_dump(backend, directory=tmp_path / "dumps", settings=DumpSettings())
    with gzip.open(tmp_path / "dumps" / manifest["file"], "rt", encoding="utf-8") as handle:
        lines = [json.loads(line) for line in handle]
    assert sorted(line["id"] for line in lines) == sorted(r.uid for r in records if r not in (records[0], records[700]))
    assert next(line for line in lines if line["id"] == records[3].uid)["subtitle"] == "第2版"
    assert sum(row["records"] for row in manifest["attribution"]) == COUNT - 2
