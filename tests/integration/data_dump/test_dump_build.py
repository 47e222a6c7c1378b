"""The bulk dump: every live record once, schema-valid lines, attribution, atomic publication, pruning."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import jsonschema_rs
import pytest

from config.settings import DumpSettings, PlatformAttribution
from indexer.backends.sqlite import SqliteBackend
from indexer.dump import build_dump, list_dumps, prune, record_schema
from indexer.errors import DumpError
from tests.integration.oai.repository import NoLinking, course


@pytest.fixture
def index(tmp_path: Path) -> SqliteBackend:
    backend = SqliteBackend(tmp_path / "index.sqlite3", linker=NoLinking())
    yield backend  # type: ignore[misc]
    backend.close()


def _lines(directory: Path, name: str) -> list[dict[str, object]]:
    with gzip.open(directory / name, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_dump_holds_every_live_record_once_valid_against_its_schema(index: SqliteBackend, tmp_path: Path) -> None:
    records = [course(n) for n in range(1200)]
    index.upsert(records)
    index.withdraw([records[5].uid])
    settings = DumpSettings(platforms={"lndx": PlatformAttribution(url="https://lndx.example.cn", licence="CC BY 4.0")})
    manifest = build_dump(index, directory=tmp_path / "dumps", settings=settings)
    lines = _lines(tmp_path / "dumps", str(manifest["file"]))
    assert sorted(str(line["id"]) for line in lines) == sorted(r.uid for r in records if r is not records[5])
    assert "raw" not in lines[0] and lines[0]["title"]
    schema = json.loads((tmp_path / "dumps" / "record.schema.json").read_text(encoding="utf-8"))
    assert schema == record_schema()
    validator = jsonschema_rs.validator_for(schema)
    assert all(validator.is_valid(line) for line in lines)
    assert not validator.is_valid({"id": "x"})
    by_platform = {row["platform"]: row for row in manifest["attribution"]}
    assert sum(row["records"] for row in by_platform.values()) == manifest["records"] == 1199
    assert by_platform["lndx"]["url"] == "https://lndx.example.cn" and by_platform["lndx"]["licence"] == "CC BY 4.0"
    assert by_platform["le_ouchn"]["licence"] == settings.default_licence
    assert list_dumps(tmp_path / "dumps") == [manifest]
    assert not [p for p in (tmp_path / "dumps").iterdir() if p.name.startswith(".")]


def test_dump_lines_carry_the_region_and_its_schema_knows_the_provinces(index: SqliteBackend, tmp_path: Path) -> None:
    placed = course(1).model_copy(update={"region": {"province": "广东", "city": "广州市"}})
    index.upsert([course(0), placed.model_copy(update={"content_hash": placed.compute_hash()})])
    manifest = build_dump(index, directory=tmp_path / "dumps", settings=DumpSettings())
    lines = {str(line["id"]): line for line in _lines(tmp_path / "dumps", str(manifest["file"]))}
    assert lines[placed.uid]["region"] == {"province": "广东", "city": "广州市"}
    assert lines[course(0).uid]["region"] == {}
    validator = jsonschema_rs.validator_for(record_schema())
    assert all(validator.is_valid(line) for line in lines.values())
    assert not validator.is_valid({**lines[placed.uid], "region": {"province": "广东省"}})  # only the short form


def test_a_dump_that_cannot_be_written_is_a_clear_error(index: SqliteBackend, tmp_path: Path) -> None:
    index.upsert([course(n) for n in range(10)])
    (tmp_path / "dumps").write_text("not a directory", encoding="utf-8")
    with pytest.raises(DumpError, match="cannot write dumps into") as raised:
        build_dump(index, directory=tmp_path / "dumps", settings=DumpSettings())
    assert raised.value.path == str(tmp_path / "dumps")
    assert (tmp_path / "dumps").read_text(encoding="utf-8") == "not a directory"


def test_only_the_newest_dumps_are_kept(tmp_path: Path) -> None:
    names = [f"edufed-2024010{day}T030000Z" for day in range(1, 6)]
    for name in names:
        (tmp_path / f"{name}.jsonl.gz").write_bytes(b"")
        (tmp_path / f"{name}.json").write_text(json.dumps({"file": f"{name}.jsonl.gz"}), encoding="utf-8")
    assert prune(tmp_path, keep=2) == [f"{name}.jsonl.gz" for name in reversed(names[:3])]
    assert [d["file"] for d in list_dumps(tmp_path)] == [f"{name}.jsonl.gz" for name in reversed(names[3:])]
