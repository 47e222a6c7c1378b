"""edufed harvests edufed: its own `oai_pmh` source reads /oai (LOM) into a second index with no loss."""

from __future__ import annotations

from pathlib import Path

from config.source_models import OaiPmhSourceConfig
from indexer.record import Record
from tests.integration.oai.repository import course, serve_repository
from tests.support.harvest_state import Harness

COUNT = 300


def hub_source(base_url: str) -> OaiPmhSourceConfig:
    return OaiPmhSourceConfig.model_validate({
        "id": "edufed_hub", "kind": "oai_pmh", "name": "另一个 edufed", "platform": "edufed_hub",
        "platform_name": "edufed 汇聚目录", "base_url": base_url, "lom_prefix": "lom",
        "type_map": {"course": {"record_type": "course", "media_type": "video"}},
    })  # fmt: skip


def _same(original: Record, harvested: Record) -> None:
    assert (harvested.title, harvested.url) == (original.title, original.url)  # LOM has no subtitle element
    assert harvested.description == original.description
    assert harvested.themes == original.themes
    assert [p.name for p in harvested.instructors] == [p.name for p in original.instructors]
    assert harvested.provider is not None and original.provider is not None
    assert harvested.provider.name == original.provider.name
    assert (harvested.record_type, harvested.duration_seconds) == (original.record_type, original.duration_seconds)
    assert harvested.categories_raw == original.categories_raw


def test_a_second_edufed_harvests_every_record_theme_and_deletion(tmp_path: Path) -> None:
    originals = {r.url: r for r in (course(n) for n in range(COUNT))}
    with serve_repository(tmp_path / "first", records=list(originals.values()), page_size=50) as first, \
            Harness.open(tmp_path / "second") as second:  # fmt: skip
        source = hub_source(first.oai)
        report = second.run(source)
        assert report.status == "succeeded", report.to_dict()
        assert second.backend.count("edufed_hub") == COUNT
        harvested = {r.url: r for r in second.backend.iter_records("edufed_hub")}
        assert set(harvested) == set(originals)
        for url, original in originals.items():
            _same(original, harvested[url])

        changed = [course(n, version=1) for n in range(0, 30, 10)]
        gone = [course(n) for n in range(5, 55, 10)]
        first.backend.upsert(changed)
        first.backend.withdraw([r.uid for r in gone])
        again = second.run(source)
        assert again.status == "succeeded", again.to_dict()
        assert second.backend.count("edufed_hub") == COUNT - len(gone)
        after = {r.url: r for r in second.backend.iter_records("edufed_hub")}
        assert set(after) == set(originals) - {r.url for r in gone}
        for record in changed:
            _same(record, after[record.url])
        second.assert_consistent("edufed_hub")
