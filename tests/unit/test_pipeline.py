"""RecordBuilder: raw platform items become valid, classified records; invalid ones are refused with a reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from config import load_themes
from config.source_models import RssSourceConfig
from indexer.errors import RecordInvalidError
from indexer.pipeline import RecordBuilder
from indexer.record import RawRecord

FETCHED = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
SOURCE = RssSourceConfig.model_validate(
    {
        "id": "shequ_rss",
        "name": "社区教育网推荐",
        "platform": "shequ",
        "platform_name": "中国社区教育网",
        "kind": "rss",
        "url": "https://zy.shequ.edu.cn/rss.xml",
        "defaults": {"record_type": "article", "audience": ["社区居民"]},
    }
)


@pytest.fixture(scope="module")
def builder() -> RecordBuilder:
    return RecordBuilder(load_themes())


def le_ouchn_item(**overrides) -> RawRecord:
    fields = {
        "title": "智能手机应用——微信视频通话",
        "subtitle": "手把手教老年朋友和家人视频聊天",
        "instructors": "王秀兰、陈建国",
        "provider": "国家开放大学",
        "learner_count": "1.5万",
        "tags": "智慧助老,智能手机",
        "url": "https://le.ouchn.cn/courseDetails/4784ff5f-8dc4-11ee-bd5f-fa163ea9b0ea",
        "description": "<p>第一讲：添加好友</p><script>alert(1)</script>",
        "lessons": [{"id": "m1", "title": "添加好友"}, {"id": "m2", "title": "发起视频通话"}],
        "published_at": "2023-07-18T12:00:00+0800",
    }
    fields.update(overrides)
    return RawRecord(source_id="4784ff5f-8dc4-11ee-bd5f-fa163ea9b0ea", fields=fields, payload={"Id": "4784ff5f"})


def test_builds_a_full_record(builder):
    record = builder.build(le_ouchn_item(), SOURCE, fetched_at=FETCHED)
    assert record.uid == "shequ_rss:4784ff5f-8dc4-11ee-bd5f-fa163ea9b0ea"
    assert [p.name for p in record.instructors] == ["王秀兰", "陈建国"]
    assert record.provider is not None and record.provider.name == "国家开放大学"
    assert record.learner_count == 15000
    assert record.lesson_count == 2
    assert record.description == "第一讲：添加好友"
    assert record.themes[0] == "科学文化"
    assert "智慧助老" in record.programmes
    assert record.audience[:1] == ["社区居民"] and "老年人" in record.audience
    assert record.published_at == datetime(2023, 7, 18, 4, 0, tzinfo=UTC)
    assert record.raw["payload"] == {"Id": "4784ff5f"}
    assert record.content_hash == record.compute_hash()
    assert record.cluster_id is None  # clusters are the index's to link, on evidence


def test_unchanged_content_keeps_its_hash_across_fetches(builder):
    first = builder.build(le_ouchn_item(), SOURCE, fetched_at=FETCHED)
    again = builder.build(le_ouchn_item(), SOURCE, fetched_at=datetime(2026, 12, 1, tzinfo=UTC))
    changed = builder.build(le_ouchn_item(learner_count=16000), SOURCE, fetched_at=FETCHED)
    assert first.content_hash == again.content_hash
    assert changed.content_hash != first.content_hash


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "<p> </p>"}, "title"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": None}, "url"),
    ],
)
def test_invalid_items_are_refused_with_the_field(builder, overrides, field):
    with pytest.raises(RecordInvalidError) as caught:
        builder.build(le_ouchn_item(**overrides), SOURCE, fetched_at=FETCHED)
    assert caught.value.field == field


def test_missing_platform_id_is_refused(builder):
    raw = le_ouchn_item()
    raw.source_id = "  "
    with pytest.raises(RecordInvalidError, match="platform id"):
        builder.build(raw, SOURCE, fetched_at=FETCHED)


def test_unusable_optional_values_are_dropped_not_fatal(builder):
    record = builder.build(
        le_ouchn_item(
            learner_count="很多",
            published_at="昨天",
            cover_image_url="data:image/png;base64,xx",
            lessons="not a list",
        ),
        SOURCE,
        fetched_at=FETCHED,
    )
    assert record.learner_count is None
    assert record.published_at is None
    assert record.cover_image_url is None
    assert record.lessons == [] and record.lesson_count is None


def test_rebuild_from_stored_raw_gives_the_same_record(builder):
    record = builder.build(le_ouchn_item(), SOURCE, fetched_at=FETCHED)
    assert builder.rebuild(record, SOURCE) == record


def test_the_same_title_alone_never_makes_a_cluster(builder):
    a = builder.build(le_ouchn_item(title="中医养生十二讲（第二版）"), SOURCE, fetched_at=FETCHED)
    b = builder.build(le_ouchn_item(title="中醫養生十二講"), SOURCE, fetched_at=FETCHED)
    assert a.cluster_id is None and b.cluster_id is None  # the index links records on evidence


def test_programme_row_becomes_a_programme_entry(builder):
    raw = RawRecord(
        source_id="35210#3",
        fields={
            "record_type": "programme_entry",
            "title": "李桂芳",
            "name": "李桂芳",
            "programme": "百姓学习之星",
            "honour": "事迹特别感人的百姓学习之星",
            "year": "2023",
            "level": "国家级",
            "region": "浙江省杭州市",
            "organisation": "杭州市上城区社区学院",
            "url": "https://www.caea.org.cn/list/35210.html",
        },
        payload={},
    )
    record = builder.build(raw, SOURCE, fetched_at=FETCHED)
    assert record.record_type == "programme_entry"
    assert record.programme_entry is not None
    assert record.programme_entry.year == 2023
    assert record.programme_entry.honour == "事迹特别感人的百姓学习之星"
    assert "百姓学习之星" in record.programmes
    assert record.region == {"name": "浙江省杭州市", "province": "浙江", "city": "杭州市"}
    assert record.level is None


def test_structured_language_level_and_audience_are_kept(builder):
    record = builder.build(le_ouchn_item(language="en", level="中级", audience=["家长"]), SOURCE, fetched_at=FETCHED)
    assert record.language == "en"
    assert record.level == "中级"
    assert "家长" in record.audience
    assert builder.build(le_ouchn_item(language="<b>"), SOURCE, fetched_at=FETCHED).language == "zh-CN"
