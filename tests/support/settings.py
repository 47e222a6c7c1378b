"""Settings for tests that harvest from local servers: no politeness delay, no retries, loopback allowed.

The harvester refuses loopback and private addresses unless `http.allow_private_hosts` lists them, so every test
that fetches from a fixture server on 127.0.0.1 builds its HTTP settings here.
"""

from __future__ import annotations

from typing import Any

from config.settings import HttpSettings

LOOPBACK = ["127.0.0.1"]


def local_http(**changes: Any) -> HttpSettings:
    """Fast HTTP settings for fixture servers on 127.0.0.1; `changes` override any field."""
    values: dict[str, Any] = {
        "delay_seconds": 0,
        "retries": 0,
        "backoff_seconds": 0,
        "timeout_seconds": 5,
        "allow_private_hosts": list(LOOPBACK),
    }
    values.update(changes)
    return HttpSettings(**values)
