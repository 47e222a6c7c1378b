"""`edufed serve`'s catch-up of a SQLite index written with an older text analysis, in a low-priority child process.

The child opens the file and re-analyses its records batch by batch (indexer.backends.sqlite_analysis) until the
file is current or the service stops; the serving process keeps answering searches from the same file meanwhile,
each batch reaching them as any write does. A child killed or stopped part-way leaves the file's cursor at its
last batch, and the next `edufed serve` (or `edufed reindex`) goes on from there. Progress is in the file: the
health endpoint, `edufed status` and the admin console read it. An Elasticsearch index is not caught up here
(its documents cannot be rewritten in place safely while harvests write them): it is reported, for
`edufed reindex`.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from multiprocessing.synchronize import Event
from pathlib import Path

from config.settings import Settings
from indexer.analysis_version import index_analysis
from indexer.errors import IndexBackendError

logger = logging.getLogger(__name__)

NICE = 10
"""The niceness the catch-up runs at: searches in the serving process come first."""
STOP_SECONDS = 30.0


class AnalysisCatchUp:
    """The child process catching a SQLite index file up to this edufed's text analysis."""

    def __init__(self, path: Path, *, search_engine: str) -> None:
        context = multiprocessing.get_context("spawn")
        self._stop: Event = context.Event()
        self.process = context.Process(
            target=_child, args=(str(path), search_engine, self._stop), name="edufed-analysis", daemon=True
        )

    @classmethod
    def for_serving(cls, settings: Settings, backend: object) -> AnalysisCatchUp | None:
        """Log what the index's analysis asks of an admin, and start the catch-up when a SQLite file needs one."""
        try:
            state = index_analysis(backend)
        except IndexBackendError as exc:
            logger.warning("cannot read which text analysis the index holds: %s", exc)
            return None
        if state is None or state.current:
            return None
        logger.warning("index: %s", state.notice)
        if settings.index.backend != "sqlite" or state.status == "newer":
            return None
        catch_up = cls(settings.index_path, search_engine=settings.index.search_engine)
        catch_up.process.start()
        logger.info("re-analysing the index's records in the background (process %s)", catch_up.process.pid)
        return catch_up

    def stop(self) -> None:
        """Ask the child to stop after its batch; end it when it does not within STOP_SECONDS (it resumes later)."""
        self._stop.set()
        self.process.join(STOP_SECONDS)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join()
        if self.process.exitcode not in (0, None):
            logger.warning("the text analysis catch-up ended with exit code %s; the next start goes on from where it "
                           "stopped", self.process.exitcode)  # fmt: skip


def _child(path: str, search_engine: str, stop: Event) -> None:
    from indexer.backends.sqlite import SqliteBackend

    current = os.nice(0)
    if current < NICE:
        os.nice(NICE - current)
    backend = SqliteBackend(Path(path), search_engine="fts5" if search_engine == "fts5" else "tantivy")
    try:
        backend.catch_up_analysis(stop=stop.is_set)
    finally:
        backend.close()
