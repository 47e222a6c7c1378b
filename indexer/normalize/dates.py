"""Date normalizers: the many date shapes platforms use, tried in order, made timezone-aware (+08:00 default)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
_CHINESE = re.compile(
    r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?(?:\s*(\d{1,2})[:：时](\d{1,2})(?:[:：分](\d{1,2}))?)?"
)
_COMPACT_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")
_ENDS_WITH_COMPACT_OFFSET = re.compile(r"\d[+-]\d{4}$")
_PLAIN_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})?)?\Z")


def _from_number(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    seconds = value / 1000 if value > 10_000_000_000 else value
    return datetime.fromtimestamp(seconds, tz=UTC)


def _from_struct_time(value: Any) -> datetime | None:
    if isinstance(value, time.struct_time):
        return datetime(*value[:6], tzinfo=UTC)
    return None


def _from_iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    text = value.strip().replace("/", "-")
    text = _COMPACT_OFFSET.sub(r"\1:\2", text) if _ENDS_WITH_COMPACT_OFFSET.search(text) else text
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _from_rfc2822(value: Any) -> datetime | None:
    if not isinstance(value, str) or not re.search(r"[A-Za-z]{3}", value):
        return None
    try:
        return parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None


def _from_chinese(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    match = _CHINESE.match(value.strip())
    if not match:
        return None
    parts = [int(p) if p else 0 for p in match.groups()]
    try:
        return datetime(*parts)  # type: ignore[arg-type, misc]
    except ValueError:
        return None


PARSERS: tuple[Callable[[Any], datetime | None], ...] = (
    _from_struct_time,
    _from_number,
    _from_iso,
    _from_rfc2822,
    _from_chinese,
)


def _plain_iso(value: Any) -> datetime | None:
    """An ISO 8601 string as it comes (most platforms' dates): what _from_iso would read, without its rewrites."""
    if not isinstance(value, str) or not _PLAIN_ISO.match(value):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def parse_datetime(value: Any, *, now: datetime | None = None) -> datetime | None:
    """The first parser that understands the value wins; naive times are China time; absurd dates give None."""
    if value is None or value == "":
        return None
    parsed: datetime | None = value if isinstance(value, datetime) else _plain_iso(value)
    if parsed is None:
        parsed = next((p for p in (parser(value) for parser in PARSERS) if p is not None), None)
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=CHINA)
    latest = (now or datetime.now(UTC)) + timedelta(days=366)
    if not _EARLIEST <= parsed <= latest:
        return None
    return parsed
