"""A record's stored search text comes back as the very strings written, whatever characters they hold."""

from __future__ import annotations

import json
import sqlite3

import pytest
import zstandard

from indexer.backends.sqlite_text import FTS_COLUMNS, decode_fields, encode_fields
from indexer.errors import IndexBackendError

TEXTS = [
    "书法入门 第1讲",
    'a "quoted" word, a back\\slash, a tab\tand a newline\n',
    "\x00\x01\x1f control characters, \x7f and \u2028 \u2029",
    "全角ＡＢＣ　空格，emoji 🎵🀄, 𠀀 beyond the BMP",
    "",
    "x" * 5000,
    "ǎ ü é Ω",
    "1.5e3 null true",
]


def frame(data: bytes) -> bytes:
    return zstandard.ZstdCompressor(write_content_size=True, write_checksum=True).compress(data)


@pytest.mark.parametrize("start", range(len(TEXTS)))
def test_stored_fields_come_back_as_written(start: int) -> None:
    fields = tuple((TEXTS * 2)[start : start + len(FTS_COLUMNS)])
    with sqlite3.connect(":memory:") as conn:
        assert decode_fields(frame(encode_fields(fields)), conn) == fields


def test_a_stored_value_of_another_shape_is_an_index_error() -> None:
    with sqlite3.connect(":memory:") as conn:
        for value in ({"title": "x"}, ["only", "three", "columns"]):
            with pytest.raises(IndexBackendError):
                decode_fields(frame(json.dumps(value).encode()), conn)
        with pytest.raises(ValueError):
            decode_fields(frame(b'["unterminated'), conn)
