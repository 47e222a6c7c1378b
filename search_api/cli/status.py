"""`edufed status`: which index this edufed uses, how many records it holds, which text analysis they hold and
which record linkage rules linked them.

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
from indexer.backends.sqlite_linkage import file_linkage_state
from indexer.errors import IndexBackendError
from indexer.linkage.version import LinkageState, index_linkage
from search_api.cli.console import EXIT_FAILED, EXIT_OK, Console


def run(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Print the index's state; 1 when its analysis or its linkage asks for something (older, or newer than this
    edufed's)."""
    if settings.index.backend == "elasticsearch":
        where = f"Elasticsearch alias {settings.index.es_alias} at {settings.index.url}"
        backend = open_backend(settings)
        try:
            found, linked = index_analysis(backend), index_linkage(backend)
        finally:
            backend.close()
        if found is None or linked is None:
            raise IndexBackendError(f"the index at {where} does not say which text analysis and linkage it holds")
        state, linkage = found, linked
    else:
        path = settings.index_path
        where = f"SQLite file {path}"
        if not path.exists():
            console.result(f"index: {where} does not exist yet (a harvest or `edufed serve` makes it)")
            return EXIT_OK
        state, linkage = _sqlite_state(str(path))
    if args.json:
        console.result(json.dumps({"index": where, "analysis": state.as_dict(), "linkage": linkage.as_dict()},
                                  ensure_ascii=False))  # fmt: skip
    else:
        console.result("\n".join(_lines(where, state, linkage)))
    return EXIT_OK if state.current and linkage.current else EXIT_FAILED


def _sqlite_state(path: str) -> tuple[AnalysisState, LinkageState]:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise IndexBackendError(f"cannot read index {path}: {exc}") from exc
    try:
        return analysis_state(conn), file_linkage_state(conn)
    except sqlite3.Error as exc:
        raise IndexBackendError(f"cannot read index {path}: {exc}") from exc
    finally:
        conn.close()


def _lines(where: str, state: AnalysisState, linkage: LinkageState) -> list[str]:
    lines = [f"index: {where}, {state.total} records",
             f"text analysis: the index holds version {state.index_version}, this edufed's is {state.version} "
             f"({state.status.replace('_', ' ')})"]  # fmt: skip
    if state.status == "catching_up":
        lines.append(f"catch-up: {state.done} of {state.total} records analysed again ({state.done / state.total:.0%})")
    if state.notice:
        lines.append(f"to do: {state.notice}")
    lines.append(f"record linkage: the index was linked by version {linkage.index_version}, this edufed's is "
                 f"{linkage.version} ({linkage.status})")  # fmt: skip
    if linkage.notice:
        lines.append(f"to do: {linkage.notice}")
    return lines
