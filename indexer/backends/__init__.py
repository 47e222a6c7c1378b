"""Search index backends behind one IndexBackend protocol: embedded SQLite FTS5, or Elasticsearch."""

from __future__ import annotations

from config.settings import Settings
from indexer.analysis import QueryVocabulary
from indexer.backends.base import IndexBackend
from indexer.errors import IndexBackendError
from indexer.linkage import LinkDecisions
from indexer.linkage.incremental import Linker


def open_backend(
    settings: Settings,
    *,
    vocabulary: QueryVocabulary | None = None,
    decisions: LinkDecisions | None = None,
    themes_version: str | None = None,
) -> IndexBackend:
    """The index the settings name: the Elasticsearch cluster at `index.url`, or the SQLite file at
    `settings.index_path` (data_dir created if needed). `vocabulary` is how queries are read: the entry point
    builds it from the files it loaded (`query_vocabulary(load_query_words(settings.query_words_file),
    load_themes(settings.themes_file))`); without it the bundled one (a process that only writes needs none).
    `decisions` are the admins' link decisions (the state database's `store.links`) its clusters honour.
    `themes_version` is that of the themes table the entry point loaded (`themes_version(load_themes(settings
    .themes_file))`), which a new index records; without it the bundled table's."""
    linker = Linker(decisions)
    if settings.index.backend == "elasticsearch":
        from indexer.backends.elasticsearch import ElasticsearchBackend

        return ElasticsearchBackend.from_settings(
            settings.index, vocabulary=vocabulary, linker=linker, themes_version=themes_version
        )
    from indexer.backends.sqlite import SqliteBackend

    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IndexBackendError(f"cannot create data directory {settings.data_dir}: {exc}") from exc
    return SqliteBackend(
        settings.index_path,
        vocabulary=vocabulary,
        linker=linker,
        search_engine=settings.index.search_engine,
        themes_version=themes_version,
    )
