"""`edufed harvest` with the state database: runs recorded under the source's lease, resumed, never doubled."""

from __future__ import annotations

import json
from pathlib import Path

from config.loader import load_settings
from crawlers.state import StateStore
from tests.support.cli import edufed, write_config
from tests.support.harvest_state import courses, serve_courses
from tests.support.http_server import FixtureServer, http_server_fixture  # noqa: F401

ITEMS = courses(6)


def test_the_command_line_records_its_runs_under_the_lease(tmp_path: Path, http_server: FixtureServer) -> None:
    serve_courses(http_server, ITEMS)
    settings = write_config(tmp_path, http_server)
    code, out, _ = edufed(settings, "harvest", "course_list", "--json")
    first = json.loads(out)
    assert (code, first["status"], first["new"], first["scope"], first["complete"]) == (0, "succeeded", 6, "full", True)
    with StateStore.for_settings(load_settings(settings, environ={})) as store:
        run = store.runs.get(first["run_id"])
        assert (run.trigger, run.status, run.counts.new) == ("manual", "succeeded", 6)
        assert store.leases.get("course_list") is None  # given back at the end
        stale = store.runs.start("course_list", trigger="manual", holder="a-killed-process")

    serve_courses(http_server, ITEMS[:-1])
    code, out, _ = edufed(settings, "harvest", "course_list")
    assert code == 0 and "unchanged 5, withdrawn 0" in out
    with StateStore.for_settings(load_settings(settings, environ={})) as store:
        assert store.runs.get(stale.id).error_type == "RunAbandoned"  # the lease was free: its holder is gone
        assert store.records.load("course_list")["course_list:c6"].missed_complete_runs == 1
        assert store.leases.try_acquire("course_list", "another-process", ttl=60)

    code, out, err = edufed(settings, "harvest", "course_list")
    assert code == 1 and "course_list: a run of it is going (another-process)" in err
    assert out.strip() == "no run: course_list already running"
