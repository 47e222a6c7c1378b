"""Which record linkage rules an index's blocking keys and clusters were written by, and what an admin is told
when they are older than this edufed's.

An index stores each record's blocking keys (SQLite: the codes of sqlite_link_keys; Elasticsearch: the
`link_keys` field) and every record's cluster as the linkage of the edufed that wrote them made them. When the
rules change (a channel's label left out of the title, a new sequence marker, a teacher read from the text), a
record written before keeps its old keys and cluster: two copies the new rules join stay apart, two courses of a
line they keep apart stay merged, until every record is linked again. So every index records the version of the
linkage it was linked with (SQLite: `meta.linkage`; Elasticsearch: the index mapping's `_meta.edufed_linkage`),
written when this edufed links every record (a new index, `edufed reindex`, `edufed reindex --links-only`), and an
index of an older version asks for `edufed reindex --links-only`: every record's keys computed again from its
stored record and every record clustered again, the admins' split and join decisions kept.

Whoever changes what indexer.linkage makes of a record (its profile's blocking keys, teachers, title keys) or how
the matcher judges a pair bumps LINKAGE_VERSION (tests/unit/test_linkage_version.py fails on a changed output of a
fixed sample while the version stays). The SQLite codes' own layout has its own version (sqlite_link_keys
.LINK_KEYS), converted when a file is opened; a rules change needs no new layout, only this version.

The state has the text analysis's shape (indexer.analysis_version), without a background catch-up: linking again
is one pass over the whole index (clusters are a property of the whole, not of one record at a time).
"""

from __future__ import annotations

import logging
from typing import Protocol, runtime_checkable

from indexer.versions import RedoState, VersionStatus, log_state, version_status

_logger = logging.getLogger(__name__)

LINKAGE_VERSION = 4
"""The record linkage of this edufed. History:
1 (an index that records none): written before versions were recorded;
2: a channel's, column's or city learning site's label, episode counts and a copy's form leave the title; every way
   of numbering a course line's parts (理论篇 / 实操篇, 二期, 单元一, 一年级 ...) keeps two courses apart; a teacher
   named only in the description is read wherever a name stands (December 2026);
3: the term or season of a class or course (春季班 / 秋季班, 暑假班, 春季养生) keeps two courses apart; a running
   time at a title's end (45分钟, 时长 35 分钟) leaves the title; a title written wholly in brackets (【课名】) keeps
   its words (December 2026);
4: a platform zone's name (乐龄专区, 老年学习馆, 银发专题) or a provincial platform's name before a title with only a
   space between (浙江省老年教育 课名), a lesson count in more forms (12节, 含12讲, 12个视频, 12堂课) and an episode
   range (第一集至第十二集, 01-12) leave the title; a teacher's title no list holds leaves the name where the
   segmenter ends the name (何静|中医师, not 何静中), and a title before the name or in a part of its own (副教授
   王秀兰) too (December 2026)."""
UNRECORDED = 1
"""The version of an index that records none."""
LINKS_COMMAND = "edufed reindex --links-only"
CPU_SECONDS_A_RECORD = 0.0006
"""What linking one record again costs (its keys coded again, its group clustered), measured at 100k
(bench/RESULTS.md), for the notice's estimate."""

LinkageStatus = VersionStatus


class LinkageState(RedoState[int]):
    """What an index says of its linkage: `index_version` UNRECORDED when never recorded;
    the pass is `edufed reindex --links-only`."""

    SECONDS_A_RECORD = CPU_SECONDS_A_RECORD


def status_of(index_version: int) -> LinkageStatus:
    """How an index's recorded version stands to this edufed's."""
    return version_status(index_version, LINKAGE_VERSION)


def newer_notice(index_version: int) -> str:
    return (
        f"the index was linked by record linkage version {index_version}, newer than this edufed's "
        f"{LINKAGE_VERSION}: records this edufed writes are keyed and clustered the older way; run one edufed "
        "version on one index"
    )


def linkage_state(index_version: int, *, records: int, command: str = LINKS_COMMAND) -> LinkageState:
    """The state of an index linked by `index_version` holding `records` records; `command` brings it up."""
    return LinkageState.judged(
        LINKAGE_VERSION, index_version, status_of(index_version), records=records,
        newer=lambda: newer_notice(index_version),
        older=lambda cost: (
            f"the index was linked by record linkage version {index_version}, this edufed's is {LINKAGE_VERSION}: "
            "its clusters miss copies the new rules join and keep courses they tell apart together until every "
            f"record is linked again; `{command}` does it from the stored records, keeping the admins' split and "
            f"join decisions (about {cost} of CPU for {records} records; searches keep answering)"
        ),
    )  # fmt: skip


@runtime_checkable
class LinkedIndex(Protocol):
    """An index that says which linkage it was linked by (both backends)."""

    def linkage_state(self) -> LinkageState: ...


def index_linkage(backend: object) -> LinkageState | None:
    """The backend's linkage state, or None for an index that records none (a test double)."""
    return backend.linkage_state() if isinstance(backend, LinkedIndex) else None


def log_linkage(backend: object) -> LinkageState | None:
    """Log what the index's linkage asks of an admin (`edufed serve`'s start); its state, None when unread."""
    return log_state(lambda: index_linkage(backend), what="which record linkage linked the index")
