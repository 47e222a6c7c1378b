"""Where a command writes (results to stdout, messages to stderr), its exit codes and its usage error."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Protocol, TextIO

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
CLI_ACTOR = "cli"
"""How the audit log names a command-line actor where the user's own name is not asked for."""


class UsageError(Exception):
    """The command line asks for something that does not exist (exit code 2)."""


class Output(Protocol):
    """Where a command writes: `result` for what it prints, `note` for messages."""

    def result(self, text: str) -> None: ...

    def note(self, text: str) -> None: ...


@dataclass
class Console:
    """Where the command writes: results to `out`, progress and messages to `err`."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)

    def result(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def note(self, text: str) -> None:
        self.err.write(text + "\n")
        self.err.flush()
