"""Fixtures of the OAI-PMH provider tests: the 10,000-course repository the independent harvesters page through."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from indexer.backends.sqlite import SqliteBackend
from tests.integration.oai.repository import NoLinking, Repository, course, serve_repository

CATALOGUE = 10_000


@pytest.fixture(scope="module")
def big_repository(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Repository]:
    """10,000 courses of three platforms, every theme and three programmes, at /oai, 500 a page (the most allowed)."""
    directory = tmp_path_factory.mktemp("oai-big")
    backend = SqliteBackend(directory / "index.sqlite3", linker=NoLinking())
    try:
        with serve_repository(directory, records=[course(n) for n in range(CATALOGUE)], backend=backend,
                              page_size=500) as repository:  # fmt: skip
            yield repository
    finally:
        backend.close()
