"""The record linkage cannot change without its version: what linkage makes of a fixed sample of records (each
profile's title keys, teachers and stored blocking keys) and its verdicts on pairs of them are digested, and the
digest is kept beside the version it was taken at (data/linkage_digest.json). A changed output under the same
version fails here: bump LINKAGE_VERSION in indexer/linkage/version.py (indexes linked before then ask for
`edufed reindex --links-only`, see its docstring) and write the new digest with the new version into
data/linkage_digest.json."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from indexer.linkage import compare, profile_of
from indexer.linkage.incremental import stored_link_keys
from indexer.linkage.version import LINKAGE_VERSION, UNRECORDED, linkage_state, status_of
from indexer.record import Record

DATA = Path(__file__).with_name("data")


def _sample() -> tuple[list[Record], list[list[int]]]:
    sample = json.loads((DATA / "linkage_sample.json").read_text(encoding="utf-8"))
    return [Record.model_validate(r) for r in sample["records"]], sample["pairs"]


def linkage_digest() -> str:
    records, pairs = _sample()
    profiles = [profile_of(r) for r in records]
    made: list[object] = [
        [p.key, p.title, p.main, p.alias, repr(p.markers), sorted(p.instructors), stored_link_keys(p)] for p in profiles
    ]
    for a, b in pairs:
        verdict = compare(profiles[a], profiles[b])
        made.append([a, b, verdict.same, verdict.veto, verdict.evidence])
    encoded = json.dumps(made, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def test_the_linkage_of_the_sample_changes_only_with_the_linkage_version() -> None:
    kept = json.loads((DATA / "linkage_digest.json").read_text(encoding="utf-8"))
    digest = linkage_digest()
    if kept["version"] == LINKAGE_VERSION:
        assert digest == kept["sha256"], (
            f"the record linkage changed (sample digest {digest}, version {LINKAGE_VERSION} had {kept['sha256']}): "
            "bump LINKAGE_VERSION in indexer/linkage/version.py and write "
            f'{{"version": <the new version>, "sha256": "{digest}"}} into tests/unit/data/linkage_digest.json'
        )
    else:
        assert digest != kept["sha256"], (
            f"LINKAGE_VERSION is {LINKAGE_VERSION} but the linkage of the sample is that of version "
            f"{kept['version']}: the version was bumped without a change (every index would be linked again for "
            "nothing)"
        )
        raise AssertionError(
            f"the linkage version is {LINKAGE_VERSION}: write "
            f'{{"version": {LINKAGE_VERSION}, "sha256": "{digest}"}} into tests/unit/data/linkage_digest.json'
        )


def test_the_sample_covers_what_linkage_does() -> None:
    """Channel and site labels, episode counts, a course line's parts, teachers read from the text, both verdicts:
    what a change of the rules would touch."""
    records, pairs = _sample()
    profiles = [profile_of(r) for r in records]
    titles = " ".join(r.title for r in records)
    assert all(word in titles for word in ("健康频道｜", "学习网", "全12集", "理论篇", "实操篇", "二期", "高清"))
    assert any(not r.instructors and p.instructors for r, p in zip(records, profiles, strict=True))
    verdicts = [compare(profiles[a], profiles[b]).same for a, b in pairs]
    assert sum(verdicts) >= 50 and verdicts.count(False) >= 30
    assert len(records) >= 200


def test_an_index_states_its_linkage_against_this_edufeds() -> None:
    assert status_of(LINKAGE_VERSION) == "current" and linkage_state(LINKAGE_VERSION, records=10).notice is None
    older = linkage_state(UNRECORDED, records=100_000)
    assert older.status == "older" and older.notice is not None
    assert "edufed reindex --links-only" in older.notice and "100000 records" in older.notice
    newer = linkage_state(LINKAGE_VERSION + 1, records=5)
    assert newer.status == "newer" and newer.notice is not None and "newer than this edufed's" in newer.notice
