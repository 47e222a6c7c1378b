"""The whole service for end-to-end tests: the API over a state database and a SQLite index, with a scheduler."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from config.settings import Settings
from crawlers.schedule import HarvestScheduler
from crawlers.state import StateStore
from indexer.backends.sqlite import SqliteBackend
from indexer.linkage.incremental import Linker
from search_api.app import create_app
from tests.integration.api.catalogue import live_server


@dataclass
class LiveService:
    """The running service's URL and parts, and an admin key."""

    url: str
    store: StateStore
    backend: SqliteBackend
    scheduler: HarvestScheduler
    admin_key: str


@contextmanager
def live_service(settings: Settings, *, name: str) -> Iterator[LiveService]:
    """Serve the API on a free loopback port with a started scheduler named `name`; stop all of it afterwards."""
    with StateStore.for_settings(settings) as store:
        backend = SqliteBackend(settings.index_path, linker=Linker(store.links))  # as `edufed serve` opens it
        scheduler = HarvestScheduler(settings=settings, store=store, name=name)
        scheduler.start()
        try:
            app = create_app(settings=settings, backend=backend, store=store)
            app.state.scheduler = scheduler
            admin = store.keys.create(role="admin", label="测试管理员").key
            with live_server(app) as server:
                yield LiveService(server.url, store, backend, scheduler, admin)
        finally:
            scheduler.shutdown()
            backend.close()
