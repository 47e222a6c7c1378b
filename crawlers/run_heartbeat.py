"""A run stores how far it has got every few seconds, so a run whose process is killed keeps its counts.

`harvest` reports its progress to a callback; `RunHeartbeat` is one (passing each snapshot on to another,
such as the command line's progress bar) that writes the counts into the run's row when the run's phase
changes (each batch written) and otherwise at most once per `every_seconds`. When the process dies, the
lease is taken over and the run marked abandoned (crawlers.state.runs) with the counts it last stored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from crawlers.run_report import RunProgress
from crawlers.state import StateStore
from crawlers.state.runs import RunProgressNote

logger = logging.getLogger(__name__)

EVERY_SECONDS = 1.0


class RunHeartbeat:
    """A progress callback that stores the running run's counts (found by source and lease holder)."""

    def __init__(
        self,
        store: StateStore,
        *,
        source_id: str,
        holder: str,
        then: Callable[[RunProgress], None] | None = None,
        every_seconds: float = EVERY_SECONDS,
    ) -> None:
        self.store = store
        self.source_id = source_id
        self.holder = holder
        self.then = then
        self.every_seconds = every_seconds
        self._last: float | None = None
        self._phase: str | None = None

    def __call__(self, snapshot: RunProgress) -> None:
        if self.then is not None:
            self.then(snapshot)
        now = time.monotonic()
        if snapshot.phase == "done":
            return  # a finished run has recorded its counts itself
        if snapshot.phase == self._phase and self._last is not None and now - self._last < self.every_seconds:
            return
        self._last, self._phase = now, snapshot.phase
        at = datetime.now(UTC).isoformat(timespec="seconds")
        note = RunProgressNote(phase=snapshot.phase, fetched=snapshot.fetched, rejected=snapshot.rejected,
                               written=snapshot.written, at=at)  # fmt: skip
        try:
            self.store.runs.save_progress(self.source_id, self.holder, note)
        except Exception as exc:  # a missed beat costs nothing but freshness; the run goes on
            logger.warning("could not store the progress of the run of %s: %s", self.source_id, exc)
