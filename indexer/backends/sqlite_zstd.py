"""One column of small values stored zstd-compressed with a dictionary trained on the file's own values.

The record payloads (sqlite_payload) and the search texts (sqlite_text) are each many small documents sharing
most of their bytes, which a plain per-value frame cannot see. Each is a `DictionaryColumn`: its values are zstd
frames with their content size and checksum, whose header names the dictionary they were compressed with (0:
none). Dictionaries live in `meta` as `<prefix>:<id>` (the dictionary's bytes), never changed or removed once
written, so every process decodes every frame the same way; `<prefix>` names the one new writes use (0: none,
compress without). The first write that finds at least TRAIN_AFTER values (stored and arriving) and no
dictionary trains one on an even spread of them, inside its transaction; values written before stay readable.

Dictionary ids are random 32-bit numbers, so two files could hold different dictionaries under one id: a frame
that fails its checksum with the one this process cached is retried with its own file's.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import zstandard

from indexer.errors import IndexBackendError

logger = logging.getLogger(__name__)

TRAIN_AFTER = 1000
"""Values a file holds (with the arriving ones) before a write trains its dictionary."""
SAMPLE_SIZE = 4000
DICT_SIZE = 112_640
"""zstd's default dictionary size; 32 KB and 64 KB compress the bench corpus's payloads within 2% of it."""
LEVEL = 3
"""Level 9 saves another 10% of the payload bytes but compresses 7x slower (65 us a record against 9)."""


@dataclass(eq=False)
class DictionaryColumn:
    """`table.column` of a file, compressed as the module says; `what` names a value in errors ("record")."""

    what: str
    table: str
    column: str
    meta_prefix: str
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _dicts: dict[int, bytes] = field(default_factory=dict, repr=False)
    """Dictionaries met in this process, by id."""
    _local: threading.local = field(default_factory=threading.local, repr=False)
    """This thread's decompressors and compressors (zstd's are not shared between threads)."""

    @property
    def current_key(self) -> str:
        return self.meta_prefix

    def dict_key(self, dict_id: int) -> str:
        return f"{self.meta_prefix}:{dict_id}"

    def decode(self, value: object, conn: sqlite3.Connection) -> bytes:
        """The plain bytes of one stored frame."""
        if not isinstance(value, bytes):
            raise IndexBackendError(f"a stored {self.what} is not a compressed frame ({type(value).__name__})")
        try:
            dict_id = zstandard.get_frame_parameters(value).dict_id
        except zstandard.ZstdError as exc:
            raise IndexBackendError(f"a stored {self.what} is not a readable zstd frame: {exc}") from exc
        try:
            found: bytes = self._decompressor(dict_id, conn, reload=False).decompress(value)
            return found
        except zstandard.ZstdError:
            if not dict_id:
                raise IndexBackendError(f"a stored {self.what}'s compressed frame is damaged") from None
        try:  # the cached dictionary of that id came from another file: take this file's
            found = self._decompressor(dict_id, conn, reload=True).decompress(value)
            return found
        except zstandard.ZstdError as exc:
            raise IndexBackendError(f"a stored {self.what}'s compressed frame is damaged: {exc}") from exc

    def writer(self, conn: sqlite3.Connection) -> DictionaryWriter:
        """A compressor of this column's values for one write transaction on `conn`."""
        return DictionaryWriter(self, conn)

    def dictionary(self, conn: sqlite3.Connection, dict_id: int, *, reload: bool = False) -> bytes:
        """The bytes of dictionary `dict_id` (this process's copy unless `reload`)."""
        with self._lock:
            known = None if reload else self._dicts.get(dict_id)
        if known is None:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (self.dict_key(dict_id),)).fetchone()
            if row is None:
                raise IndexBackendError(
                    f"a stored {self.what} was compressed with dictionary {dict_id}, which the file lacks"
                )
            known = bytes(row[0])
            with self._lock:
                self._dicts[dict_id] = known
        return known

    def _decompressor(self, dict_id: int, conn: sqlite3.Connection, *, reload: bool) -> zstandard.ZstdDecompressor:
        data = self.dictionary(conn, dict_id, reload=reload) if dict_id else b""
        cache: dict[int, tuple[bytes, zstandard.ZstdDecompressor]] = getattr(self._local, "decompressors", None) or {}
        self._local.decompressors = cache
        held = cache.get(dict_id)
        if held is None or held[0] is not data:  # the same bytes object while the process keeps that dictionary
            made = zstandard.ZstdDecompressor(dict_data=zstandard.ZstdCompressionDict(data)) if data else None
            held = (data, made or zstandard.ZstdDecompressor())
            cache[dict_id] = held
        return held[1]


class DictionaryWriter:
    """Compresses the values of one write transaction with the file's dictionary (training it when due)."""

    def __init__(self, column: DictionaryColumn, conn: sqlite3.Connection) -> None:
        self.column, self.conn = column, conn
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (column.current_key,)).fetchone()
        self.dict_id: int | None = None if row is None else int(row[0])
        self._compressor = self._make_compressor()

    def encode(self, plain: Sequence[bytes]) -> list[bytes]:
        """Each value as a zstd frame (training the file's dictionary first when it is due)."""
        if self.dict_id is None and plain:
            held = int(self.conn.execute(f"SELECT COUNT(*) FROM {self.column.table}").fetchone()[0])
            if held + len(plain) >= TRAIN_AFTER:
                self.train(plain)
        compress = self._compressor.compress
        return [compress(p) for p in plain]

    def pack(self, plain: bytes) -> bytes:
        """One value as a zstd frame with the dictionary new writes use now (never trains one)."""
        return bytes(self._compressor.compress(plain))

    def train(self, arriving: Sequence[bytes]) -> None:
        """Train the file's dictionary on an even spread of `arriving` (not random: the same writes train the same
        dictionary), topped up with the newest stored values."""
        column = self.column
        step = max(1, len(arriving) // SAMPLE_SIZE)
        sample: list[bytes | bytearray | memoryview] = list(arriving[::step][:SAMPLE_SIZE])
        if len(sample) < SAMPLE_SIZE:
            sql = f"SELECT {column.column} FROM {column.table} ORDER BY id DESC LIMIT ?"
            for (value,) in self.conn.execute(sql, (SAMPLE_SIZE - len(sample),)).fetchall():
                sample.append(value.encode("utf-8") if isinstance(value, str) else column.decode(value, self.conn))
        dict_id = 0
        try:
            trained = zstandard.train_dictionary(DICT_SIZE, sample, level=LEVEL)
        except zstandard.ZstdError as exc:
            logger.warning("no %s dictionary could be trained (%s); compressed without one", column.what, exc)
        else:
            key = column.dict_key(trained.dict_id())
            self.conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, trained.as_bytes()))
            (held,) = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            if bytes(held) == trained.as_bytes():  # else the file holds another dictionary of that id: go without
                dict_id = trained.dict_id()
        self.dict_id = dict_id
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (column.current_key, dict_id))
        self._compressor = self._make_compressor()

    def _make_compressor(self) -> zstandard.ZstdCompressor:
        """This thread's compressor for the file's dictionary, reused while the dictionary's bytes are the same
        (building one digests the dictionary)."""
        if not self.dict_id:
            return zstandard.ZstdCompressor(level=LEVEL, write_checksum=True)
        column = self.column
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (column.dict_key(self.dict_id),)).fetchone()
        if row is None:
            raise IndexBackendError(f"the file names {column.what} dictionary {self.dict_id} but lacks it")
        data = bytes(row[0])
        cache: dict[int, tuple[bytes, zstandard.ZstdCompressor]] = getattr(column._local, "compressors", None) or {}
        column._local.compressors = cache
        held = cache.get(self.dict_id)
        if held is None or held[0] != data:
            found = zstandard.ZstdCompressionDict(data)
            held = (data, zstandard.ZstdCompressor(level=LEVEL, dict_data=found, write_checksum=True))
            cache[self.dict_id] = held
        return held[1]
