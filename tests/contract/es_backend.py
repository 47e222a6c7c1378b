"""The Elasticsearch side of the contract suite: a backend factory and the session fixture behind it.

The factory maps a test's directory to its own alias, so reopening the same directory reopens the same
index. The engine (noida-db, or ELASTICSEARCH_URL's cluster) starts on the first Elasticsearch test only,
and at the end of the session every alias the tests made is dropped and the engine stopped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from indexer.backends.elasticsearch import ElasticsearchBackend
from indexer.backends.es_bulk import BulkOptions
from tests.support.noida import TEST_ALIAS_PREFIX, elasticsearch_engine


class ElasticsearchFactory:
    """Opens an ElasticsearchBackend per test directory; starts the engine on first use."""

    def __init__(self) -> None:
        self._stack: ExitStack | None = None
        self._url: str | None = None
        self.aliases: set[str] = set()

    def attach(self, stack: ExitStack) -> None:
        self._stack = stack

    def url(self) -> str:
        if self._url is None:
            if self._stack is None:
                raise RuntimeError("the elasticsearch_session fixture is not active")
            self._url = self._stack.enter_context(elasticsearch_engine())
        return self._url

    def __call__(self, directory: Path) -> ElasticsearchBackend:
        alias = TEST_ALIAS_PREFIX + hashlib.sha1(str(directory.resolve()).encode()).hexdigest()[:16]
        self.aliases.add(alias)
        return ElasticsearchBackend(
            self.url(), alias=alias, replicas=0, bulk=BulkOptions(initial_backoff=0.05, max_backoff=1.0)
        )

    def drop_all(self) -> None:
        if self._url is None:
            return
        client = Elasticsearch(self._url)
        try:
            for alias in sorted(self.aliases):
                names = list(client.indices.get(index=f"{alias}-v*", allow_no_indices=True))
                if names:  # by name: clusters refuse wildcard deletes (destructive_requires_name)
                    client.indices.delete(index=",".join(names), ignore_unavailable=True)
                client.options(ignore_status=404).indices.delete_index_template(name=alias)
                client.options(ignore_status=404).indices.delete(index=f"{alias}-oai")  # the OAI change log
        finally:
            client.close()
        self.aliases.clear()


ELASTICSEARCH_FACTORY = ElasticsearchFactory()


@pytest.fixture(scope="session", autouse=True)
def elasticsearch_session() -> Iterator[ElasticsearchFactory]:
    """Owns the engine the factory starts lazily; drops the tests' indices and stops it at the end."""
    with ExitStack() as stack:
        ELASTICSEARCH_FACTORY.attach(stack)
        try:
            yield ELASTICSEARCH_FACTORY
        finally:
            ELASTICSEARCH_FACTORY.drop_all()
