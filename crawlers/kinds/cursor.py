"""The cursor contract of incremental sources: what they saw last time, what they see now, deletions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, Literal

from config.source_models import SourceBase
from crawlers.fetch import Fetcher
from crawlers.kinds.base import Source

Scope = Literal["full", "incremental", "unchanged"]
FINGERPRINT_KEY = "config_fingerprint"
# Settings that change how politely or how often a source is fetched, but not which records it gives.
_OPERATIONAL = {
    "name", "enabled", "schedule", "obey_robots", "delay_seconds", "max_records",
    "withdraw_after_missed_runs", "max_withdraw_share", "min_held_reported_deletions", "full_crawl_days",
}  # fmt: skip


# Nested settings of the same sort: how often unchanged items' details are asked again.
_OPERATIONAL_NESTED: dict[str, Any] = {"detail": {"refresh_days": True}}


def config_fingerprint(config: SourceBase) -> str:
    """A short hash of every setting that shapes the records; a cursor is only valid for the same hash."""
    exclude: dict[str, Any] = {**dict.fromkeys(_OPERATIONAL, True), **_OPERATIONAL_NESTED}
    shaping = config.model_dump(mode="json", exclude=exclude)
    encoded = json.dumps(shaping, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()[:16]


class IncrementalSource(Source):
    """A Source that resumes from a cursor and can report deletions.

    Contract with the run (crawlers/run.py and the state store):
    - before `iter_records`, the run sets `cursor_in` to the `cursor_out` it stored after the last successful
      run of this source (an empty dict the first time);
    - `cursor_out` stays None until `iter_records` has run to its end; only then does it hold the JSON-ready
      cursor to store. None after the run means the listing was cut short (error, max_records, a loop guard):
      store nothing, treat the run as incomplete;
    - `scope` says what the records cover: "full" (every current record: a complete listing), "incremental" (a
      partial listing: the records changed since `cursor_in`, the window of recent items a feed shows, or a
      listing with holes where pages could not be read) or "unchanged" (the source says nothing changed: no
      records, nothing to do); absence-based withdrawal is only sound after a complete "full" run, so a source
      that cannot vouch for its listing says "incremental" (`complete_listing` sums this up);
    - `deleted_ids` are platform ids the source itself reported deleted (OAI `status="deleted"`); an id that
      reappears alive later in the same run is taken out again, so the list is the final word of this run;
    - `notes` are informational lines for the run report (not warnings: they do not make a run partial);
    - `unchanged_ids` are platform ids the listing named whose records stand as they are, so no record was
      yielded for them (a json_api item whose detail was not asked again): listed, never withdrawn. A source
      only does this for ids `catalogued` says the catalogue holds live (the run sets it; by default: none);
    - `repeats_listing` (with scope "unchanged") says the source saw that its listing is the one its last
      complete run read, so the run counts it as a complete listing of the records that run listed;
    - `shows_current` says a listing that ran to its end shows what the source has now: a "full" one, or an
      "incremental" one with `window_listing` set (a feed's window of its latest items). Naming nothing where
      the source had records is then suspect, and held; a listing of the changes since the cursor (an OAI
      `from` harvest, a sitemap's newer lastmods) may name nothing and be right;
    - `incomplete_reason` says why a listing that ran to its end is not whole (a feed parsed only as far as
      it went): the source leaves `cursor_out` None, and the run reports partial with this reason.
    """

    def __init__(self, config: SourceBase, fetcher: Fetcher) -> None:
        super().__init__(config, fetcher)
        self.cursor_in: dict[str, Any] = {}
        self.cursor_out: dict[str, Any] | None = None
        self.scope: Scope = "full"
        self.notes: list[str] = []
        self.unchanged_ids: list[str] = []
        self.catalogued: Callable[[str], bool] = _nothing_catalogued
        self.repeats_listing = False
        self.window_listing = False
        self.incomplete_reason: str | None = None
        self._deleted: dict[str, None] = {}

    @property
    def shows_current(self) -> bool:
        """Whether the listing shows what the source has now (see the class docstring)."""
        return self.scope == "full" or (self.scope == "incremental" and self.window_listing)

    @property
    def deleted_ids(self) -> list[str]:
        """Platform ids reported deleted in this run, in the order first seen."""
        return list(self._deleted)

    @property
    def complete_listing(self) -> bool:
        """Whether this run listed every current record, so records missing from it may count as gone."""
        return self.scope == "full" and self.cursor_out is not None

    def mark_unchanged(self, source_id: str) -> None:
        self.unchanged_ids.append(source_id)

    def mark_deleted(self, source_id: str) -> None:
        self._deleted[source_id] = None

    def mark_alive(self, source_id: str) -> None:
        self._deleted.pop(source_id, None)

    def stored_cursor(self) -> dict[str, Any]:
        """`cursor_in` when it was made under the same configuration; else empty (a fresh full harvest)."""
        if not self.cursor_in:
            return {}
        if self.cursor_in.get(FINGERPRINT_KEY) != config_fingerprint(self.config):
            self.notes.append("the source configuration changed since the stored cursor; harvesting in full")
            return {}
        return dict(self.cursor_in)

    def finish(self, cursor: dict[str, Any]) -> None:
        """Record the cursor of a listing that ran to its end."""
        self.cursor_out = {**cursor, FINGERPRINT_KEY: config_fingerprint(self.config)}


def _nothing_catalogued(source_id: str) -> bool:
    return False
