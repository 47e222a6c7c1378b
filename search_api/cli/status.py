"""`edufed status`: which index this edufed uses, how many records it holds, and which text analysis they hold.

A SQLite file is read, not opened as a backend (opening one converts an older layout and brings its derived
search index up to date, which a look must not wait for); an Elasticsearch index is asked through the backend.
"""

from __future__ import annotations

import argparse
import json
import sqlite3

from config.settings import Settings
from indexer.analysis_version import AnalysisState, index_analysis
from indexer.backends import open_backend
from indexer.backends.sqlite_analysis import analysis_state
from indexer.errors import IndexBackendError
from search_api.cli.console import EXIT_FAILED, EXIT_OK, Console


def run(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Print the index's state; 1 when its analysis asks for something (older, or newer than this edufed's)."""
    if settings.index.backend == "elasticsearch":
        where = f"Elasticsearch alias {settings.index.es_alias} at {settings.index.url}"
        backend = open_backend(settings)
        try:
            found = index_analysis(backend)
        finally:
            backend.close()
        if found is None:
            raise IndexBackendError(f"the index at {where} does not say which text analysis it holds")
        state = found
    else:
        path = settings.index_path
        where = f"SQLite file {path}"
        if not path.exists():
            console.result(f"index: {where} does not exist yet (a harvest or `edufed serve` makes it)")
            return EXIT_OK
        state = _sqlite_state(str(path))
    if args.json:
        console.result(json.dumps({"index": where, "analysis": state.as_dict()}, ensure_ascii=False))
    else:
        console.result("\n".join(_lines(where, state)))
    return EXIT_OK if state.current else EXIT_FAILED


def _sqlite_state(path: str) -> AnalysisState:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise IndexBackendError(f"cannot read index {path}: {exc}") from exc
    try:
        return analysis_state(conn)
    except sqlite3.Error as exc:
        raise IndexBackendError(f"cannot read index {path}: {exc}") from exc
    finally:
        conn.close()


def _lines(where: str, state: AnalysisState) -> list[str]:
    lines = [f"index: {where}, {state.total} records",
             f"text analysis: the index holds version {state.index_version}, this edufed's is {state.version} "
             f"({state.status.replace('_', ' ')})"]  # fmt: skip
    if state.status == "catching_up":
        lines.append(f"catch-up: {state.done} of {state.total} records analysed again ({state.done / state.total:.0%})")
    if state.notice:
        lines.append(f"to do: {state.notice}")
    return lines
