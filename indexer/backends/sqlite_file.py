"""A SQLite index file read as a source of records, never written: the way from SQLite to another backend.

`edufed reindex --from-sqlite PATH` hands any file name to this module, so it opens the file read-only and
checks that it is an edufed index before reading, rather than opening it as a backend (which would add the
index tables to whatever SQLite file it was given). Only the stored records with their raw payloads, and the
deleted entries of the OAI-PMH change log, are read, so a file of an older index layout can still be moved.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from pydantic import ValidationError

from indexer.backends.changes import Change
from indexer.backends.sqlite_oai import deleted_entries
from indexer.backends.sqlite_payload import payload_text
from indexer.errors import IndexBackendError
from indexer.rebuild_pool import StoredRecord
from indexer.record import Record

_PAGE = 1000
_NEEDED_TABLES = ("meta", "docs", "payloads")


class SqliteIndexFile:
    """The records of an edufed SQLite index file, opened read-only; IndexBackendError says what is wrong."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise IndexBackendError(f"{self.path} does not exist")
        if not self.path.is_file():
            raise IndexBackendError(f"{self.path} is not a file")
        try:
            self._conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise IndexBackendError(f"cannot open {self.path}: {exc}") from exc
        try:
            self._check_layout()
        except BaseException:
            self._conn.close()
            raise

    def _check_layout(self) -> None:
        try:
            tables = {name for (name,) in self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise IndexBackendError(f"{self.path} is not a SQLite database: {exc}") from exc
        missing = [t for t in _NEEDED_TABLES if t not in tables]
        if missing:
            raise IndexBackendError(
                f"{self.path} is not an edufed search index (no {', '.join(missing)} table); "
                "pass the index file, by default data/index.sqlite3"
            )

    def deleted_changes(self) -> Iterator[Change]:
        """The deleted entries of the file's OAI-PMH change log, for the rebuilt index to keep (none in a file
        older than the log)."""
        try:
            yield from deleted_entries(self._conn)
        except sqlite3.Error as exc:
            raise IndexBackendError(f"cannot read the change log of {self.path}: {exc}") from exc

    def count(self) -> int:
        """How many records the file holds."""
        return int(self._query("SELECT COUNT(*) FROM docs", ())[0][0])

    def records(self) -> Iterator[Record]:
        """Every record with its raw payload, page by page in storage order."""
        last = 0
        sql = "SELECT d.id, d.uid, p.json FROM docs d JOIN payloads p ON p.id = d.id "
        sql += "WHERE d.id > ? ORDER BY d.id LIMIT ?"
        while rows := self._query(sql, (last, _PAGE)):
            for row_id, uid, payload in rows:
                try:
                    yield Record.model_validate_json(payload_text(payload, self._conn))
                except ValidationError as exc:
                    raise IndexBackendError(
                        f"record {uid} in {self.path} cannot be read ({exc.error_count()} problem(s), first: "
                        f"{exc.errors()[0]['msg']})"
                    ) from exc
                last = int(row_id)

    def stored(self) -> Iterator[StoredRecord]:
        """Every record's uid and stored JSON, unparsed (a rebuild parses them in its worker processes)."""
        last = 0
        sql = "SELECT d.id, d.uid, p.json FROM docs d JOIN payloads p ON p.id = d.id "
        sql += "WHERE d.id > ? ORDER BY d.id LIMIT ?"
        while rows := self._query(sql, (last, _PAGE)):
            for row_id, uid, payload in rows:
                yield StoredRecord(str(uid), payload_text(payload, self._conn))
                last = int(row_id)

    def _query(self, sql: str, params: tuple[object, ...]) -> list[Any]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise IndexBackendError(f"cannot read {self.path}: {exc}") from exc

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SqliteIndexFile:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
