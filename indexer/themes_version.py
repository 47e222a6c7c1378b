"""Which theme rules an index's records were classified by, what an admin is told when they are not this
edufed's, and classifying a stored record again.

Every record is classified into the ten national themes (indexer.normalize.themes) when it is built, by the rule
table (config/themes.yaml, or the settings' `themes_file`) and the classifier's code of the edufed that built it.
When either changes, a record written before keeps its old themes until it is harvested again: a theme filter
misses it, the facet counts are wrong. So every index records the themes version its records were all classified
by (SQLite: `meta.themes`; Elasticsearch: the index mapping's `_meta.edufed_themes`), written when they all were: a
new index, a full `edufed reindex`, `edufed reindex --themes-only` (every stored record classified again from what
it holds, only those whose themes or evidence changed written). An index recording none was written before
versions were recorded (UNRECORDED) and is older.

The themes version is the table's `version` and THEMES_RULES_VERSION, the classifier's code, as `<table>+<rules>`
(`2026.12-3+1`). Both are kept by tests/unit/test_themes_version.py: the themes of a fixed sample of records are
digested and the digest kept beside the version it was taken at (tests/unit/data/themes_digest.json), so changing
the table without its `version`, or the classifier without THEMES_RULES_VERSION, fails there. Status: `current`
when both are this edufed's; `newer` when the index's rules version is higher (an older edufed opening it lowers
the record to its own, as with linkage: the records it writes are classified its way); any other difference is
`older`: the table is not ordered (a site may load its own), a record classified by another table is to be
classified again by this one.

What the classifier reads is all stored with the record: the category paths (`categories_raw`, the source's
default categories included), tags, title, subtitle, description, the record type (only a record that teaches
keeps a weak theme) and the themes a source gave itself (its raw `fields.themes`). The programmes and audience the
table's markers give are left as stored: they also hold what the source's settings and the record's raw fields
gave, which the stored record does not tell apart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol, runtime_checkable

from config.themes import ThemeTable
from indexer.normalize.themes import FoldedFields, ThemeClassifier
from indexer.pipeline import UNTAUGHT_TYPES, given_themes
from indexer.record import Record
from indexer.versions import RedoState, VersionStatus, log_state, version_status

_logger = logging.getLogger(__name__)

THEMES_RULES_VERSION = 2
"""The theme classifier's code of this edufed. History (an index that records none: written before versions were
recorded, whatever rules those were):
1: category paths, keywords in tags, title, subtitle and description, branch categories, conflict rules that may
   drop a category's themes, and the weak-theme fallback only for a record that teaches (December 2026).
2: the weak-theme fallback counts only themes a rule of their own scored: a secondary theme's carried share is
   no second subject, and the weak theme comes with its rules' secondary themes (December 2026)."""
UNRECORDED = ""
"""The version of an index that records none."""
THEMES_COMMAND = "edufed reindex --themes-only"
CPU_SECONDS_A_RECORD = 0.0012
"""What classifying one stored record again costs at most, measured at 100k on SQLite (bench/RESULTS.md), for the
notice's estimate: 0.2 ms to read, classify and compare it, 1 ms more when it is written (every record was)."""

ThemesStatus = VersionStatus


def themes_version(table: ThemeTable) -> str:
    """This edufed's themes version with this rule table: `<table version>+<THEMES_RULES_VERSION>`."""
    return f"{table.version}+{THEMES_RULES_VERSION}"


@cache
def bundled_themes_version() -> str:
    """The themes version of the bundled table (what an index is created with when its opener names no table)."""
    from config.loader import load_themes

    return themes_version(load_themes())


def rules_of(version: str) -> int:
    """The rules (code) version a themes version names; 0 for UNRECORDED or a version this edufed cannot read."""
    _, plus, rules = version.rpartition("+")
    return int(rules) if plus and rules.isdigit() else 0


def status_of(index_version: str, ours: str) -> ThemesStatus:
    """How an index's recorded themes version stands to this edufed's `ours` (see the module's docstring)."""
    if index_version == ours:
        return "current"
    return "newer" if version_status(rules_of(index_version), rules_of(ours)) == "newer" else "older"


class ThemesState(RedoState[str]):
    """What an index says of its themes: `index_version` UNRECORDED when never recorded;
    the pass is `edufed reindex --themes-only`."""

    SECONDS_A_RECORD = CPU_SECONDS_A_RECORD


def _named(version: str) -> str:
    return f"version {version}" if version else "rules that recorded no version"


def newer_notice(index_version: str, ours: str) -> str:
    return (
        f"the index's records were classified into themes by {_named(index_version)}, newer than this edufed's "
        f"{ours}: records this edufed writes are classified the older way; run one edufed version on one index"
    )


def themes_state(index_version: str, *, ours: str, records: int, command: str = THEMES_COMMAND) -> ThemesState:
    """The state of an index classified by `index_version` holding `records` records; `command` brings it up."""
    return ThemesState.judged(
        ours, index_version, status_of(index_version, ours), records=records,
        newer=lambda: newer_notice(index_version, ours),
        older=lambda cost: (
            f"the index's records were classified into themes by {_named(index_version)}, this edufed's is {ours}: "
            "records keep the themes the old rules gave them, so a theme filter misses some and the theme counts "
            f"are off until each is classified again; `{command}` does it from the stored records, writing only "
            f"those whose themes change (at most about {cost} of CPU for {records} records; searches and harvests "
            "keep going)"
        ),
    )  # fmt: skip


@dataclass
class ThemesPass:
    """What classifying the stored records again did: records read, and written (their themes or evidence
    changed)."""

    read: int = 0
    written: int = 0


Reclassify = Callable[[Record], Record | None]
"""A stored record classified again: the record with its new themes, or None when they are unchanged."""


@runtime_checkable
class ThemedIndex(Protocol):
    """An index that says which themes version its records were classified by, and classifies them again (both
    backends)."""

    def themes_recorded(self) -> str: ...

    def count(self, source: str | None = None) -> int: ...

    def mark_themes(self, version: str) -> None: ...

    def reclassify_all(
        self, reclassify: Reclassify, *, version: str, on_page: Callable[[ThemesPass], None] | None = None
    ) -> ThemesPass: ...


def index_themes(backend: object, *, ours: str) -> ThemesState | None:
    """The backend's themes state against `ours`, or None for an index that records none (a test double). The
    records are counted only when they are to be classified again."""
    if not isinstance(backend, ThemedIndex):
        return None
    recorded = backend.themes_recorded()
    records = backend.count() if status_of(recorded, ours) == "older" else 0
    return themes_state(recorded, ours=ours, records=records)


def log_themes(backend: object, *, ours: str) -> ThemesState | None:
    """Log what the index's themes ask of an admin (`edufed serve`'s start); its state, None when unread."""
    return log_state(lambda: index_themes(backend, ours=ours), what="which theme rules classified the index")


class Reclassifier:
    """Classifies stored records again by one rule table (`version` is the themes version it gives)."""

    def __init__(self, table: ThemeTable) -> None:
        self.classifier = ThemeClassifier(table)
        self.version = themes_version(table)

    def __call__(self, record: Record) -> Record | None:
        """`record` with the themes and evidence these rules give it (content hash made again), or None when
        they are the stored ones."""
        categories = record.categories_raw
        folded = FoldedFields.of(title=record.title, subtitle=record.subtitle, tags=record.tags,
                                 description=record.description, categories=categories)  # fmt: skip
        taught = record.record_type not in UNTAUGHT_TYPES
        found = given_themes(self.classifier.classify_folded(folded, categories=categories, taught=taught),
                             _given(record.raw))  # fmt: skip
        if found.themes == record.themes and found.evidence_rows == [e.model_dump() for e in record.theme_evidence]:
            return None
        again = record.model_copy(update={"themes": found.themes, "theme_evidence": found.evidence})
        again.content_hash = again.compute_hash()  # the next harvest finds the record unchanged
        return again


def _given(raw: Any) -> Any:
    """The themes the source gave itself, as the record builder read them (its raw `fields.themes`)."""
    fields = raw.get("fields") if isinstance(raw, dict) else None
    return fields.get("themes") if isinstance(fields, dict) else None
