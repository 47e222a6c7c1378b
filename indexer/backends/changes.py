"""What the OAI-PMH provider asks of an index: records and withdrawals listed by (datestamp, uid), with sets.

Every backend keeps, beside its records, one change entry per uid it ever held: the datestamp of the last
write that changed the record (or of its withdrawal), whether it is withdrawn, and the set values it had
(platform, themes, programmes, region). A withdrawn record's entry stays, so downstream harvesters learn deletions
(OAI-PMH `deletedRecord=persistent`) even after the record itself left the index.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from indexer.record import Record

SET_KINDS = ("platform", "theme", "programme", "region")
"""The record fields an OAI set can select on, in the order a header lists them."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ChangeQuery:
    """One page of changes in (stamp, uid) order: `since` <= stamp <= `until`, after the key `after`.

    `set_kind` with `set_values` keeps the entries holding one of the values of that kind; `set_values` None
    keeps those holding any value of it. Stamps are epoch microseconds (UTC).
    """

    until: int
    since: int = 0
    after: tuple[int, str] | None = None
    set_kind: str | None = None
    set_values: tuple[str, ...] | None = None
    uid: str | None = None
    """Only this uid's entry (GetRecord)."""
    limit: int = 100
    records: bool = True
    """Load the live records too (ListRecords, GetRecord); headers need only the entries."""


@dataclass(frozen=True)
class Change:
    """One uid's entry: its datestamp, whether it is withdrawn, its sets, and the record while it is live."""

    uid: str
    stamp: int
    deleted: bool
    sets: dict[str, tuple[str, ...]]
    record: Record | None = None


@dataclass(frozen=True)
class ChangeSets:
    """Every set value some entry holds, by kind, and the earliest stamp (None: no entries)."""

    values: dict[str, list[str]]
    earliest: int | None


def set_values(record: Record) -> dict[str, tuple[str, ...]]:
    """The set values of a record, by kind."""
    return {
        "platform": (record.platform,),
        "theme": tuple(dict.fromkeys(record.themes)),
        "programme": tuple(dict.fromkeys(record.programmes)),
        "region": (province,) if (province := record.region.get("province")) else (),
    }


def stamp_of(moment: datetime) -> int:
    """Epoch microseconds of an aware time."""
    delta = moment.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def stamp_time(stamp: int) -> datetime:
    """The aware UTC time of epoch microseconds."""
    return _EPOCH + timedelta(microseconds=stamp)


def now_stamp() -> int:
    """The current time in epoch microseconds."""
    return stamp_of(datetime.now(UTC))
