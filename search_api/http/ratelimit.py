"""Per-key rate limits for the costly operator actions (dry-runs fetch from the network; registrations write).

A sliding window in memory, per process: enough to stop one key from hammering a platform or the service
through us. The answer to a refused request is 429 with `Retry-After`.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from fastapi import FastAPI, Request
from starlette.responses import Response

from config.settings import OperatorSettings
from search_api.http.errors import ApiError
from search_api.http.responses import error_for

DRY_RUN = "dry_run"
REGISTER = "register"


class RateLimitedError(ApiError):
    """Too many requests of one kind from one key; `retry_after` says when the next one is accepted."""

    def __init__(self, action: str, *, retry_after: int) -> None:
        self.action = action
        self.retry_after = retry_after
        super().__init__(429, "rate_limited", f"too many {action.replace('_', '-')} requests from this key; "
                         f"try again in {retry_after} s")  # fmt: skip


class SlidingWindow:
    """At most `limit` events per key within `window` seconds."""

    def __init__(self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float | None:
        """Count one event for `key`; None when allowed, else seconds until the next one would be."""
        now = self._clock()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return events[0] + self.window - now
            events.append(now)
            return None


class RateLimits:
    """The operator actions' windows, from settings."""

    def __init__(self, settings: OperatorSettings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._windows = {
            DRY_RUN: SlidingWindow(settings.dry_runs_per_minute, 60.0, clock=clock),
            REGISTER: SlidingWindow(settings.registrations_per_hour, 3600.0, clock=clock),
        }

    def check(self, action: str, key_id: str) -> None:
        """Count one `action` by a key; RateLimitedError when the key has used up its window."""
        wait = self._windows[action].take(key_id)
        if wait is not None:
            raise RateLimitedError(action, retry_after=max(1, math.ceil(wait)))


def install(app: FastAPI) -> None:
    """Answer RateLimitedError with 429, the shared error body and `Retry-After`."""

    async def rate_limited(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RateLimitedError)
        return error_for(request.scope, exc, headers={"Retry-After": str(exc.retry_after)})

    app.add_exception_handler(RateLimitedError, rate_limited)
