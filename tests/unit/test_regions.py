"""The region table and the region a record gets: its own field, else its provider's name, else its platform's."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from config.regions import PROVINCE_COUNT, Place, RegionTable, region_table
from config.source_models import RecordDefaults
from indexer.normalize.region import normalize_region


def test_table_holds_the_34_provincial_regions_and_the_national_one() -> None:
    table = region_table()
    assert len(table.provinces) == PROVINCE_COUNT
    assert table.every[0].short == "全国"
    assert table.canonical("广西壮族自治区") == table.canonical("广西") == table.canonical("guangxi") == "广西"
    assert table.province("陕西") is not None and table.province("陕西").slug == "shaanxi"  # type: ignore[union-attr]
    assert table.canonical("广东省广州市") is None


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("浙江省杭州市老年大学", Place("浙江", "杭州市")),
        ("宁波社区大学", Place("浙江", "宁波市")),
        ("广东开放大学", Place("广东", None)),
        ("成都市龙泉驿区社区教育学院", Place("四川", "成都市")),
        ("北京市朝阳区社区学院", Place("北京", None)),
        ("澳門長者學苑", Place("澳门", None)),
        ("内蒙古开放大学", Place("内蒙古", None)),
        ("国家开放大学", None),
    ],
)
def test_a_name_is_placed_in_its_province_and_city(text: str, place: Place | None) -> None:
    assert region_table().find(text) == place


def test_own_field_beats_provider_which_beats_platform() -> None:
    national = {"province": "全国"}
    assert normalize_region("广东省惠州市", provider="浙江开放大学", default=national) == {
        "name": "广东省惠州市", "province": "广东", "city": "惠州市"}  # fmt: skip
    assert normalize_region(None, provider="浙江开放大学", default=national) == {"province": "浙江"}
    assert normalize_region(None, provider="国家开放大学", default=national) == {"province": "全国"}
    local = {"province": "浙江省", "city": "宁波市", "adcode": "330200"}
    assert normalize_region(None, provider=None, default=local) == {
        "province": "浙江", "city": "宁波市", "adcode": "330200"}  # fmt: skip
    assert normalize_region(None, provider="北京开放大学", default=local) == {"province": "北京"}
    assert normalize_region("某地", provider=None, default={}) == {"name": "某地"}


def test_platform_region_must_be_a_known_province() -> None:
    assert RecordDefaults(region={"province": "广东省"}).region == {"province": "广东省"}
    with pytest.raises(ValidationError, match="34 provincial-level"):
        RecordDefaults(region={"province": "火星"})


def test_table_refuses_a_missing_province() -> None:
    raw = region_table().model_dump()
    raw["provinces"] = raw["provinces"][:-1]
    with pytest.raises(ValidationError, match="not 34"):
        RegionTable.model_validate(raw)


def test_a_name_of_a_province_or_city_names_a_place_and_a_longer_name_does_not() -> None:
    table = region_table()
    assert all(table.names_place(name) for name in ("浙江", "浙江省", "杭州", "杭州市", "大连", "全国"))
    assert not any(table.names_place(name) for name in ("浙江大学", "杭州西湖区", "碑林", ""))
