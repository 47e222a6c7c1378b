"""`edufed harvest` with the state database: runs recorded under the source's lease, resumed, never doubled."""

from __future__ import annotations

import io
import json
from pathlib import Path

import yaml

from config.loader import load_settings
from crawlers.state import StateStore
from search_api.cli import Console, main
from tests.support.harvest_state import course_list, courses, serve_courses
from tests.support.http_server import FixtureServer, http_server_fixture  # noqa: F401

ITEMS = courses(6)


def write_config(tmp_path: Path, server: FixtureServer) -> Path:
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump({"sources": [course_list(server).model_dump(mode="json")]}), encoding="utf-8")
    settings = tmp_path / "settings.yaml"
    settings.write_text(
        f"data_dir: {tmp_path / 'data'}\nsources_file: {sources}\n"
        "http: {retries: 0, delay_seconds: 0, backoff_seconds: 0, allow_private_hosts: ['127.0.0.1']}\n",
        encoding="utf-8",
    )
    return settings


def edufed(settings: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([*args, "--config", str(settings)], console=Console(out=out, err=err))
    return code, out.getvalue(), err.getvalue()


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
