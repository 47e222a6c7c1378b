"""Which index-side text analysis an index holds, and what an admin is told when it is older than this edufed's.

An index stores each record's analysed text (indexer.analysis through indexer.record_text: the folded,
segmented fields, the title pinyin and its initials, the single characters, the folded title and its pinyin
key) as it was analysed when the record was written. When the analysis changes, a record written before keeps
the old tokens until it is analysed again, and a search for what only the new analysis indexes (pinyin
initials such as `bdj` for 八段锦) misses it. So every index records the version of the analysis its records
were written with (SQLite: `meta.analysis`; Elasticsearch: the index mapping's `_meta.edufed_analysis`), and an
index of an older version is caught up in the background by `edufed serve` (indexer.analysis_catch_up), or at once
by `edufed reindex --analysis-only`.

Whoever changes what the index side of indexer.analysis produces bumps ANALYSIS_VERSION (the unit test
tests/unit/test_analysis_version.py fails on a changed output of a fixed sample while the version stays).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from indexer.versions import version_status

_logger = logging.getLogger(__name__)

ANALYSIS_VERSION = 1
"""The index-side text analysis of this edufed. History:
0 (an index that records none): written before versions were recorded, whatever analysis that was;
1: the pinyin field ends with the initials of the title's words of three or four syllables (bdj, znsj), and
   pinyin is read only from tokens with a vowel (December 2026)."""

AnalysisStatus = Literal["current", "catching_up", "older", "newer"]


@dataclass(frozen=True)
class AnalysisState:
    """What an index says of its analysis: `index_version` (0: never recorded) against this edufed's `version`;
    `total` is every record the index holds (whatever its status: the health answer's count), and while a catch-up
    goes `done` of them are analysed the current way."""

    version: int
    index_version: int
    status: AnalysisStatus
    done: int = 0
    total: int = 0
    notice: str | None = None
    """What an admin should know or do, in one sentence; None when the index is current."""

    @property
    def current(self) -> bool:
        return self.status == "current"

    def as_dict(self) -> dict[str, object]:
        return {
            "version": self.version, "index_version": self.index_version, "status": self.status,
            "done": self.done, "total": self.total, "notice": self.notice,
        }  # fmt: skip


def status_of(index_version: int) -> AnalysisStatus:
    """How an index's recorded version stands to this edufed's."""
    return version_status(index_version, ANALYSIS_VERSION)


def newer_notice(index_version: int) -> str:
    return (
        f"the index holds text analysis version {index_version}, newer than this edufed's {ANALYSIS_VERSION}: "
        "records this edufed writes are analysed the older way; run one edufed version on one index"
    )


@runtime_checkable
class AnalysedIndex(Protocol):
    """An index that says which text analysis it holds (both backends)."""

    def analysis_state(self) -> AnalysisState: ...


def index_analysis(backend: object) -> AnalysisState | None:
    """The backend's analysis state, or None for an index that records none (a test double)."""
    return backend.analysis_state() if isinstance(backend, AnalysedIndex) else None


@dataclass
class CatchUpBatch:
    """One batch of a catch-up (either backend): records read and rewritten, and whether the index is now current."""

    read: int = 0
    rewritten: int = 0
    finished: bool = False


def catch_up_batches(
    next_batch: Callable[[], CatchUpBatch],
    *,
    what: str,
    stop: Callable[[], bool] = lambda: False,
    on_batch: Callable[[CatchUpBatch], None] | None = None,
) -> tuple[int, int]:
    """`next_batch()` until the index (`what`, for the log) is current or `stop()`; (records read, rewritten)."""
    read = rewritten = 0
    while not stop():
        batch = next_batch()
        read, rewritten = read + batch.read, rewritten + batch.rewritten
        if on_batch is not None:
            on_batch(batch)
        if batch.finished:
            if read:
                _logger.info("text analysis of %s caught up to version %d: %d records read, %d rewritten", what,
                             ANALYSIS_VERSION, read, rewritten)  # fmt: skip
            break
    return read, rewritten
