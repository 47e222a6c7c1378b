"""The rolling refresh rule: an unchanged item is asked again once in `refresh_days` days, on a day its key picks.

A stable hash of the item's key (a json_api id, an html detail page's URL) picks its day of the cycle, so no run
refreshes them all at once; an item whose last read is a whole cycle old is refreshed whatever its slot.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime


def today() -> int:
    """The day number (proleptic Gregorian ordinal, UTC) refresh slots count in."""
    return datetime.now(UTC).date().toordinal()


def refresh_slot(key: str, refresh_days: int) -> int:
    """The day of the cycle (0 .. refresh_days-1) on which this item is refreshed, stable across runs."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % refresh_days


def refresh_due(key: str, *, last_day: int, day: int, refresh_days: int) -> bool:
    """Whether a run on `day` refreshes an item last read on `last_day`: in its slot, or when a cycle was missed."""
    age = day - last_day
    if age >= refresh_days:
        return True
    return age >= 1 and day % refresh_days == refresh_slot(key, refresh_days)
