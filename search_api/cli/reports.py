"""Text the command line shows: harvest progress on stderr, run reports and source tables on stdout."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO

import yaml

from config.source_models import SourceBase
from crawlers import RunProgress, RunReport

MAX_SHOWN = 10
_PROGRESS_EVERY = 50


class ProgressLine:
    """A harvest progress callback: one rewritten line on a terminal, else a line every few dozen items."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self._last_fetched = -1
        self._last_phase = ""

    def __call__(self, progress: RunProgress) -> None:
        text = (
            f"{progress.source_id}: {progress.phase} - fetched {progress.fetched}, "
            f"rejected {progress.rejected}, written {progress.written}"
        )
        if self.live:
            self.stream.write("\r\x1b[K" + text + ("\n" if progress.phase == "done" else ""))
        elif progress.phase != self._last_phase or progress.fetched - self._last_fetched >= _PROGRESS_EVERY:
            self.stream.write(text + "\n")
            self._last_fetched = progress.fetched
        self._last_phase = progress.phase
        self.stream.flush()


def report_text(report: RunReport) -> str:
    """A run report for people: status, counts, the first rejections and warnings, the error."""
    seconds = report.duration_seconds or 0.0
    lines = [
        f"{report.source_id}: {report.status}{' (dry run, nothing written)' if report.dry_run else ''}"
        f" in {seconds:.1f} s",
        f"  fetched {report.fetched}, new {report.new}, updated {report.updated}, "
        f"unchanged {report.unchanged}, withdrawn {report.withdrawn}, rejected {report.rejected}, "
        f"written {report.written}",
        f"  HTTP requests {report.http.requests}, {report.http.bytes} bytes",
    ]
    if report.held is not None:
        lines.append(f"  held: {report.held.records} withdrawals wait for an admin (edufed holds approve|reject "
                     f"{report.held.hold_id}): {report.held.reason}")  # fmt: skip
    lines += [f"  note: {note}" for note in report.notes[:MAX_SHOWN]]
    if report.error is not None:
        lines.append(f"  error: {report.error.type}: {report.error.message}")
    if report.rejections:
        lines.append(f"  rejected items ({report.rejected}, first {min(MAX_SHOWN, len(report.rejections))}):")
        lines += [f"    - {r.source_id or '(no id)'}: {r.reason}" for r in report.rejections[:MAX_SHOWN]]
    if report.warnings:
        lines.append(f"  warnings ({report.warning_count}, first {min(MAX_SHOWN, len(report.warnings))}):")
        lines += [f"    - {w}" for w in report.warnings[:MAX_SHOWN]]
    if report.dry_run and report.records:
        lines.append(f"  records it would write (first {min(MAX_SHOWN, len(report.records))}):")
        lines += [f"    - {r.get('uid')}: {r.get('title')} [{', '.join(r.get('themes') or [])}]"
                  for r in report.records[:MAX_SHOWN]]  # fmt: skip
    return "\n".join(lines)


def reports_json(reports: Sequence[RunReport], *, single: bool) -> str:
    """The reports as JSON: one object for one named source, a list for --all."""
    data: Any = reports[0].to_dict() if single else [r.to_dict() for r in reports]
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


def source_yaml(source: SourceBase) -> str:
    """One source's full configuration as YAML."""
    data = source.model_dump(mode="json")
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).rstrip()
