"""An index linked by older linkage rules says so (`edufed status`, the health answer) and `edufed reindex
--links-only` links every record again from its stored record: copies the new rules join are joined, courses of
a line they keep apart are split, the admins' split and join decisions hold, and the version is recorded."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import httpx
import pytest

from config.loader import load_settings
from crawlers.state.store import StateStore
from indexer.backends.sqlite import SearchEngine, SqliteBackend
from indexer.linkage import compare, profile_of
from indexer.linkage.version import LINKAGE_VERSION, UNRECORDED
from indexer.record import Record
from search_api.app import create_app
from tests.integration.api.catalogue import live_server, settings_for
from tests.support.cli import edufed, no_sources_config
from tests.support.older_linkage import to_older_linkage
from tests.support.serve_process import serve_process
from tests.unit.test_linkage_matcher import course

SAX = ["认识萨克斯", "持管与口型", "长音练习", "音阶练习", "简单乐曲", "综合演奏"]
SAX_TEXT = "从认识乐器开始，一步步学会演奏简单乐曲。课程节奏舒缓，适合中老年朋友。"
CALLIGRAPHY = ["握笔与坐姿", "点的写法", "横的写法", "竖的写法", "撇的写法", "捺的写法"]


def records() -> list[Record]:
    return [
        # a channel's label the older rules kept in the title: the same course, apart until linked again
        course("a:sax", "萨克斯演奏", teachers=["王丽萍"], lessons=SAX, description=SAX_TEXT),
        course("b:sax", "健康频道｜萨克斯演奏", teachers=["王丽萍老师"], lessons=SAX, description=SAX_TEXT),
        # two parts of a course line the older rules merged
        course("a:theory", "萨克斯演奏理论篇", teachers=["赵刚"], lessons=SAX, description=SAX_TEXT),
        course("b:practice", "萨克斯演奏实操篇", teachers=["赵刚"], lessons=SAX, description=SAX_TEXT),
        # a city learning site's label: the same course by the rules, kept apart by an admin's split
        course("a:shufa", "书法入门", teachers=["王秀兰"], lessons=CALLIGRAPHY),
        course("b:shufa", "南京市民学习网｜书法入门", teachers=["王秀兰"], lessons=CALLIGRAPHY),
        # two courses nothing links, joined by an admin
        course("a:tea", "茶艺基础", teachers=["刘芳"]),
        course("b:photo", "手机摄影", teachers=["李明"]),
    ]


def settings_file(tmp_path: Path) -> Path:
    return no_sources_config(tmp_path)


def clusters(index: Path) -> dict[str, str | None]:
    backend = SqliteBackend(index)
    try:
        found = {}
        for record in records():
            view = backend.cluster_of(record.uid)
            stored = backend.get(record.uid)
            assert stored is not None
            assert stored.cluster_id == (view.cluster_id if view else None)  # the record's JSON says the same
            found[record.uid] = view.cluster_id if view else None
        return found
    finally:
        backend.close()


def written(index: Path) -> Path:
    """`index` (its folder made) holding `records()`, linked by this edufed."""
    index.parent.mkdir(parents=True, exist_ok=True)
    backend = SqliteBackend(index)
    try:
        backend.upsert(records())
    finally:
        backend.close()
    return index


def together(found: dict[str, str | None], a: str, b: str) -> bool:
    return found[a] is not None and found[a] == found[b]


@pytest.mark.parametrize("engine", ["tantivy", "fts5"])
def test_an_older_linked_index_says_so_and_reindex_links_only_links_it_again(
    tmp_path: Path, engine: SearchEngine
) -> None:
    settings = settings_file(tmp_path)
    config = settings.read_text(encoding="utf-8") + f"index:\n  search_engine: {engine}\n"
    settings.write_text(config, encoding="utf-8")
    profiles = {r.uid: profile_of(r) for r in records()}
    assert compare(profiles["a:sax"], profiles["b:sax"]).same
    assert compare(profiles["a:shufa"], profiles["b:shufa"]).same  # only the admin's split keeps them apart
    assert not compare(profiles["a:theory"], profiles["b:practice"]).same

    index = tmp_path / "data" / "index.sqlite3"
    index.parent.mkdir()
    backend = SqliteBackend(index, search_engine=engine)
    try:
        backend.upsert(records())
        assert backend.linkage_state().status == "current"
    finally:
        backend.close()
    code, out, _ = edufed(settings, "status")
    assert code == 0 and f"linked by version {LINKAGE_VERSION}, this edufed's is {LINKAGE_VERSION} (current)" in out

    to_older_linkage(index, apart=["a:sax", "b:sax", "a:shufa", "b:shufa"], merged=[["a:theory", "b:practice"]])
    store = StateStore.for_settings(load_settings(settings))
    try:
        store.links.decide("a:shufa", "b:shufa", kind="split", by="key:admin")
        store.links.decide("a:tea", "b:photo", kind="join", by="key:admin")
    finally:
        store.close()
    before = clusters(index)
    assert not together(before, "a:sax", "b:sax") and together(before, "a:theory", "b:practice")

    code, out, _ = edufed(settings, "status")
    assert code == 1
    assert f"linked by version {UNRECORDED}, this edufed's is {LINKAGE_VERSION} (older)" in out
    assert "edufed reindex --links-only" in out and f"for {len(records())} records" in out
    code, out, _ = edufed(settings, "status", "--json")
    linkage = json.loads(out)["linkage"]
    assert code == 1 and (linkage["status"], linkage["index_version"]) == ("older", UNRECORDED)

    code, out, err = edufed(settings, "reindex", "--links-only")
    assert code == 0, err
    assert f"{len(records())} records linked again" in out and f"linkage version {LINKAGE_VERSION}" in out
    assert f"reindex: {len(records())} records' keys coded and clustered in" in err
    after = clusters(index)
    assert together(after, "a:sax", "b:sax")  # joined by the new rules
    assert not together(after, "a:theory", "b:practice")  # split by them
    assert not together(after, "a:shufa", "b:shufa")  # the admin's split holds
    assert together(after, "a:tea", "b:photo")  # the admin's join holds

    code, out, _ = edufed(settings, "status")
    assert code == 0 and "(current)" in out.splitlines()[-1]
    code, out, _ = edufed(settings, "reindex", "--links-only")
    assert code == 0 and "linked by this edufed's record linkage" in out


def test_health_says_which_linkage_the_index_holds(tmp_path: Path) -> None:
    index = written(tmp_path / "index.sqlite3")
    to_older_linkage(index, apart=["a:sax", "b:sax"])
    backend = SqliteBackend(index)
    try:
        app = create_app(settings=settings_for(tmp_path), backend=backend)
        with live_server(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
            older = http.get("/api/v1/health").json()["linkage"]
            backend.relink_all()
            current = http.get("/api/v1/health").json()["linkage"]
    finally:
        backend.close()
    assert (older["status"], older["index_version"], older["version"]) == ("older", UNRECORDED, LINKAGE_VERSION)
    assert "edufed reindex --links-only" in older["notice"]
    assert (current["status"], current["index_version"], current["notice"]) == ("current", LINKAGE_VERSION, None)


def test_an_older_edufed_opening_a_newer_linked_file_lowers_the_version_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    index = written(tmp_path / "index.sqlite3")
    conn = sqlite3.connect(index)
    with conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'linkage'", (LINKAGE_VERSION + 1,))
    conn.close()
    with caplog.at_level("WARNING"):
        backend = SqliteBackend(index)
    try:
        assert backend.linkage_state().status == "current"
    finally:
        backend.close()
    assert f"record linkage version {LINKAGE_VERSION + 1}, newer than this edufed's" in caplog.text


def test_a_full_reindex_of_an_older_linked_file_links_it_again(tmp_path: Path) -> None:
    """Records whose content did not change are not written again by a rebuild, so their keys are coded again."""
    settings = settings_file(tmp_path)
    index = written(tmp_path / "data" / "index.sqlite3")
    to_older_linkage(index, apart=["a:sax", "b:sax"], merged=[["a:theory", "b:practice"]])
    code, out, err = edufed(settings, "reindex")
    assert code == 0, err
    assert f"{len(records())} unchanged" in out  # nothing was written again...
    after = clusters(index)
    assert together(after, "a:sax", "b:sax") and not together(after, "a:theory", "b:practice")  # ...yet linked
    code, out, _ = edufed(settings, "status")
    assert code == 0 and "(current)" in out.splitlines()[-1]


def test_serve_says_at_start_that_the_index_was_linked_by_older_rules(tmp_path: Path) -> None:
    data = written(tmp_path / "data" / "index.sqlite3").parent
    to_older_linkage(data / "index.sqlite3", apart=["a:sax", "b:sax"])
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources: []\n", encoding="utf-8")
    env = {"EDUFED_DATA_DIR": str(data), "EDUFED_SOURCES_FILE": str(sources), "EDUFED_SCHEDULER__ENABLED": "false"}
    with serve_process(env) as running:
        logged = re.compile(r"WARNING .*linked by record linkage version 1, .*`edufed reindex --links-only`.*of CPU")
        assert any(logged.search(line) for line in running.seen)  # at start, before it serves
        with httpx.Client(base_url=running.url, timeout=30) as http:
            assert http.get("/api/v1/health").json()["linkage"]["status"] == "older"


def test_status_of_a_file_a_newer_edufed_linked_says_so(tmp_path: Path) -> None:
    """`edufed status` reads the file without opening it as a backend: the newer version stands, with its notice."""
    settings = settings_file(tmp_path)
    index = written(tmp_path / "data" / "index.sqlite3")
    conn = sqlite3.connect(index)
    with conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'linkage'", (LINKAGE_VERSION + 1,))
    conn.close()
    code, out, _ = edufed(settings, "status")
    assert code == 1
    assert f"linked by version {LINKAGE_VERSION + 1}, this edufed's is {LINKAGE_VERSION} (newer)" in out
    assert "run one edufed version on one index" in out
