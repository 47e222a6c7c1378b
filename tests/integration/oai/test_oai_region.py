"""Region sets (region:<slug>, one per province and 全国) harvested with sickle; region and subtitle in the metadata."""

from __future__ import annotations

from pathlib import Path

from sickle import Sickle

from indexer.record import Record
from tests.integration.oai.repository import REPOSITORY, course, serve_repository

REGIONS = ({"province": "广东", "city": "广州市"}, {"province": "陕西"}, {"province": "山西"}, {"province": "全国"}, {})
LOM = "{http://ltsc.ieee.org/xsd/LOM}"
DC = "{http://purl.org/dc/elements/1.1/}"


def regional(n: int) -> Record:
    record = course(n, version=1).model_copy(update={"region": REGIONS[n % len(REGIONS)]})
    return record.model_copy(update={"content_hash": record.compute_hash()})


def identifier(uid: str) -> str:
    return f"oai:{REPOSITORY}:{uid}"


def test_sickle_lists_region_sets_and_harvests_one_with_its_deletions(tmp_path: Path) -> None:
    records = [regional(n) for n in range(40)]
    with serve_repository(tmp_path, records=records, page_size=5) as repository:
        sets = {s.setSpec: s.setName for s in Sickle(repository.oai).ListSets()}
        assert sets["region"].startswith("地区")
        assert {k: v for k, v in sets.items() if k.startswith("region:")} == {
            "region:guangdong": "广东省", "region:shaanxi": "陕西省", "region:shanxi": "山西省",
            "region:quanguo": "全国",
        }  # fmt: skip
        canton = {identifier(r.uid) for r in records if r.region.get("province") == "广东"}
        headers = list(Sickle(repository.oai).ListIdentifiers(metadataPrefix="oai_dc", set="region:guangdong"))
        assert {h.identifier for h in headers} == canton and len(canton) == 8
        assert all("region:guangdong" in h.setSpecs and not h.deleted for h in headers)
        shaanxi = Sickle(repository.oai).ListIdentifiers(metadataPrefix="oai_dc", set="region:shaanxi")
        in_shaanxi = {identifier(r.uid) for r in records if r.region.get("province") == "陕西"}
        assert {h.identifier for h in shaanxi} == in_shaanxi

        gone = next(r for r in records if r.region.get("province") == "广东")
        repository.backend.withdraw([gone.uid])
        after = {h.identifier: h.deleted for h in
                 Sickle(repository.oai).ListIdentifiers(metadataPrefix="oai_dc", set="region:guangdong")}  # fmt: skip
        assert set(after) == canton and after[identifier(gone.uid)] is True
        whole = {h.identifier for h in Sickle(repository.oai).ListIdentifiers(metadataPrefix="oai_dc", set="region")}
        assert whole == {identifier(r.uid) for r in records if r.region}


def test_lom_carries_subtitle_and_region_and_dublin_core_the_region(tmp_path: Path) -> None:
    record = regional(0)  # 广东 广州市, with a subtitle (第2版)
    with serve_repository(tmp_path, records=[record]) as repository:
        client = Sickle(repository.oai)
        lom = client.GetRecord(identifier=identifier(record.uid), metadataPrefix="lom").xml
        general = lom.find(f".//{LOM}general")
        descriptions = [d.findtext(f"{LOM}string") for d in general.findall(f"{LOM}description")]
        assert descriptions == [record.description, record.subtitle] and record.subtitle == "第2版"
        assert general.find(f"{LOM}coverage").findtext(f"{LOM}string") == "广东省 广州市"
        order = [child.tag.removeprefix(LOM) for child in general]
        assert order.index("description") < order.index("keyword") < order.index("coverage")
        dc = client.GetRecord(identifier=identifier(record.uid), metadataPrefix="oai_dc").xml
        assert [c.text for c in dc.iter(f"{DC}coverage")] == ["广东省 广州市"]
