"""The content hash: what makes a record count as changed between runs, and what does not."""

from __future__ import annotations

from datetime import UTC, datetime

from indexer.record import Record


def _record(**changes: object) -> Record:
    values: dict[str, object] = {
        "uid": "demo:1", "source": "demo", "source_id": "1", "url": "https://example.edu.cn/c/1",
        "title": "太极拳入门", "platform": "demo", "platform_name": "示例平台",
        "fetched_at": datetime(2026, 1, 1, tzinfo=UTC), "api_url": "https://example.edu.cn/api?page=1",
    }  # fmt: skip
    values.update(changes)
    return Record.model_validate(values)


def test_where_and_when_a_record_was_fetched_do_not_change_its_hash() -> None:
    first = _record().compute_hash()
    moved = _record(api_url="https://example.edu.cn/api?page=2", fetched_at=datetime(2026, 2, 1, tzinfo=UTC))
    assert moved.compute_hash() == first


def test_a_changed_title_changes_the_hash() -> None:
    assert _record(title="太极拳进阶").compute_hash() != _record().compute_hash()
