"""How an index's recorded version of something edufed makes (its text analysis, its record linkage, its theme
rules) stands to this edufed's, and the rough CPU time an admin is told bringing it up takes."""

from __future__ import annotations

from typing import Literal

VersionStatus = Literal["current", "older", "newer"]


def version_status(index_version: int, ours: int) -> VersionStatus:
    """`current` when the index holds this edufed's version `ours`, else `older` or `newer`."""
    if index_version == ours:
        return "current"
    return "older" if index_version < ours else "newer"


def rough_duration(seconds: float) -> str:
    """Seconds as an admin reads an estimate: whole seconds up to two minutes, then whole minutes."""
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
