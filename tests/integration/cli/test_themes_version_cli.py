"""An index whose records were classified by other theme rules says so (`edufed status`, its exit code) and
`edufed reindex --themes-only` classifies every stored record again: exactly the records whose themes or evidence
differ are written, a record a harvest wrote meanwhile is left as written, a theme filter finds a record classified
again, and the version is recorded."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import httpx
import pytest

from config.loader import load_themes
from indexer.backends.base import SearchQuery
from indexer.backends.sqlite import SearchEngine, SqliteBackend
from indexer.record import Record, ThemeEvidence
from indexer.themes_version import THEMES_RULES_VERSION, UNRECORDED, Reclassifier, themes_version
from tests.support.cli import edufed, no_sources_config
from tests.support.serve_process import serve_process
from tests.unit.test_linkage_matcher import course

OURS = themes_version(load_themes())
OTHER = "2026.11-1+1"
"""A table version before this edufed's, as an index written by an earlier table records it."""


def classified(record: Record) -> Record:
    """`record` with the themes this edufed's rules give it, and its content hash."""
    again = Reclassifier(load_themes())(record)
    return again if again is not None else record.model_copy(update={"content_hash": record.compute_hash()})


def records() -> list[Record]:
    return [
        classified(r)
        for r in (
            course("a:shufa", "书法入门", categories_raw=[["书画"]], description="从握笔开始学习楷书。"),
            course("a:taiji", "二十四式太极拳", tags=["太极"], description="舒缓的太极拳练习。"),
            course("a:law", "民法典讲座", description="讲解民法典中与老年人有关的条文。"),
            course("a:phone", "智能手机使用技巧", description="学会用手机视频通话、扫码和网上挂号。"),
            course("a:news", "社区学院开学典礼举行", record_type="article", description="书法、养生、摄影等课程开班。"),
        )
    ]  # fmt: skip


def stale(record: Record) -> Record:
    """`record` as older rules classified it: the calligraphy course under 职业技能 alone, the taiji course with
    its themes but other evidence; the rest as this edufed classifies them."""
    if record.uid == "a:shufa":
        evidence = [ThemeEvidence(theme="职业技能", rule_id="kw.old", matched="书法", score=2.0)]
        record = record.model_copy(update={"themes": ["职业技能"], "theme_evidence": evidence})
    elif record.uid == "a:taiji":
        evidence = [e.model_copy(update={"score": e.score + 1}) for e in record.theme_evidence]
        record = record.model_copy(update={"theme_evidence": evidence})
    else:
        return record
    return record.model_copy(update={"content_hash": record.compute_hash()})


def older_index(index: Path, *, engine: SearchEngine = "tantivy", recorded: str | None = OTHER) -> Path:
    """`index` (its folder made) holding `records()` as older rules classified them, recording `recorded` (None:
    no version, as an edufed before themes versions wrote)."""
    index.parent.mkdir(parents=True, exist_ok=True)
    backend = SqliteBackend(index, search_engine=engine)
    try:
        backend.upsert([stale(r) for r in records()])
    finally:
        backend.close()
    conn = sqlite3.connect(index)
    with conn:
        if recorded is None:
            conn.execute("DELETE FROM meta WHERE key = 'themes'")
        else:
            conn.execute("UPDATE meta SET value = ? WHERE key = 'themes'", (recorded,))
    conn.close()
    return index


def generations(index: Path) -> dict[str, int]:
    conn = sqlite3.connect(index)
    try:
        return {str(uid): int(gen) for uid, gen in conn.execute("SELECT uid, gen FROM docs")}
    finally:
        conn.close()


def settings_for(tmp_path: Path, engine: SearchEngine) -> Path:
    return no_sources_config(tmp_path, f"index:\n  search_engine: {engine}\n")


def themed(index: Path, theme: str, *, engine: SearchEngine) -> set[str]:
    backend = SqliteBackend(index, search_engine=engine)
    try:
        found = backend.search(SearchQuery(themes=(theme,), size=50))
        return {hit.record.uid for hit in found.hits}
    finally:
        backend.close()


def test_a_new_file_records_this_edufeds_themes(tmp_path: Path) -> None:
    settings = no_sources_config(tmp_path)
    (tmp_path / "data").mkdir()
    backend = SqliteBackend(tmp_path / "data" / "index.sqlite3")
    try:
        backend.upsert(records())
        assert backend.themes_recorded() == OURS
    finally:
        backend.close()
    code, out, _ = edufed(settings, "status")
    assert code == 0 and f"classified by version {OURS}, this edufed's is {OURS} (current)" in out


@pytest.mark.parametrize("engine", ["tantivy", "fts5"])
def test_records_classified_by_other_rules_are_reported_and_classified_again(
    tmp_path: Path, engine: SearchEngine
) -> None:
    settings = settings_for(tmp_path, engine)
    index = older_index(tmp_path / "data" / "index.sqlite3", engine=engine)
    assert "a:shufa" not in themed(index, "闲暇生活", engine=engine)  # a theme filter misses it

    code, out, _ = edufed(settings, "status")
    assert code == 1
    assert f"classified by version {OTHER}, this edufed's is {OURS} (older)" in out
    assert "edufed reindex --themes-only" in out and f"for {len(records())} records" in out
    code, out, _ = edufed(settings, "status", "--json")
    themes = json.loads(out)["themes"]
    assert code == 1 and (themes["status"], themes["index_version"], themes["records"]) == ("older", OTHER, 5)

    before = generations(index)
    code, out, err = edufed(settings, "reindex", "--themes-only")
    assert code == 0, err
    assert f"{len(records())} records classified again, 2 of them written with new themes" in out
    assert f"reindex: {len(records())} records classified again in" in err
    after = generations(index)
    assert {uid for uid in after if after[uid] != before[uid]} == {"a:shufa", "a:taiji"}  # exactly those written

    backend = SqliteBackend(index, search_engine=engine)
    try:
        for record in records():
            stored = backend.get(record.uid)
            assert stored is not None
            assert (stored.themes, stored.theme_evidence) == (record.themes, record.theme_evidence)
            assert stored.content_hash == record.content_hash  # the next harvest finds it unchanged
        assert backend.themes_recorded() == OURS
    finally:
        backend.close()
    assert "a:shufa" in themed(index, "闲暇生活", engine=engine)
    assert "a:shufa" not in themed(index, "职业技能", engine=engine)

    code, out, _ = edufed(settings, "status")
    assert code == 0 and f"classified by version {OURS}, this edufed's is {OURS} (current)" in out
    code, out, _ = edufed(settings, "reindex", "--themes-only")
    assert code == 0 and "classified by this edufed's theme rules" in out


def test_a_file_recording_no_themes_is_older(tmp_path: Path) -> None:
    settings = no_sources_config(tmp_path)
    older_index(tmp_path / "data" / "index.sqlite3", recorded=None)
    code, out, _ = edufed(settings, "status", "--json")
    themes = json.loads(out)["themes"]
    assert code == 1 and (themes["status"], themes["index_version"]) == ("older", UNRECORDED)
    assert "rules that recorded no version" in themes["notice"]


def test_a_record_a_harvest_writes_meanwhile_is_left_as_written(tmp_path: Path) -> None:
    """The pass reads a page, classifies it, then writes only the records whose stored content is still the one it
    read: a newer record written between is not overwritten with the old one."""
    index = older_index(tmp_path / "index.sqlite3")
    backend, harvest = SqliteBackend(index), SqliteBackend(index)
    reclassify = Reclassifier(load_themes())
    newer = stale(next(r for r in records() if r.uid == "a:shufa"))
    newer = newer.model_copy(update={"title": "书法入门（新版）"})
    newer = newer.model_copy(update={"content_hash": newer.compute_hash()})

    def meanwhile(record: Record) -> Record | None:
        if record.uid == "a:shufa":  # read by the pass: a harvest writes its newer copy now
            assert harvest.upsert([newer]).written == 1
        return reclassify(record)

    try:
        done = backend.reclassify_all(meanwhile, version=reclassify.version)
        assert (done.read, done.written) == (5, 1)  # a:taiji; a:shufa was the harvest's to write
        stored = backend.get("a:shufa")
        assert stored is not None and stored.title == "书法入门（新版）" and stored.themes == ["职业技能"]
        assert backend.themes_recorded() == OURS
    finally:
        backend.close()
        harvest.close()


def test_a_full_reindex_records_this_edufeds_themes(tmp_path: Path) -> None:
    """The records' sources are not configured: kept as stored by the rebuild, classified again from what they
    hold."""
    settings = no_sources_config(tmp_path)
    index = older_index(tmp_path / "data" / "index.sqlite3")
    code, out, err = edufed(settings, "reindex")
    assert code == 0, err
    assert f"kept as stored: {len(records())} whose source is no longer configured" in out
    assert "a:shufa" in themed(index, "闲暇生活", engine="tantivy")
    code, out, _ = edufed(settings, "status")
    assert code == 0 and "(current)" in out.splitlines()[-1]


def test_serve_says_at_start_that_the_records_were_classified_by_other_rules(tmp_path: Path) -> None:
    data = older_index(tmp_path / "data" / "index.sqlite3").parent
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources: []\n", encoding="utf-8")
    env = {"EDUFED_DATA_DIR": str(data), "EDUFED_SOURCES_FILE": str(sources), "EDUFED_SCHEDULER__ENABLED": "false"}
    with serve_process(env) as running:
        logged = re.compile(rf"WARNING .*classified into themes by version {re.escape(OTHER)}, this edufed's is "
                            rf"{re.escape(OURS)}: .*`edufed reindex --themes-only`.*of CPU for 5 records")  # fmt: skip
        assert any(logged.search(line) for line in running.seen)  # at start, before it serves
        with httpx.Client(base_url=running.url, timeout=30) as http:
            themes = http.get("/api/v1/health").json()["themes"]
            assert (themes["status"], themes["index_version"], themes["records"]) == ("older", OTHER, 5)


def test_an_older_edufed_opening_a_file_of_newer_rules_lowers_the_version_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    newer = f"{OURS}+{THEMES_RULES_VERSION + 1}"
    index = older_index(tmp_path / "index.sqlite3", recorded=newer)
    with caplog.at_level("WARNING"):
        backend = SqliteBackend(index)
    try:
        assert backend.themes_recorded() == OURS
    finally:
        backend.close()
    assert f"classified into themes by version {newer}, newer than this edufed's {OURS}" in caplog.text
