"""Record JSON in the `payloads` table, zstd-compressed with a dictionary trained on the file's own records.

A stored value is either TEXT, the record JSON as files written before compression hold it (read as is; no
migration: `edufed reindex` writes it anew compressed), or a BLOB, one zstd frame with its content size and
checksum. The frame header names the dictionary it was compressed with (0: none). Dictionaries live in `meta`
as `payload_dict:<id>` (the dictionary's bytes) and are never changed or removed once written, so every process
decodes every frame the same way; `payload_dict` names the one new writes use (0: none, compress without).

Many small JSON documents share most of their bytes (keys, platform names, URLs), which a plain per-record
frame cannot see: on the bench corpus a record's 1.56 KB become 0.93 KB without a dictionary and 0.16 KB with
one. The first write that finds at least TRAIN_AFTER records (stored and arriving) and no dictionary trains one
on a sample of them, inside its transaction; the records written before stay readable, compressed without.

`payload_text` is the one decode every read site uses; `PayloadWriter` encodes inside a write transaction.
Nothing reads the JSON inside SQLite (json_each, json_set): those callers decode in Python.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

import zstandard

from indexer.errors import IndexBackendError

logger = logging.getLogger(__name__)

CURRENT_KEY = "payload_dict"
DICT_KEY = "payload_dict:{}"
TRAIN_AFTER = 1000
"""Records a file holds (with the arriving ones) before a write trains its dictionary."""
SAMPLE_SIZE = 4000
DICT_SIZE = 112_640
"""zstd's default dictionary size; 32 KB and 64 KB compress the bench corpus within 2% of it."""
LEVEL = 3
"""Level 9 saves another 10% of the payload bytes but compresses 7x slower (65 us a record against 9)."""

_lock = threading.Lock()
_dicts: dict[int, zstandard.ZstdCompressionDict] = {}
"""Dictionaries met in this process, by id. Ids are random 32-bit numbers, so two files could hold different
dictionaries under one id: a frame that fails its checksum with the cached one is retried with its own file's."""
_local = threading.local()


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
    try:
        dict_id = zstandard.get_frame_parameters(value).dict_id
    except zstandard.ZstdError as exc:
        raise IndexBackendError(f"a stored record is not a readable zstd frame: {exc}") from exc
    try:
        found: bytes = _decompressor(dict_id, conn).decompress(value)
        return found
    except zstandard.ZstdError:
        if not dict_id:
            raise IndexBackendError("a stored record's compressed frame is damaged") from None
    # the cached dictionary of that id came from another file: take this file's
    try:
        found = _decompressor(dict_id, conn, reload=True).decompress(value)
        return found
    except zstandard.ZstdError as exc:
        raise IndexBackendError(f"a stored record's compressed frame is damaged: {exc}") from exc


def _decompressor(dict_id: int, conn: sqlite3.Connection, *, reload: bool = False) -> zstandard.ZstdDecompressor:
    """This thread's decompressor for the dictionary (decompressors are not shared between threads)."""
    if dict_id:
        with _lock:
            known = None if reload else _dicts.get(dict_id)
        if known is None:
            known = _load_dict(conn, dict_id)
            with _lock:
                _dicts[dict_id] = known
    else:
        known = None
    cache: dict[int, tuple[zstandard.ZstdCompressionDict | None, zstandard.ZstdDecompressor]]
    cache = getattr(_local, "decompressors", None) or {}
    _local.decompressors = cache
    held = cache.get(dict_id)
    if held is None or held[0] is not known:
        held = (known, zstandard.ZstdDecompressor(dict_data=known) if known else zstandard.ZstdDecompressor())
        cache[dict_id] = held
    return held[1]


def _load_dict(conn: sqlite3.Connection, dict_id: int) -> zstandard.ZstdCompressionDict:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (DICT_KEY.format(dict_id),)).fetchone()
    if row is None:
        raise IndexBackendError(f"a stored record was compressed with dictionary {dict_id}, which the file lacks")
    return zstandard.ZstdCompressionDict(bytes(row[0]))


class PayloadWriter:
    """Compresses the records of one write transaction with the file's dictionary (training it when due)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (CURRENT_KEY,)).fetchone()
        self.dict_id: int | None = None if row is None else int(row[0])
        self._compressor = self._make_compressor()

    def encode(self, texts: list[str]) -> list[bytes]:
        """Each JSON text as a zstd frame (training the file's dictionary first when it is due)."""
        if self.dict_id is None and texts:
            stored = int(self.conn.execute("SELECT COUNT(*) FROM payloads").fetchone()[0])
            if stored + len(texts) >= TRAIN_AFTER:
                self._train(texts)
        compress = self._compressor.compress
        return [compress(t.encode("utf-8")) for t in texts]

    def pack(self, text: str) -> bytes:
        """One JSON text as a zstd frame with the dictionary new writes use now (never trains one)."""
        return bytes(self._compressor.compress(text.encode("utf-8")))

    def _make_compressor(self) -> zstandard.ZstdCompressor:
        """This thread's compressor for the file's dictionary, reused while the dictionary's bytes are the same
        (a write transaction makes one; building it digests the dictionary)."""
        if not self.dict_id:
            return zstandard.ZstdCompressor(level=LEVEL, write_checksum=True)
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (DICT_KEY.format(self.dict_id),)).fetchone()
        if row is None:
            raise IndexBackendError(f"the file names payload dictionary {self.dict_id} but lacks it")
        data = bytes(row[0])
        cache: dict[int, tuple[bytes, zstandard.ZstdCompressor]] = getattr(_local, "compressors", None) or {}
        _local.compressors = cache
        held = cache.get(self.dict_id)
        if held is None or held[0] != data:
            found = zstandard.ZstdCompressionDict(data)
            with _lock:
                _dicts[self.dict_id] = found
            held = (data, zstandard.ZstdCompressor(level=LEVEL, dict_data=found, write_checksum=True))
            cache[self.dict_id] = held
        return held[1]

    def _train(self, texts: list[str]) -> None:
        step = max(1, len(texts) // SAMPLE_SIZE)  # evenly spread, not random: the same writes train the same dictionary
        sample: list[bytes | bytearray | memoryview] = [t.encode("utf-8") for t in texts[::step][:SAMPLE_SIZE]]
        if len(sample) < SAMPLE_SIZE:
            rows = self.conn.execute("SELECT json FROM payloads ORDER BY id DESC LIMIT ?", (SAMPLE_SIZE - len(sample),))
            sample += [payload_text(v, self.conn).encode("utf-8") for (v,) in rows]
        try:
            trained = zstandard.train_dictionary(DICT_SIZE, sample, level=LEVEL)
        except zstandard.ZstdError as exc:
            logger.warning("no payload dictionary could be trained (%s); records are compressed without one", exc)
            self.dict_id = 0
        else:
            self.dict_id = trained.dict_id()
            self.conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)", (DICT_KEY.format(self.dict_id), trained.as_bytes())
            )
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (CURRENT_KEY, self.dict_id))
        self._compressor = self._make_compressor()
