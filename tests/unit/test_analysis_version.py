"""The index-side text analysis cannot change without its version: the analysis of a fixed sample of records' texts
(data/analysis_sample.json) is digested, and the digest is kept beside the version it was taken at
(data/analysis_digest.json). A changed output under the same version fails here: bump ANALYSIS_VERSION in
indexer/analysis_version.py (indexes written before are then caught up, see its docstring) and write the new
digest with the new version into data/analysis_digest.json."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from indexer.analysis import analyze_document
from indexer.analysis_version import ANALYSIS_VERSION

DATA = Path(__file__).with_name("data")


def analysis_digest() -> str:
    documents = json.loads((DATA / "analysis_sample.json").read_text(encoding="utf-8"))["documents"]
    analysed = []
    for document in documents:
        text = analyze_document(**document)
        analysed.append([text.fields, text.folded_title, text.title_pinyin])
    encoded = json.dumps(analysed, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def test_the_analysis_of_the_sample_changes_only_with_the_analysis_version() -> None:
    kept = json.loads((DATA / "analysis_digest.json").read_text(encoding="utf-8"))
    digest = analysis_digest()
    if kept["version"] == ANALYSIS_VERSION:
        assert digest == kept["sha256"], (
            f"the index-side analysis changed (sample digest {digest}, version {ANALYSIS_VERSION} had "
            f"{kept['sha256']}): bump ANALYSIS_VERSION in indexer/analysis_version.py and write "
            f'{{"version": <the new version>, "sha256": "{digest}"}} into tests/unit/data/analysis_digest.json'
        )
    else:
        assert digest != kept["sha256"], (
            f"ANALYSIS_VERSION is {ANALYSIS_VERSION} but the analysis of the sample is that of version "
            f"{kept['version']}: the version was bumped without a change (every index would be caught up for nothing)"
        )
        raise AssertionError(
            f"the analysis version is {ANALYSIS_VERSION}: write "
            f'{{"version": {ANALYSIS_VERSION}, "sha256": "{digest}"}} into tests/unit/data/analysis_digest.json'
        )


def test_the_sample_covers_what_the_analysis_does() -> None:
    """Scripts, full-width forms, pinyin and its initials, polyphones, latin words: what a change would touch."""
    documents = json.loads((DATA / "analysis_sample.json").read_text(encoding="utf-8"))["documents"]
    pinyin = " ".join(analyze_document(**d).fields["pinyin"] for d in documents)
    assert {"bdj", "znsj", "tjq"} <= set(pinyin.split())
    assert len(documents) >= 90
