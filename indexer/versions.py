"""How an index's recorded version of something edufed makes (its text analysis, its record linkage, its theme
rules) stands to this edufed's, and the rough CPU time an admin is told bringing it up takes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Generic, Literal, Self, TypeVar

from indexer.errors import IndexBackendError

VersionStatus = Literal["current", "older", "newer"]
V = TypeVar("V", int, str)
S = TypeVar("S", bound="RedoState[int] | RedoState[str]")

_logger = logging.getLogger(__name__)


def version_status(index_version: int, ours: int) -> VersionStatus:
    """`current` when the index holds this edufed's version `ours`, else `older` or `newer`."""
    if index_version == ours:
        return "current"
    return "older" if index_version < ours else "newer"


def rough_duration(seconds: float) -> str:
    """Seconds as an admin reads an estimate: whole seconds up to two minutes, then whole minutes."""
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


@dataclass(frozen=True)
class RedoState(Generic[V]):
    """What an index says of something edufed makes of every record whose repair is one pass over them all (the
    record linkage, the themes): `index_version` (what the index recorded) against this edufed's `version`, and
    what an admin should do (`notice`, None when current). A subclass sets SECONDS_A_RECORD, the CPU a record
    costs that pass (bench/RESULTS.md), for the notice's estimate."""

    SECONDS_A_RECORD: ClassVar[float] = 0.0

    version: V
    index_version: V
    status: VersionStatus
    notice: str | None = None
    records: int = 0
    """The records the pass goes over (an older index's every record), 0 otherwise."""

    @property
    def current(self) -> bool:
        return self.status == "current"

    @property
    def cost(self) -> str:
        """About how much CPU the pass over the records takes."""
        return rough_duration(self.records * self.SECONDS_A_RECORD)

    def as_dict(self) -> dict[str, object]:
        return {"version": self.version, "index_version": self.index_version, "status": self.status,
                "records": self.records, "notice": self.notice}  # fmt: skip

    @classmethod
    def judged(
        cls, version: V, index_version: V, status: VersionStatus, *, records: int,
        newer: Callable[[], str], older: Callable[[str], str],
    ) -> Self:  # fmt: skip
        """The state of an index at `status`: no notice when current, `newer()` when newer, and when older the pass
        over its `records` records with `older(cost)`, the cost the rough CPU time of that pass."""
        if status == "current":
            return cls(version, index_version, status)
        if status == "newer":
            return cls(version, index_version, status, notice=newer())
        cost = rough_duration(records * cls.SECONDS_A_RECORD)
        return cls(version, index_version, status, notice=older(cost), records=records)


def log_state(read: Callable[[], S | None], *, what: str) -> S | None:
    """Log what an index's recorded version asks of an admin (`edufed serve`'s start): its state as `read` gives
    it, None when unread; `what` names the version in the message when it cannot be read ("which record linkage
    linked the index")."""
    try:
        state = read()
    except IndexBackendError as exc:
        _logger.warning("cannot read %s: %s", what, exc)
        return None
    if state is not None and state.notice is not None:
        _logger.warning("index: %s", state.notice)
    return state
