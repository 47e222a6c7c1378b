"""`edufed dump` and the scheduler's child-process build publish a dump of the configured index."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from config.loader import load_settings
from indexer.backends.sqlite import SqliteBackend
from indexer.dump import build_dump_in_child, list_dumps
from search_api.cli import Console, main
from tests.integration.oai.repository import NoLinking, course


def _index(data_dir: Path, count: int) -> None:
    backend = SqliteBackend(data_dir / "index.sqlite3", linker=NoLinking())
    backend.upsert([course(n) for n in range(count)])
    backend.close()


def test_dump_command_publishes_the_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _index(tmp_path, 40)
    monkeypatch.setenv("EDUFED_DATA_DIR", str(tmp_path))
    out, err = io.StringIO(), io.StringIO()
    assert main(["dump", "--json"], console=Console(out=out, err=err)) == 0
    manifest = json.loads(out.getvalue())
    assert manifest["records"] == 40
    with gzip.open(tmp_path / "dumps" / manifest["file"], "rt", encoding="utf-8") as handle:
        assert len(handle.readlines()) == 40


def test_the_scheduled_build_runs_in_a_child_process(tmp_path: Path) -> None:
    _index(tmp_path, 15)
    build_dump_in_child(load_settings(environ={"EDUFED_DATA_DIR": str(tmp_path)}), timeout=120)
    (manifest,) = list_dumps(tmp_path / "dumps")
    assert manifest["records"] == 15
