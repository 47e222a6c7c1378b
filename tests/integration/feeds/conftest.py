"""Fixtures of the feed and sitemap tests: a real SQLite index of generated courses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer.backends.sqlite import SqliteBackend
from tests.integration.oai.repository import NoLinking


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SqliteBackend]:
    backend = SqliteBackend(tmp_path / "index.sqlite3", linker=NoLinking())
    yield backend
    backend.close()
