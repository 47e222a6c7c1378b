"""Date normalization across the shapes platforms use: ISO with +0800, RFC 822, Chinese, epoch millis."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from indexer.normalize.dates import CHINA, parse_datetime

NOON_CHINA = datetime(2023, 7, 18, 12, 0, tzinfo=CHINA)


@pytest.mark.parametrize(
    "raw",
    [
        "2023-07-18T12:00:00+0800",
        "2023-07-18T12:00:00+08:00",
        "2023-07-18T04:00:00Z",
        "2023-07-18 12:00:00",
        "2023/07/18 12:00",
        "Tue, 18 Jul 2023 12:00:00 +0800",
        "Tue, 18 Jul 2023 04:00:00 GMT",
        "2023年7月18日 12:00",
        "2023年07月18日12时00分",
        1689652800000,
        1689652800,
        time.gmtime(1689652800),
    ],
)
def test_every_shape_gives_the_same_instant(raw):
    assert parse_datetime(raw) == NOON_CHINA


def test_date_only_is_midnight_china_time():
    assert parse_datetime("2023-07-18") == datetime(2023, 7, 18, tzinfo=CHINA)


@pytest.mark.parametrize("raw", ["", None, "昨天", "2023-13-45", "0000-00-00 00:00:00", "1900-01-01", "2999-01-01"])
def test_unusable_dates_are_none(raw):
    assert parse_datetime(raw) is None


def test_result_is_always_timezone_aware():
    parsed = parse_datetime("2024-01-02 03:04:05")
    assert parsed is not None
    assert parsed.utcoffset() is not None
    assert parsed.astimezone(UTC).hour == 19
