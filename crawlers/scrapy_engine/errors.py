"""Errors of the crawl engine process, as the parent sees them.

HarvestError                      (crawlers.errors)
 +-- EngineError                  the crawl engine could not finish a crawl (carries the source id)
      +-- EngineCrashedError      the child died before its final line (carries exit code, stderr tail)
      +-- EngineTimeoutError      the crawl ran longer than its time limit and was stopped (carries the limit)
      +-- EngineProtocolError     the child wrote a line that is not a valid event (carries the line)
"""

from __future__ import annotations

from crawlers.errors import HarvestError


class EngineError(HarvestError):
    """Base of the crawl engine's own failures."""

    def __init__(self, source_id: str, message: str) -> None:
        self.source_id = source_id
        super().__init__(message)


class EngineCrashedError(EngineError):
    """The child process ended (crashed, was killed) without finishing its crawl."""

    def __init__(self, source_id: str, *, exit_code: int | None, stderr_tail: list[str]) -> None:
        self.exit_code = exit_code
        self.stderr_tail = stderr_tail
        if exit_code is not None and exit_code < 0:
            how = f"was killed by signal {-exit_code}"
        else:
            how = f"exited with code {exit_code}"
        last = f"; last output: {stderr_tail[-1]}" if stderr_tail else ""
        super().__init__(source_id, f"crawl engine for {source_id!r} {how} before finishing{last}")


class EngineTimeoutError(EngineError):
    """The crawl did not finish within its time limit; the child was stopped."""

    def __init__(self, source_id: str, *, limit_seconds: float) -> None:
        self.limit_seconds = limit_seconds
        super().__init__(
            source_id,
            f"crawl engine for {source_id!r} did not finish within {limit_seconds:g} s and was stopped",
        )


class EngineProtocolError(EngineError):
    """The child wrote something that is not an event line."""

    def __init__(self, source_id: str, *, line: str, reason: str) -> None:
        self.line = line
        self.reason = reason
        super().__init__(source_id, f"crawl engine for {source_id!r} wrote a bad line ({reason}): {line[:200]!r}")
