"""The theme classification cannot change without its version: the themes, evidence, programmes and audience the
bundled table (config/themes.yaml) and the classifier give a fixed sample of records (data/themes_sample.json: the
theme cases of tests/data/themes, the linkage sample's records, and some of the cases again as records that teach
nothing) are digested, and the digest is kept beside the themes version it was taken at (data/themes_digest.json).
A changed output under the same version fails here: bump the table's `version` in config/themes.yaml when the table
changed, THEMES_RULES_VERSION in indexer/themes_version.py when the classifier's code did (indexes classified before
then ask for `edufed reindex --themes-only`, see its docstring), and write the new digest with the new version into
data/themes_digest.json."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from config.loader import load_themes
from indexer.normalize.themes import FoldedFields, ThemeClassifier
from indexer.themes_version import (
    THEMES_RULES_VERSION,
    UNRECORDED,
    Reclassifier,
    bundled_themes_version,
    status_of,
    themes_state,
)
from tests.unit.test_linkage_matcher import course

DATA = Path(__file__).with_name("data")
DIGEST = DATA / "themes_digest.json"


def _sample() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads((DATA / "themes_sample.json").read_text(encoding="utf-8"))["records"]
    return records


def themes_digest() -> str:
    classifier = ThemeClassifier(load_themes())
    made = []
    for r in _sample():
        folded = FoldedFields.of(title=r["title"], subtitle=r["subtitle"], tags=r["tags"], description=r["description"],
                                 categories=r["categories"])  # fmt: skip
        found = classifier.classify_folded(folded, categories=r["categories"], taught=r["taught"])
        made.append([found.themes, found.evidence_rows, found.programmes, found.audience])
    encoded = json.dumps(made, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def test_the_themes_of_the_sample_change_only_with_the_themes_version() -> None:
    kept = json.loads(DIGEST.read_text(encoding="utf-8"))
    digest, version = themes_digest(), bundled_themes_version()
    write = f'write {{"version": "{version}", "sha256": "{digest}"}} into tests/unit/data/themes_digest.json'
    if kept["version"] == version:
        assert digest == kept["sha256"], (
            f"the theme classification changed (sample digest {digest}, version {version} had {kept['sha256']}): "
            "bump `version` in config/themes.yaml (a table change) or THEMES_RULES_VERSION in "
            f"indexer/themes_version.py (a code change), and {write}"
        )
    else:
        assert digest != kept["sha256"], (
            f"the themes version is {version} but the themes of the sample are those of version {kept['version']}: "
            "the version was bumped without a change (every index would be classified again for nothing)"
        )
        raise AssertionError(f"the themes version is {version}: {write}")


def test_the_sample_covers_what_the_classifier_does() -> None:
    """Category paths, tags, subtitles, descriptions, records that teach nothing, records with several themes and
    with none: what a change of the rules would touch."""
    sample = _sample()
    assert len(sample) >= 500
    assert sum(1 for r in sample if r["categories"]) >= 50 and sum(1 for r in sample if r["tags"]) >= 40
    assert sum(1 for r in sample if r["subtitle"]) >= 5 and sum(1 for r in sample if r["description"]) >= 100
    assert sum(1 for r in sample if not r["taught"]) >= 30


def test_an_index_states_its_themes_against_this_edufeds() -> None:
    ours = bundled_themes_version()
    assert ours.endswith(f"+{THEMES_RULES_VERSION}") and ours.startswith(load_themes().version)
    assert status_of(ours, ours) == "current" and themes_state(ours, ours=ours, records=10).notice is None
    older = themes_state(UNRECORDED, ours=ours, records=100_000)
    assert older.status == "older" and older.notice is not None and older.records == 100_000
    assert "edufed reindex --themes-only" in older.notice and "100000 records" in older.notice
    other_table = f"2020.01-1+{THEMES_RULES_VERSION}"
    assert status_of(other_table, ours) == "older"  # a table not this edufed's, whichever: classify again
    newer = themes_state(f"{ours}+{THEMES_RULES_VERSION + 1}", ours=ours, records=5)
    assert newer.status == "newer" and newer.notice is not None and "newer than this edufed's" in newer.notice


def test_a_stored_record_is_classified_again_only_when_its_themes_differ() -> None:
    reclassify = Reclassifier(load_themes())
    made = course("a:shufa", "书法入门", categories_raw=[["书画"]])
    again = reclassify(made)
    assert again is not None and again.themes[0] == "闲暇生活" and again.content_hash == again.compute_hash()
    assert reclassify(again) is None
    said = "本讲介绍学员身边的真实案例，以及遇到纠纷时如何寻求调解。"  # weak evidence of one subject
    news = course("a:news", "第三讲", record_type="article", description=said)
    taught = course("a:talk", "第三讲", description=said)
    assert (reclassify(news) or news).themes == [] and (reclassify(taught) or taught).themes == ["法律法规"]
    given = course("b:shufa", "书法入门", categories_raw=[["书画"]], raw={"fields": {"themes": ["思想道德"]}})
    kept = reclassify(given)
    assert kept is not None and kept.themes == ["思想道德"] and kept.theme_evidence[0].rule_id == "source"
