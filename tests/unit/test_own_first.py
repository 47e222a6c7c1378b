"""A learner's question's pages: its own records first, then its tags' records, each shown once in turn whatever
page size, even when some of its own records stand past the first 50 records of the tags' pass."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from indexer.backends.base import SearchHit, SearchResult, _own_first
from indexer.match_plan import THEME_FEW
from indexer.record import Record


def _hit(name: str) -> SearchHit:
    record = Record.model_validate({
        "uid": f"demo:{name}", "source": "demo", "source_id": name, "url": f"https://example.edu.cn/c/{name}",
        "title": name, "platform": "demo", "platform_name": "示例平台", "fetched_at": datetime(2026, 1, 1, tzinfo=UTC),
    })  # fmt: skip
    return SearchHit(record=record, score=0.0)


def _combined(own_at: list[int], total: int) -> tuple[list[SearchHit], list[SearchHit]]:
    """The tags' pass order of `total` records, the question's own at the positions `own_at`, and those own records
    in their own pass's order (the reverse of where the tags' pass put them)."""
    combined = [_hit(f"o{n}" if n in own_at else f"t{n}") for n in range(total)]
    own = [hit for hit in combined if hit.record.source_id.startswith("o")][::-1]
    return combined, own


def _pages(combined: list[SearchHit], own: list[SearchHit], size: int, *, from_start: bool) -> list[str]:
    """Every page of `size` in turn, as a backend answers them: the tags' pass page, placed by `_own_first`."""
    shown: list[str] = []
    for offset in range(0, len(combined), size):
        page = combined[offset : offset + size]
        more = offset + size < len(combined)
        result = SearchResult(total=len(combined), hits=page, facets={}, next_cursor="next" if more else None)
        composed = _own_first(
            result, own, first=lambda: combined[:THEME_FEW], from_start=from_start and offset == 0
        )  # fmt: skip
        shown.extend(hit.record.source_id for hit in composed.hits)
    return shown


@pytest.mark.parametrize("own_at", [[0, 3, 9], [1, 30, 55, 70], [60, 61], [5, 49, 50]])
@pytest.mark.parametrize("size", [1, 7, 10, 20, 50, 100])
@pytest.mark.parametrize("from_start", [False, True])
def test_every_record_is_shown_once_the_questions_own_first(own_at: list[int], size: int, from_start: bool) -> None:
    combined, own = _combined(own_at, total=80)
    expected = [hit.record.source_id for hit in own]
    expected += [hit.record.source_id for hit in combined if not hit.record.source_id.startswith("o")]
    assert _pages(combined, own, size, from_start=from_start) == expected
