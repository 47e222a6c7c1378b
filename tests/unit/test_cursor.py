"""Paging cursors: opaque strings that round-trip, and clear QueryErrors for anything else."""

from __future__ import annotations

import pytest

from indexer.backends.cursor import Cursor, decode_cursor, encode_cursor
from indexer.errors import QueryError


@pytest.mark.parametrize("key", [-3.2e-06, 1718000000000000, -1, 0.1 + 0.2])
def test_cursor_round_trips_exactly(key: float) -> None:
    cursor = Cursor(sort="relevance", key=key, uid="le_ouchn:课程/1")
    text = encode_cursor(cursor)
    assert text.replace("-", "").replace("_", "").isalnum()
    assert decode_cursor(text, sort="relevance") == cursor


@pytest.mark.parametrize(
    "text", ["", "***", "eyJ2IjoxfQ", "bnVsbA", "eyJ2IjoxLCJzIjoibmV3ZXN0IiwiayI6TmFOLCJ1IjoiYSJ9"]
)
def test_malformed_cursors_raise_query_error_for_the_cursor_field(text: str) -> None:
    with pytest.raises(QueryError) as caught:
        decode_cursor(text, sort="newest")
    assert caught.value.field == "cursor"


def test_cursor_of_another_sort_is_refused() -> None:
    text = encode_cursor(Cursor(sort="popular", key=5, uid="a:1"))
    with pytest.raises(QueryError, match="popular"):
        decode_cursor(text, sort="newest")
