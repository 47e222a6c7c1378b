"""`edufed status`: which index this edufed uses, how many records it holds, which text analysis they hold, which
record linkage rules linked them and which theme rules classified them.

A SQLite file is read, not opened as a backend (opening one converts an older layout and brings its derived
search index up to date, which a look must not wait for); an Elasticsearch index is asked through the backend.
"""

from __future__ import annotations

import argparse
import json
import sqlite3

from config.loader import load_themes
from config.settings import Settings
from indexer.analysis_version import AnalysisState, index_analysis
from indexer.backends import open_backend
from indexer.backends.sqlite_analysis import analysis_state
from indexer.backends.sqlite_linkage import file_linkage_state
from indexer.backends.sqlite_themes import file_themes
from indexer.errors import IndexBackendError
from indexer.linkage.version import LinkageState, index_linkage
from indexer.themes_version import ThemesState, index_themes, status_of, themes_state, themes_version
from search_api.cli.console import EXIT_FAILED, EXIT_OK, Console


def run(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Print the index's state; 1 when its analysis, its linkage or its themes ask for something (older, or newer
    than this edufed's)."""
    ours = themes_version(load_themes(settings.themes_file))
    if settings.index.backend == "elasticsearch":
        where = f"Elasticsearch alias {settings.index.es_alias} at {settings.index.url}"
        backend = open_backend(settings, themes_version=ours)
        try:
            found, linked, classified = (
                index_analysis(backend),
                index_linkage(backend),
                index_themes(backend, ours=ours),
            )
        finally:
            backend.close()
        if found is None or linked is None or classified is None:
            raise IndexBackendError(f"the index at {where} does not say which text analysis, linkage and themes it "
                                    "holds")  # fmt: skip
        state, linkage, themes = found, linked, classified
    else:
        path = settings.index_path
        where = f"SQLite file {path}"
        if not path.exists():
            console.result(f"index: {where} does not exist yet (a harvest or `edufed serve` makes it)")
            return EXIT_OK
        state, linkage, themes = _sqlite_state(str(path), ours=ours)
    if args.json:
        console.result(json.dumps({"index": where, "analysis": state.as_dict(), "linkage": linkage.as_dict(),
                                   "themes": themes.as_dict()}, ensure_ascii=False))  # fmt: skip
    else:
        console.result("\n".join(_lines(where, state, linkage, themes)))
    return EXIT_OK if state.current and linkage.current and themes.current else EXIT_FAILED


def _sqlite_state(path: str, *, ours: str) -> tuple[AnalysisState, LinkageState, ThemesState]:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise IndexBackendError(f"cannot read index {path}: {exc}") from exc
    try:
        analysis, linkage, recorded = analysis_state(conn), file_linkage_state(conn), file_themes(conn)
        records = analysis.total if status_of(recorded, ours) == "older" else 0
        return analysis, linkage, themes_state(recorded, ours=ours, records=records)
    except sqlite3.Error as exc:
        raise IndexBackendError(f"cannot read index {path}: {exc}") from exc
    finally:
        conn.close()


def _lines(where: str, state: AnalysisState, linkage: LinkageState, themes: ThemesState) -> list[str]:
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
    lines.append(f"themes: the index's records were classified by version {themes.index_version or 'none'}, this "
                 f"edufed's is {themes.version} ({themes.status})")  # fmt: skip
    if themes.notice:
        lines.append(f"to do: {themes.notice}")
    return lines
