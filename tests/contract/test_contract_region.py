"""Contract: the `region` facet — filtered by province (short form), counted like the other facets, 全国 included."""

from __future__ import annotations

from collections import Counter

import pytest
from contract_corpus import make_record

from indexer.backends.base import FACET_FIELDS, IndexBackend, SearchQuery
from indexer.backends.changes import ChangeQuery, now_stamp
from indexer.record import Record

REGIONS = {
    "r1": {"province": "全国"},
    "r2": {"province": "浙江", "city": "杭州市"},
    "r3": {"province": "浙江", "city": "宁波市"},
    "r4": {"province": "广东"},
    "r5": {},
    "r6": {"province": "广东", "city": "深圳市"},
}


@pytest.fixture
def regional(backend: IndexBackend) -> list[Record]:
    records = [
        make_record(
            source_id,
            f"太极拳入门{n}" if n % 2 else f"书法练习{n}",
            platform="lndx" if n > 3 else "le_ouchn",
            themes=["养生保健"] if n % 2 or n == 4 else ["闲暇生活"],
            region=region,
        )
        for n, (source_id, region) in enumerate(REGIONS.items(), start=1)
    ]
    backend.upsert(records)
    return records


def _counts(records: list[Record]) -> dict[str, int]:
    return dict(Counter(r.region["province"] for r in records if r.region.get("province")))


def test_region_is_a_facet_of_every_backend() -> None:
    assert "region" in FACET_FIELDS


def test_browse_counts_every_region_and_leaves_out_records_without_one(
    backend: IndexBackend, regional: list[Record]
) -> None:
    result = backend.search(SearchQuery(size=1))
    assert result.facets["region"] == {"广东": 2, "浙江": 2, "全国": 1}
    assert result.facets["region"] == _counts(regional)


def test_region_filter_keeps_only_that_province(backend: IndexBackend, regional: list[Record]) -> None:
    found = backend.search(SearchQuery(regions=("浙江",), size=10))
    assert {h.record.source_id for h in found.hits} == {"r2", "r3"}
    assert all(h.record.region["province"] == "浙江" for h in found.hits)
    either = backend.search(SearchQuery(regions=("浙江", "全国"), size=10))
    assert {h.record.source_id for h in either.hits} == {"r1", "r2", "r3"}
    assert backend.search(SearchQuery(regions=("西藏",))).total == 0


def test_region_facet_ignores_its_own_filter_and_obeys_the_others(
    backend: IndexBackend, regional: list[Record]
) -> None:
    result = backend.search(SearchQuery(regions=("广东",), themes=("养生保健",), size=10))
    in_theme = [r for r in regional if "养生保健" in r.themes]
    assert [h.record.source_id for h in result.hits] == ["r4"]
    assert result.facets["region"] == _counts(in_theme)
    in_region = [r for r in regional if r.region.get("province") == "广东"]
    assert result.facets["theme"] == dict(Counter(t for r in in_region for t in r.themes))


def test_region_filter_applies_to_a_text_search(backend: IndexBackend, regional: list[Record]) -> None:
    # 太极拳 is in the titles of r1 (全国), r3 (浙江) and r5 (no region): the facet counts those hits
    result = backend.search(SearchQuery(q="太极拳", regions=("浙江", "广东"), size=10))
    assert [h.record.source_id for h in result.hits] == ["r3"]
    assert result.facets["region"] == {"浙江": 1, "全国": 1}


def test_region_is_an_oai_set_kind_kept_for_deleted_entries(backend: IndexBackend, regional: list[Record]) -> None:
    assert backend.change_sets().values["region"] == ["全国", "广东", "浙江"]
    backend.withdraw(["lndx:r4"])
    entries = backend.changes(ChangeQuery(until=now_stamp(), set_kind="region", set_values=("广东",)))
    assert sorted((e.uid, e.deleted) for e in entries) == [("lndx:r4", True), ("lndx:r6", False)]
    assert all(e.sets["region"] == ("广东",) for e in entries)
    anywhere = backend.changes(ChangeQuery(until=now_stamp(), set_kind="region"))
    assert {e.uid for e in anywhere} == {r.uid for r in regional if r.region}
