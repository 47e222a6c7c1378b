"""Run history and source health as the command line shows them, and the harvest progress bar."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TextIO
from zoneinfo import ZoneInfo

from config.source_models import SourceBase
from crawlers import TIMEZONE, RunProgress
from crawlers.state import RunRecord, SourceHealth
from search_api.services.admin_actions import run_details

BAR_WIDTH = 24
_SPINNER = "|/-\\"
_REDRAW_SECONDS = 0.1
_CHINA = ZoneInfo(TIMEZONE)


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def cli_time(value: datetime | None) -> str:
    """A time as every command-line table prints it: China time with its offset said, `2026-12-06T15:04:05+08:00`
    (as the pages show Beijing time); a dash when missing."""
    return value.astimezone(_CHINA).isoformat(timespec="seconds") if value else "-"


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def runs_table(runs: Sequence[RunRecord]) -> str:
    """Runs as aligned columns, newest first."""
    if not runs:
        return "no runs"
    rows = [("RUN", "SOURCE", "TRIGGER", "STATUS", "STARTED", "SECONDS", "FETCHED", "NEW", "UPDATED",
             "UNCHANGED", "WITHDRAWN", "REJECTED", "ERROR")]  # fmt: skip
    for run in runs:
        c = run.counts
        seconds = f"{run.duration_seconds:.1f}" if run.duration_seconds is not None else "-"
        error = f"{run.error_type}: {run.error_message}"[:80] if run.error_type else ""
        rows.append((run.id[:12], run.source_id, run.trigger, run.status, cli_time(run.started_at), seconds,
                     str(c.fetched), str(c.new), str(c.updated), str(c.unchanged), str(c.withdrawn),
                     str(c.rejected), error))  # fmt: skip
    return _table(rows)


def runs_json(runs: Sequence[RunRecord]) -> str:
    """Runs as a JSON list with every recorded detail."""
    return json.dumps([run_details(run) for run in runs], ensure_ascii=False, indent=2)


def health_table(sources: Sequence[SourceBase], health: Mapping[str, SourceHealth], paused: Mapping[str, bool]) -> str:
    """Configured sources with their health (last run, last success, freshness, failure streak), URL last."""
    rows = [("ID", "KIND", "PLATFORM", "ENABLED", "PAUSED", "LAST_RUN", "LAST_SUCCESS", "FRESHNESS", "FAILURES",
             "URL")]  # fmt: skip
    for source in sources:
        h = health.get(source.id)
        last = f"{h.last_run.status}@{cli_time(h.last_run.started_at)}" if h and h.last_run else "-"
        success = cli_time(h.last_success_at) if h else "-"
        rows.append((source.id, str(getattr(source, "kind", "?")), source.platform,
                     "yes" if source.enabled else "no", "yes" if paused.get(source.id) else "no", last, success,
                     _age(h.freshness_seconds) if h else "never", str(h.consecutive_failures) if h else "0",
                     str(getattr(source, "url", ""))))  # fmt: skip
    return _table(rows)


class ProgressBar:
    """A harvest progress callback drawing a bar against the items the last run fetched.

    Without an earlier run the size is unknown, so a spinner turns instead. Off a terminal it writes a plain
    line when the phase changes and every `every` items, so logs stay readable.
    """

    def __init__(self, stream: TextIO, *, expected: int | None = None, every: int = 50) -> None:
        self.stream = stream
        self.expected = expected if expected and expected > 0 else None
        self.live = stream.isatty()
        self.every = every
        self._started = time.monotonic()
        self._drawn = 0.0
        self._last_fetched = -1
        self._last_phase = ""
        self._turns = 0

    def __call__(self, progress: RunProgress) -> None:
        now = time.monotonic()
        changed = progress.phase != self._last_phase
        if self.live and (changed or now - self._drawn >= _REDRAW_SECONDS):
            end = "\n" if progress.phase == "done" else ""
            self.stream.write("\r\x1b[K" + self.line(progress) + end)
            self._drawn = now
        elif not self.live and (changed or progress.fetched - self._last_fetched >= self.every):
            self.stream.write(self.line(progress) + "\n")
            self._last_fetched = progress.fetched
        self._last_phase = progress.phase
        self.stream.flush()

    def line(self, progress: RunProgress) -> str:
        """The bar (or spinner), counts and elapsed time."""
        seconds = time.monotonic() - self._started
        counts = f"fetched {progress.fetched}, rejected {progress.rejected}, written {progress.written}"
        if progress.phase == "done":
            bar = "[" + "#" * BAR_WIDTH + "]"
        elif self.expected:
            share = min(progress.fetched / self.expected, 1.0)
            bar = "[" + ("#" * int(share * BAR_WIDTH)).ljust(BAR_WIDTH, ".") + f"] ~{share:4.0%}"
        else:
            self._turns += 1
            bar = _SPINNER[self._turns % len(_SPINNER)]
        return f"{progress.source_id} {bar} {progress.phase}: {counts} ({seconds:.1f} s)"
