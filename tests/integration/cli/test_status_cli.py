"""`edufed status` says which text analysis the index holds and what to run when it is older; `edufed reindex
--analysis-only` then brings it to this edufed's, with progress."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from indexer.analysis_version import ANALYSIS_VERSION
from indexer.backends.base import SearchQuery
from indexer.backends.sqlite import SqliteBackend
from search_api.cli import Console, main
from tests.support.cli import edufed, no_sources_config
from tests.support.older_analysis import to_older_analysis

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "contract"))
from contract_corpus import build_corpus  # noqa: E402


def settings_file(tmp_path: Path) -> Path:
    return no_sources_config(tmp_path)


def written_index(tmp_path: Path) -> Path:
    """The configured SQLite index (under settings_file's data_dir), holding the contract corpus."""
    index = tmp_path / "data" / "index.sqlite3"
    index.parent.mkdir()
    backend = SqliteBackend(index)
    try:
        backend.upsert(build_corpus())
    finally:
        backend.close()
    return index


def test_status_reports_an_older_analysis_and_reindex_analysis_only_catches_it_up(tmp_path: Path) -> None:
    settings = settings_file(tmp_path)
    code, out, _ = edufed(settings, "status")
    assert code == 0 and "does not exist yet" in out
    index = written_index(tmp_path)
    code, out, _ = edufed(settings, "status")
    assert code == 0 and f"holds version {ANALYSIS_VERSION}, this edufed's is {ANALYSIS_VERSION} (current)" in out
    to_older_analysis(index)
    code, out, _ = edufed(settings, "status")
    assert code == 1
    assert f"holds version 0, this edufed's is {ANALYSIS_VERSION} (older)" in out
    assert "to do:" in out and "edufed reindex --analysis-only" in out
    code, out, _ = edufed(settings, "status", "--json")
    assert code == 1 and json.loads(out)["analysis"]["status"] == "older"
    code, out, err = edufed(settings, "reindex", "--analysis-only")
    assert code == 0, err
    assert f"{len(build_corpus())} records analysed again" in out and "reindex:" in err
    code, out, _ = edufed(settings, "status")
    assert code == 0 and "(current)" in out
    code, out, _ = edufed(settings, "reindex", "--analysis-only")
    assert code == 0 and "holds this edufed's text analysis" in out
    backend = SqliteBackend(index)
    try:
        assert backend.search(SearchQuery(q="tjq")).total == backend.search(SearchQuery(q="太极拳")).total > 0
    finally:
        backend.close()


HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()
"""


def test_reindex_analysis_only_waits_for_a_serving_processes_catch_up_and_then_does_what_is_left(
    tmp_path: Path,
) -> None:
    settings = settings_file(tmp_path)
    index = written_index(tmp_path)
    to_older_analysis(index)
    holder = subprocess.Popen(  # stands in for an edufed serve's background catch-up
        [sys.executable, "-c", HOLDER, f"{index}.analysis.lock"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        out, err = io.StringIO(), io.StringIO()
        answer: list[int] = []
        run = threading.Thread(
            target=lambda: answer.append(
                main(["reindex", "--analysis-only", "--config", str(settings)], console=Console(out=out, err=err))
            )
        )
        run.start()
        deadline = time.monotonic() + 60
        while "another process" not in err.getvalue() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "is analysing this index; waiting" in err.getvalue()
        assert run.is_alive() and "records analysed again" not in out.getvalue()  # nothing done beside it
    finally:
        holder.communicate("")  # the other process ends: its lock goes with it
    run.join(120)
    assert not run.is_alive() and answer == [0], err.getvalue()
    assert f"{len(build_corpus())} records analysed again" in out.getvalue()
    code, status, _ = edufed(settings, "status")
    assert code == 0 and "(current)" in status
