"""indexer.record_transfer: a record packed, pickled and unpacked is the record that was packed."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

from config.loader import load_themes
from config.source_models import JsonApiSourceConfig
from indexer.pipeline import RecordBuilder
from indexer.record import RawRecord, Record
from indexer.record_text import _texts, analyse_ahead, record_text
from indexer.record_transfer import pack, unpack

SOURCE = JsonApiSourceConfig.model_validate({
    "id": "transfer", "kind": "json_api", "name": "传输测试", "platform": "lndx", "platform_name": "国家老年大学",
    "url": "https://courses.example.edu.cn/api/list", "items_path": "items", "id_field": "id",
    "url_template": "https://courses.example.edu.cn/course/{id}", "fields": {"title": "name"},
})  # fmt: skip


def built(fields: dict[str, object]) -> Record:
    raw = RawRecord(source_id="t1", fields=fields, payload={"id": "t1", "big": 10**30, "nested": [{"a": None}]})
    return RecordBuilder(load_themes()).build(raw, SOURCE, fetched_at=datetime(2024, 6, 1, tzinfo=UTC))


def sent(record: Record) -> Record:
    return unpack(pickle.loads(pickle.dumps(pack(record), protocol=pickle.HIGHEST_PROTOCOL)))


def test_a_course_with_lessons_teachers_and_a_provider_arrives_whole() -> None:
    record = built({
        "title": "太极拳入门（第二季）", "url": "https://courses.example.edu.cn/course/t1",
        "description": "养生保健课程", "instructors": ["王秀兰", "李建国"],
        "provider": {"name": "国家开放大学", "id": "ouchn"}, "tags": ["太极", "养生"],
        "lessons": [{"title": "起势", "duration_seconds": 300}, {"title": "野马分鬃"}], "published_at": "2023-05-01",
    })  # fmt: skip
    assert record.lessons and record.instructors and record.provider and record.theme_evidence
    arrived = sent(record)
    assert arrived == record
    assert arrived.model_dump_json() == record.model_dump_json()
    assert arrived.known_folds() == record.known_folds() != {}
    assert arrived.model_fields_set == record.model_fields_set
    assert isinstance(arrived.lessons[0], type(record.lessons[0])) and arrived.provider == record.provider


def test_a_programme_entry_and_an_empty_provider_arrive_whole() -> None:
    record = built({
        "title": "社区学习之星", "url": "https://courses.example.edu.cn/course/t1", "record_type": "programme_entry",
        "programme": "百姓学习之星", "year": 2023, "name": "张淑芬", "honour": "全国百姓学习之星",
    })  # fmt: skip
    assert record.programme_entry is not None and record.provider is None
    arrived = sent(record)
    assert arrived == record and arrived.model_dump_json() == record.model_dump_json()


def test_an_analysis_done_ahead_is_reused_only_for_the_texts_it_was_made_from() -> None:
    record = built({"title": "太极拳入门", "url": "https://courses.example.edu.cn/course/t1", "tags": ["太极"]})
    fresh = record_text(record)
    analyse_ahead(record)
    arrived = sent(record)
    assert record_text(arrived) == fresh and arrived.known_text(_texts(arrived)) is not None
    renamed = arrived.model_copy(update={"title": "八段锦入门"})
    assert record_text(renamed) == record_text(renamed.model_copy(update={"tags": ["太极"]})) != fresh
    assert "八段锦" in record_text(renamed).fields["title"]
