"""What a json_api source remembers of its detail requests between runs, and which details a run may skip.

A list item that is unchanged since the last complete run (the same hash of its JSON) keeps the record its
detail gave then: its detail is not asked again, except in its refresh slot. Every item's detail is refreshed
once in `refresh_days` days, on the day a stable hash of its id picks (crawlers/kinds/refresh.py, the rule the
html kind's detail pages share), so no run refreshes them all at once; a refresh is asked with the stored ETag /
Last-Modified and a 304 (or the same bytes) means unchanged.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from crawlers.kinds.refresh import refresh_due, refresh_slot, today

__all__ = ["CURSOR_KEY", "DetailMemo", "DetailMemory", "item_hash", "refresh_slot", "today"]

CURSOR_KEY = "details"


def item_hash(item: Any) -> str:
    """A short digest of a list item's JSON (key order does not matter)."""
    encoded = json.dumps(item, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class DetailMemo:
    """What the last complete run learned of one item: its list-item hash, its detail's validators, the day."""

    item_hash: str
    etag: str | None
    last_modified: str | None
    sha256: str | None
    day: int

    def to_json(self) -> list[Any]:
        return [self.item_hash, self.etag, self.last_modified, self.sha256, self.day]

    @classmethod
    def from_json(cls, value: Any) -> DetailMemo | None:
        """A memo from its cursor form; None for anything malformed (that item's detail is simply asked again)."""
        if not isinstance(value, list) or len(value) != 5:
            return None
        hashed, etag, modified, sha, day = value
        if not isinstance(hashed, str) or not isinstance(day, int) or isinstance(day, bool):
            return None
        texts = (etag, modified, sha)
        if not all(v is None or isinstance(v, str) for v in texts):
            return None
        return cls(hashed, etag, modified, sha, day)

    def refreshed(self, *, day: int) -> DetailMemo:
        return DetailMemo(self.item_hash, self.etag, self.last_modified, self.sha256, day)


class DetailMemory:
    """The memos a run starts from (`known`) and the ones it leaves for the next run (`kept`).

    Only details read whole (or confirmed unchanged) are kept: a failed detail is asked again next run.
    """

    def __init__(self, stored: Any, *, refresh_days: int, day: int) -> None:
        self.refresh_days = refresh_days
        self.day = day
        self.known: dict[str, DetailMemo] = {}
        if isinstance(stored, dict):
            for key, value in stored.items():
                memo = DetailMemo.from_json(value)
                if memo is not None:
                    self.known[str(key)] = memo
        self.kept: dict[str, DetailMemo] = {}
        self.skipped = 0
        self.refreshed = 0
        self.asked = 0

    def unchanged_memo(self, source_id: str, hashed: str) -> DetailMemo | None:
        """The stored memo when the item is the same as last time; None when its detail must be read."""
        memo = self.known.get(source_id)
        return memo if memo is not None and memo.item_hash == hashed else None

    def refresh_due(self, source_id: str, memo: DetailMemo) -> bool:
        """Whether this run refreshes the detail: in the item's slot of the cycle, or when a cycle was missed."""
        return refresh_due(source_id, last_day=memo.day, day=self.day, refresh_days=self.refresh_days)

    def keep(self, source_id: str, memo: DetailMemo) -> None:
        self.kept[source_id] = memo

    def to_cursor(self) -> dict[str, list[Any]]:
        return {key: memo.to_json() for key, memo in self.kept.items()}

    def note(self) -> str:
        return (
            f"detail requests: {self.asked} new or changed items read, {self.refreshed} refreshed in their slot "
            f"(every {self.refresh_days} days), {self.skipped} unchanged items skipped"
        )
