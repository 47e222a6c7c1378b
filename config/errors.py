"""Errors raised while loading configuration.

ConfigError            a file or environment value is unreadable or invalid
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ConfigProblem:
    """One invalid field: where it is, what it holds, and why it is rejected."""

    location: str
    message: str


@dataclass
class ConfigError(Exception):
    """A configuration file (or environment override) failed to load or validate."""

    path: str
    problems: list[ConfigProblem] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"invalid configuration in {self.path}:"]
        lines += [f"  - {p.location}: {p.message}" for p in self.problems]
        return "\n".join(lines)
