"""Record JSON in the `payloads` table, zstd-compressed with a dictionary trained on the file's own records.

A stored value is either TEXT, the record JSON as files written before compression hold it (read as is; no
migration: `edufed reindex` writes it anew compressed), or a BLOB, one zstd frame with its content size and
checksum (sqlite_zstd: dictionaries in `meta` as `payload_dict:<id>`, `payload_dict` naming the one new writes
use).

Many small JSON documents share most of their bytes (keys, platform names, URLs), which a plain per-record
frame cannot see: on the bench corpus a record's 1.56 KB become 0.93 KB without a dictionary and 0.16 KB with
one.

`payload_text` is the one decode every read site uses; `PayloadWriter` encodes inside a write transaction.
Nothing reads the JSON inside SQLite (json_each, json_set): those callers decode in Python.
"""

from __future__ import annotations

import sqlite3

from indexer.backends.sqlite_zstd import TRAIN_AFTER, DictionaryColumn
from indexer.errors import IndexBackendError

__all__ = ["CURRENT_KEY", "DICT_KEY", "TRAIN_AFTER", "PayloadWriter", "payload_json", "payload_text"]

PAYLOADS = DictionaryColumn(what="record", table="payloads", column="json", meta_prefix="payload_dict")
CURRENT_KEY = PAYLOADS.current_key
DICT_KEY = PAYLOADS.meta_prefix + ":{}"


def payload_text(value: object, conn: sqlite3.Connection) -> str:
    """The record JSON of a stored `payloads.json` value (TEXT as is, BLOB decompressed)."""
    found = payload_json(value, conn)
    return found if isinstance(found, str) else found.decode("utf-8")


def payload_json(value: object, conn: sqlite3.Connection) -> str | bytes:
    """The record JSON of a stored value as it comes: TEXT as is, a BLOB's decompressed UTF-8 bytes (for a JSON
    parser that reads bytes, e.g. pydantic's validate_json: no decoding into a str it would encode again)."""
    if isinstance(value, str):
        return value
    if not isinstance(value, bytes):
        raise IndexBackendError(f"a stored record is neither JSON text nor a compressed frame ({type(value).__name__})")
    return PAYLOADS.decode(value, conn)


class PayloadWriter:
    """Compresses the records of one write transaction with the file's dictionary (training it when due)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._writer = PAYLOADS.writer(conn)

    def encode(self, texts: list[str]) -> list[bytes]:
        """Each JSON text as a zstd frame (training the file's dictionary first when it is due)."""
        return self._writer.encode([t.encode("utf-8") for t in texts])

    def pack(self, text: str) -> bytes:
        """One JSON text as a zstd frame with the dictionary new writes use now (never trains one)."""
        return self._writer.pack(text.encode("utf-8"))
