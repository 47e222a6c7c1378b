"""A SQLite index of the bench's generated corpus, as the benchmark scripts' small runs start from."""

from __future__ import annotations

from pathlib import Path

from bench.corpus import generate
from indexer.backends.sqlite import SqliteBackend


def write_generated_index(path: Path, count: int) -> Path:
    """`count` generated records written to a new index file at `path` (default engine), closed again."""
    backend = SqliteBackend(path)
    try:
        backend.upsert(list(generate(count)))
    finally:
        backend.close()
    return path
