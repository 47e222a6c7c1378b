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


def test_the_hashed_text_is_the_sorted_compact_json_of_the_content() -> None:
    """The stored hashes were taken over json.dumps text; the faster encoder must write the same bytes."""
    import hashlib
    import json

    record = _record(
        subtitle="養生 “引号” \\u2028 emoji 🙂",
        description="第一行\n第二行 <b>不是标签</b>",
        learner_count=2**40,
        region={"province": "浙江", "name": "杭州"},
        tags=["太极", "Tai Chi"],
        themes=["养生保健"],
        theme_evidence=[{"theme": "养生保健", "rule_id": "kw", "matched": "太极", "score": 0.1 + 0.2}],
        lessons=[{"id": "1", "title": "第一课", "order": 1, "duration_seconds": 600}],
        published_at=datetime(2025, 3, 1, 8, 30, tzinfo=UTC),
    )
    body = record.model_dump(mode="json", exclude={"fetched_at", "content_hash", "raw", "api_url"})
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert record.compute_hash() == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_a_count_beyond_64_bits_still_hashes() -> None:
    assert len(_record(learner_count=10**30).compute_hash()) == 64
