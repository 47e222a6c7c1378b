"""What the search engine tests share: child processes on one index file, and the check that the derived
tantivy index agrees with the SQLite file it is derived from (a module of its own name: tests/contract has a
conftest too)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import tantivy

from indexer.backends.base import SearchQuery
from indexer.backends.sqlite import SqliteBackend

CHILD = Path(__file__).with_name("engine_child.py")
ROOT = Path(__file__).parents[3]
QUERIES = (
    SearchQuery(q="围棋", size=200),
    SearchQuery(q="书法 入门", size=200),
    SearchQuery(q="智能手机", size=200, themes=("闲暇生活",)),
    SearchQuery(q="养生", size=200, is_free=True),
    SearchQuery(q="太极拳 合唱", size=200, platforms=("smartedu",)),
)


class Child:
    """A child process running engine_child.py, read line by line."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(CHILD), *args], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        )  # fmt: skip

    def line(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def wait_for(self, text: str) -> None:
        while (line := self.line()) != text:
            assert line, f"child ended before printing {text!r} (exit {self.process.wait()})"

    def tell(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def finish(self) -> int:
        assert self.process.stdout is not None
        self.process.stdout.read()
        code = self.process.wait(timeout=120)
        self._close()
        return code

    def kill(self) -> None:
        self.process.kill()  # SIGKILL: no cleanup of any kind
        self.process.wait(timeout=30)
        self._close()

    def _close(self) -> None:
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


def uids_of(backend: SqliteBackend, query: SearchQuery) -> tuple[int, set[str], dict[str, dict[str, int]]]:
    """The total, every uid (page after page, by cursor) and the facets of a query."""
    first = result = backend.search(query)
    uids = [hit.record.uid for hit in result.hits]
    while result.next_cursor is not None:
        result = backend.search(replace(query, cursor=result.next_cursor))
        uids += [hit.record.uid for hit in result.hits]
    assert len(uids) == len(set(uids)) == first.total
    return first.total, set(uids), first.facets


def assert_agrees_with_sqlite(path: Path) -> None:
    """The tantivy engine answers every QUERY with the records, total and facets the FTS5 engine finds in a copy
    of the same file (the tantivy engine keeps no FTS5 index: the copy's is rebuilt from its stored texts), and
    holds exactly one document per stored record."""
    copy = path.with_name(f"{path.stem}-fts5{path.suffix}")
    with sqlite3.connect(path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    truth = SqliteBackend(copy, search_engine="fts5")
    engine = SqliteBackend(path, search_engine="tantivy")
    try:
        for query in QUERIES:
            assert uids_of(engine, query) == uids_of(truth, query), query
        stored = tantivy.Index.open(f"{path}.tantivy")
        stored.reload()
        assert stored.searcher().num_docs == truth.count()
    finally:
        engine.close()
        truth.close()
    for leftover in (copy, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
        leftover.unlink(missing_ok=True)
