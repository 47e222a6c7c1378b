"""`edufed --help` answers at once: importing the command line loads its parser, not the harvest engine or the web
app; each command's modules load when it runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ["crawlers.run", "crawlers.state", "indexer.linkage", "indexer.backends", "scrapy", "fastapi", "datasketch",
         "sqlalchemy", "uvicorn"]  # fmt: skip


def _loaded_after(code: str) -> list[str]:
    """The HEAVY modules a fresh interpreter holds after running `code`."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_importing_the_command_line_loads_no_heavy_module():
    assert _loaded_after("import search_api.cli") == []


@pytest.mark.parametrize("argv", [["--help"], ["harvest", "--help"], ["keys", "create", "--help"]])
def test_help_is_printed_without_loading_a_heavy_module(argv):
    code = (
        "import contextlib, io, search_api.cli\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        f"    search_api.cli.main({argv!r})"
    )
    assert _loaded_after(code) == []


def test_the_probe_sees_a_heavy_module_a_command_loads():
    assert "crawlers.run" in _loaded_after("import search_api.cli.dispatch as d\nd.command('harvest')")


def test_a_process_that_only_searches_never_loads_datasketch(tmp_path):
    """Record linkage's MinHash (datasketch, which loads scipy: ~0.8 s and ~55 MB) is for writers; the API process
    opening an index and searching it does without."""
    index = tmp_path / "index.sqlite3"
    write = (
        "from pathlib import Path\n"
        "from indexer.backends.sqlite import SqliteBackend\n"
        "from tests.contract.contract_corpus import build_corpus\n"
        f"backend = SqliteBackend(Path({str(index)!r}))\n"
        "backend.upsert(build_corpus())\n"
        "backend.close()"
    )
    assert "datasketch" in _loaded_after(write)  # the probe sees it where linkage bands titles
    search = (
        "from pathlib import Path\n"
        "from indexer.backends.base import SearchQuery\n"
        "from indexer.backends.sqlite import SqliteBackend\n"
        f"backend = SqliteBackend(Path({str(index)!r}))\n"
        "assert backend.search(SearchQuery(q='书法')).total > 0\n"
        "assert backend.search(SearchQuery(q='shufa')).total > 0\n"
        "backend.close()"
    )
    assert "datasketch" not in _loaded_after(search)
