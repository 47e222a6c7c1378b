"""Errors raised by the state database.

StateError
 +-- StateDatabaseError            the database cannot be opened or migrated (carries url, cause)
 +-- StateNotFoundError            a row asked for by id does not exist (carries kind, key)
 +-- SourceExistsError             a source id is already registered (carries source_id)
 +-- InvalidStateValueError        a value outside its allowed set (carries field, value, allowed)
 +-- RunAlreadyFinishedError       a run is finished twice (carries run_id, status)
 +-- HoldAlreadyDecidedError       a held deletion is approved or rejected twice (carries hold_id, status)
 +-- StoredConfigInvalidError      a stored source config no longer validates (carries source_id, problems)
"""

from __future__ import annotations

from collections.abc import Sequence


class StateError(Exception):
    """Base of every state-database error."""


class StateDatabaseError(StateError):
    """The state database cannot be reached, opened or brought to the current schema."""

    def __init__(self, url: str, *, cause: str) -> None:
        self.url = url
        self.cause = cause
        super().__init__(f"state database {url}: {cause}")


class StateNotFoundError(StateError):
    """No row of this kind has this key (a source, run, held deletion or API key)."""

    def __init__(self, kind: str, key: str | int) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"no {kind} {key!r}")


class SourceExistsError(StateError):
    """A source with this id is already registered."""

    def __init__(self, source_id: str) -> None:
        self.source_id = source_id
        super().__init__(f"source {source_id!r} is already registered")


class InvalidStateValueError(StateError):
    """A field was given a value outside the set it accepts."""

    def __init__(self, field: str, value: object, *, allowed: Sequence[str] | None = None) -> None:
        self.field = field
        self.value = value
        self.allowed = tuple(allowed) if allowed is not None else None
        hint = f" (allowed: {', '.join(self.allowed)})" if self.allowed else ""
        super().__init__(f"invalid {field}: {value!r}{hint}")


class RunAlreadyFinishedError(StateError):
    """A run that already has a final status was finished again."""

    def __init__(self, run_id: str, *, status: str) -> None:
        self.run_id = run_id
        self.status = status
        super().__init__(f"run {run_id!r} is already finished ({status})")


class HoldAlreadyDecidedError(StateError):
    """A held deletion that was already approved or rejected was decided again."""

    def __init__(self, hold_id: int, *, status: str) -> None:
        self.hold_id = hold_id
        self.status = status
        super().__init__(f"held deletion {hold_id} is already {status}")


class StoredConfigInvalidError(StateError):
    """A source config stored earlier fails validation by the current source models."""

    def __init__(self, source_id: str, *, problems: Sequence[str]) -> None:
        self.source_id = source_id
        self.problems = list(problems)
        super().__init__(f"stored config of source {source_id!r} is invalid: " + "; ".join(self.problems))
