"""Fixtures of the IndexBackend contract suite: one `backend` per implementation and a fixed Chinese corpus.

To run the suite against another backend, add a factory to BACKEND_FACTORIES: it opens (or reopens) the
backend whose storage lives under the given directory. The tests never name a backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from contract_corpus import BackendFactory, SearchAll, build_corpus
from es_backend import ELASTICSEARCH_FACTORY, elasticsearch_session  # noqa: F401 (session fixture)

from indexer.backends.base import IndexBackend, SearchQuery
from indexer.backends.sqlite import SqliteBackend
from indexer.record import Record

BACKEND_FACTORIES: dict[str, BackendFactory] = {
    "sqlite-tantivy": lambda directory: SqliteBackend(directory / "index.sqlite3", search_engine="tantivy"),
    "sqlite-fts5": lambda directory: SqliteBackend(directory / "index.sqlite3", search_engine="fts5"),
    "elasticsearch": ELASTICSEARCH_FACTORY,
}


@pytest.fixture(params=sorted(BACKEND_FACTORIES))
def backend_factory(request: pytest.FixtureRequest) -> BackendFactory:
    return BACKEND_FACTORIES[request.param]


@pytest.fixture
def backend(backend_factory: BackendFactory, tmp_path: Path) -> Iterator[IndexBackend]:
    index = backend_factory(tmp_path)
    yield index
    index.close()


@pytest.fixture(scope="session")
def corpus() -> list[Record]:
    return build_corpus()


@pytest.fixture
def loaded(backend: IndexBackend, corpus: list[Record]) -> IndexBackend:
    """The backend holding the whole corpus."""
    backend.upsert(corpus)
    return backend


@pytest.fixture
def by_uid(corpus: list[Record]) -> dict[str, Record]:
    return {r.uid: r for r in corpus}


@pytest.fixture
def uid(corpus: list[Record]) -> dict[str, str]:
    """source_id -> uid of the corpus records (tests name records by their short source ids)."""
    return {r.source_id: r.uid for r in corpus}


@pytest.fixture
def search_all(backend: IndexBackend) -> SearchAll:
    """Every hit of a query, following next_cursor page by page (size 4)."""

    def run(**query: Any) -> list[Any]:
        hits: list[Any] = []
        cursor = None
        for _ in range(1000):
            result = backend.search(SearchQuery(size=4, cursor=cursor, **query))
            hits.extend(result.hits)
            cursor = result.next_cursor
            if cursor is None:
                return hits
        raise AssertionError("cursor paging did not end")

    return run
