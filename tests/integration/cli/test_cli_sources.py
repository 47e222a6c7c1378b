"""`edufed sources add|remove|list|show`: admins register and delete sources from the command line.

A source added from a file lands in the state database exactly as one registered through the API (validated in
full, addresses checked, audited), `edufed harvest` and `sources list|show` see it beside sources.yaml's, and
removing it follows the deletion rules of the API: records are held for an admin's approval.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import yaml

from config.loader import load_settings
from crawlers.state import StateStore
from indexer.backends.sqlite import SqliteBackend
from search_api.http.auth import ADMIN, Principal
from search_api.services.source_actions import delete_source
from tests.support.cli import edufed, write_config
from tests.support.harvest_state import course_list, courses, serve_courses
from tests.support.http_server import FixtureServer, http_server_fixture  # noqa: F401


def added_block(server: FixtureServer, **changes: object) -> dict[str, object]:
    """A second course list on the fixture server, as an admin would write it into a file."""
    block = course_list(server).model_dump(mode="json")
    block.update({"id": "extra_list", "name": "另一份课程目录", **changes})
    return block


def write_block(tmp_path: Path, block: object, name: str = "extra.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(block, allow_unicode=True), encoding="utf-8")
    return path


def store_of(settings: Path) -> StateStore:
    return StateStore.for_settings(load_settings(settings, environ={}))


def test_a_source_added_from_a_file_is_listed_harvested_and_removed_under_the_deletion_rules(
    tmp_path: Path, http_server: FixtureServer
) -> None:
    serve_courses(http_server, courses(4))
    settings = write_config(tmp_path, http_server)

    code, out, err = edufed(settings, "sources", "add", str(write_block(tmp_path, added_block(http_server))))
    assert code == 0, err
    assert "added extra_list (json_api" in out and "edufed harvest extra_list --dry-run" in out
    with store_of(settings) as store:
        stored = store.sources.get("extra_list")
        assert stored.created_by.startswith("cli:") and stored.enabled
        assert [e.action for e in store.audit.find(target="extra_list")] == ["source.create"]

    code, out, _ = edufed(settings, "sources", "list")
    assert code == 0 and "course_list" in out and "extra_list" in out
    code, out, _ = edufed(settings, "sources", "show", "extra_list")
    assert code == 0 and yaml.safe_load(out)["name"] == "另一份课程目录"

    code, out, _ = edufed(settings, "harvest", "extra_list", "--json")
    report = json.loads(out)
    assert (code, report["status"], report["new"]) == (0, "succeeded", 4)

    code, out, _ = edufed(settings, "sources", "remove", "extra_list")
    assert code == 0 and "its 4 records leave the catalogue when held deletion" in out
    with store_of(settings) as store:
        hold = store.holds.find(source_id="extra_list")[0]
        assert hold.status == "pending" and len(hold.uids) == 4
        assert not store.sources.get("extra_list").enabled
    assert f"edufed holds approve {hold.id}" in out

    code, _, _ = edufed(settings, "holds", "approve", str(hold.id))
    assert code == 0
    code, out, _ = edufed(settings, "sources", "list")
    assert "course_list" in out and "extra_list" not in out  # deleted: hidden, as in the API's lists
    code, _, err = edufed(settings, "harvest", "extra_list")
    assert code == 2 and "unknown source 'extra_list'" in err


def test_a_source_without_records_is_removed_at_once(tmp_path: Path, http_server: FixtureServer) -> None:
    settings = write_config(tmp_path, http_server)
    edufed(settings, "sources", "add", str(write_block(tmp_path, added_block(http_server))))
    code, out, _ = edufed(settings, "sources", "remove", "extra_list")
    assert code == 0 and "removed extra_list: it had no records in the catalogue" in out
    with store_of(settings) as store:
        assert "extra_list" not in store.sources.ids()


def test_an_invalid_file_names_every_problem_and_registers_nothing(tmp_path: Path, http_server: FixtureServer) -> None:
    settings = write_config(tmp_path, http_server)
    block = added_block(http_server, items_path=None, page_start="many")
    block.pop("url")
    code, out, err = edufed(settings, "sources", "add", str(write_block(tmp_path, block)))
    assert code == 2 and out == ""
    assert "the source configuration is invalid" in err
    assert "url:" in err and "items_path:" in err and "page_start:" in err and "必须填写" in err  # also in Chinese

    broken = tmp_path / "bad.yaml"
    broken.write_text("id: x\nkind: [json_api\n", encoding="utf-8")
    code, _, err = edufed(settings, "sources", "add", str(broken))
    assert code == 2 and "not a YAML or JSON source block" in err
    code, _, err = edufed(settings, "sources", "add", str(tmp_path / "missing.yaml"))
    assert code == 2 and "cannot read" in err
    code, _, err = edufed(settings, "sources", "add", str(write_block(tmp_path, [1, 2], "list.yaml")))
    assert code == 2 and "one source block" in err
    deep = tmp_path / "deep.yaml"
    deep.write_text("id: x\nmapping: " + "[" * 50_000 + "\n", encoding="utf-8")
    code, _, err = edufed(settings, "sources", "add", str(deep))
    assert code == 2 and "more than 32 levels deep" in err
    indented = tmp_path / "indented.yaml"
    indented.write_text("".join(f"{' ' * level}k{level}:\n" for level in range(2_000)) + " " * 2_000 + "v: 1\n")
    code, _, err = edufed(settings, "sources", "add", str(indented))
    assert code == 2 and "too deeply" in err
    with store_of(settings) as store:
        assert "extra_list" not in store.sources.ids()


def test_taken_ids_private_addresses_and_file_sources_are_refused(tmp_path: Path, http_server: FixtureServer) -> None:
    settings = write_config(tmp_path, http_server)
    path = write_block(tmp_path, added_block(http_server))
    assert edufed(settings, "sources", "add", path.as_posix())[0] == 0
    code, _, err = edufed(settings, "sources", "add", path.as_posix())
    assert code == 2 and "a source with id 'extra_list' is already registered" in err

    inside = added_block(http_server, id="metadata_list", url="http://169.254.169.254/api/Course/Paging")
    code, _, err = edufed(settings, "sources", "add", str(write_block(tmp_path, inside, "inside.yaml")))
    assert code == 2 and "an address edufed does not fetch from" in err

    in_file = added_block(http_server, id="course_list")
    code, _, err = edufed(settings, "sources", "add", str(write_block(tmp_path, in_file, "dup.yaml")))
    assert code == 2 and "course_list is defined in" in err and "sources.yaml" in err
    code, _, err = edufed(settings, "sources", "remove", "course_list")
    assert code == 2 and "course_list is defined in" in err
    code, _, err = edufed(settings, "sources", "remove", "no_such_source")
    assert code == 2 and "no source 'no_such_source'" in err


def test_a_file_source_deleted_through_the_api_stays_deleted_at_the_next_start(
    tmp_path: Path, http_server: FixtureServer, caplog: pytest.LogCaptureFixture
) -> None:
    serve_courses(http_server, courses(3))
    settings = write_config(tmp_path, http_server)
    assert edufed(settings, "harvest", "course_list")[0] == 0
    admin = Principal(key_id="k-admin", role=ADMIN, platform=None)
    backend = SqliteBackend(load_settings(settings, environ={}).index_path)
    try:
        with store_of(settings) as store:
            hold = delete_source(store, backend, admin, "course_list").hold
    finally:
        backend.close()
    assert hold is not None

    code, out, _ = edufed(settings, "harvest", "--all")  # seeds the file again, as `edufed serve` does at start
    assert code == 0 and out.strip() == "no enabled sources to harvest"
    assert "source course_list from the configuration is ignored: it was deleted through the API" in caplog.text
    with store_of(settings) as store:
        assert not store.sources.get("course_list").enabled  # the file's `enabled: true` did not switch it back

    assert edufed(settings, "holds", "approve", str(hold.id))[0] == 0
    code, out, _ = edufed(settings, "sources", "list")
    assert "course_list" not in out
    code, _, err = edufed(settings, "harvest", "course_list")
    assert code == 2 and "unknown source 'course_list'" in err


def test_commands_that_open_the_state_database_print_no_migration_chatter(
    tmp_path: Path, http_server: FixtureServer, caplog: pytest.LogCaptureFixture
) -> None:
    settings = write_config(tmp_path, http_server)
    caplog.set_level(logging.INFO)
    code, out, _ = edufed(settings, "runs")
    assert (code, out) == (0, "no runs\n")
    assert [r.getMessage() for r in caplog.records if r.name.startswith("alembic")] == []
    assert any(r.name == "crawlers.state.migrate" for r in caplog.records)  # our own line about it stays
