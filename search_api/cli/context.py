"""What the commands open: the demo's settings, the state database, the index, and the sources to work on
(the configuration file's, the registered ones, or the demo platforms')."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from config.loader import load_query_words, load_sources, load_themes
from config.settings import Settings
from config.source_models import SourceBase
from config.themes import ThemeTable
from crawlers.demo import DemoPlatforms, demo_sources
from crawlers.state import CONFIG_ACTOR, StateStore, state_url
from indexer.analysis import QueryVocabulary
from indexer.backends import open_backend
from indexer.backends.base import IndexBackend
from search_api.services.source_actions import deletion_hold

logger = logging.getLogger(__name__)

DEMO_SUBDIR = "demo"
"""The demo catalogue's data directory under data_dir, the one `edufed serve --demo` and every `--demo` use."""


def demo_settings(settings: Settings) -> Settings:
    """The settings of the demo catalogue: its own data directory, apart from the real one (the CLI applies it
    for `--demo` on every command, before the command runs)."""
    return settings.model_copy(update={"data_dir": settings.data_dir / DEMO_SUBDIR})


def search_vocabulary(settings: Settings, themes: ThemeTable | None = None) -> QueryVocabulary:
    """How the index reads queries: the settings' query_words.yaml and the theme names of their themes.yaml
    (`themes` when the command has loaded it already)."""
    from indexer.query_vocabulary import query_vocabulary  # rjieba: loaded by the commands that open an index

    themes = themes if themes is not None else load_themes(settings.themes_file)
    return query_vocabulary(load_query_words(settings.query_words_file), themes)


def file_source_ids(settings: Settings) -> frozenset[str]:
    """The ids of the sources the settings' sources.yaml defines (which the API and the CLI do not delete)."""
    return frozenset(source.id for source in load_sources(settings.sources_file))


@contextmanager
def open_index(
    settings: Settings, store: StateStore | None = None, *, themes: ThemeTable | None = None
) -> Iterator[IndexBackend]:
    """The index, reading queries by `search_vocabulary` of the settings and `themes` (the settings' themes.yaml,
    loaded here unless the command has loaded it already), its clusters honouring the admins' link decisions of
    `store` (the state database); a new index records the themes version of that table."""
    from indexer.themes_version import themes_version

    themes = themes if themes is not None else load_themes(settings.themes_file)
    backend = open_backend(
        settings,
        vocabulary=search_vocabulary(settings, themes),
        decisions=store.links if store is not None else None,
        themes_version=themes_version(themes),
    )
    try:
        yield backend
    finally:
        backend.close()


@contextmanager
def open_state(settings: Settings) -> Iterator[StateStore]:
    """The state database (migrated on open), closed when the command ends."""
    store = StateStore.for_settings(settings)
    try:
        yield store
    finally:
        store.close()


def state_exists(settings: Settings) -> bool:
    """Whether there is a state database to read (a SQLite one is only created by commands that write)."""
    return settings.state_db_url is not None or Path(state_url(settings).removeprefix("sqlite:///")).exists()


@contextmanager
def sources_for(settings: Settings, *, demo: bool, server_port: int | None = None) -> Iterator[list[SourceBase]]:
    """The configured sources, or the demo sources while the demo platforms run.

    The demo platforms prefer the port after the server's, so the links stored in demo records keep working
    from one start to the next; a random free port is used when that one is taken.
    """
    if not demo:
        yield list(load_sources(settings.sources_file))
        return
    port = settings.server.port if server_port is None else server_port
    with _demo_platforms(preferred_port=port + 1 if port else 0) as platforms:
        yield list(demo_sources(platforms.base_url))


def _demo_platforms(*, preferred_port: int) -> DemoPlatforms:
    """The demo platforms on the preferred port: started here, or those a running `edufed serve --demo` already
    serves there (so a harvest from another process stores links that keep working after it exits)."""
    if 1024 < preferred_port < 65536:
        platforms = DemoPlatforms(port=preferred_port)
        try:
            platforms.start_or_join()
            return platforms
        except OSError:
            logger.warning(
                "port %d is taken by something other than the demo platforms; they use a free port, and the links "
                "of the records harvested now stop working when this command ends",
                preferred_port,
            )
    return DemoPlatforms()


def configured(settings: Settings, *, demo: bool) -> list[SourceBase]:
    """The sources of the configuration file; with `demo`, the demo's (as `make run` seeded them, else as it
    would: its platforms on the port after the server's)."""
    if not demo:
        return list(load_sources(settings.sources_file))
    if state_exists(settings):
        with open_state(settings) as store:
            seeded: list[SourceBase] = [s.config for s in store.sources.find() if s.created_by == CONFIG_ACTOR]
        if seeded:
            return seeded
    return list(demo_sources(f"http://127.0.0.1:{settings.server.port + 1}"))


def with_registered(settings: Settings, configured: list[SourceBase]) -> list[SourceBase]:
    """sources.yaml's sources and, after them, those registered through the API or `edufed sources add`.

    A registered source wins over a file block with its id (as when `edufed serve` seeds the file); sources
    deleted through the API (their held deletion approved, or still pending) are left out, file blocks too.
    """
    if not state_exists(settings):
        return configured
    with open_state(settings) as store:
        stored = store.sources.find()
        gone = {s.id for s in stored if being_deleted(store, s.id)}
    added = [s.config for s in stored if s.created_by != CONFIG_ACTOR and s.id not in gone]
    taken = {s.id for s in added} | gone
    return [s for s in configured if s.id not in taken] + added


def being_deleted(store: StateStore, source_id: str) -> bool:
    """Whether the source was deleted through the API: its held deletion approved, or waiting for an admin."""
    hold = deletion_hold(store, source_id)
    return hold is not None and hold.status in ("pending", "approved")


def seed(store: StateStore, sources: Sequence[SourceBase]) -> None:
    """Make the state database's sources match the configuration file; say what it could not take.

    A block whose source was deleted through the API (its held deletion pending or approved) is not seeded:
    the file would switch the source back on and its next run would bring the records back.
    """
    deleting = {s.id for s in sources if being_deleted(store, s.id)}
    for source_id in sorted(deleting):
        logger.warning("source %s from the configuration is ignored: it was deleted through the API; "
                       "remove its block from the file", source_id)  # fmt: skip
    result = store.sources.seed([s for s in sources if s.id not in deleting])  # type: ignore[misc]
    for source_id in result.conflicts:
        logger.warning(
            "source %s from the configuration is ignored: one with that id was added through the API", source_id
        )
    for source_id in result.not_in_config:
        logger.info("source %s is no longer in the configuration; its state is kept", source_id)
