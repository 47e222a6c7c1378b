"""Opening the configured index backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import IndexSettings, Settings
from indexer.backends import open_backend
from indexer.backends.sqlite import SqliteBackend
from indexer.errors import IndexBackendError


def test_sqlite_backend_is_opened_in_a_new_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "new" / "data")
    backend = open_backend(settings)
    try:
        assert isinstance(backend, SqliteBackend)
        assert settings.index_path.is_file() and backend.count() == 0
    finally:
        backend.close()


def test_unreachable_elasticsearch_is_a_clear_index_error(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, index=IndexSettings(backend="elasticsearch", url="http://127.0.0.1:9"))
    with pytest.raises(IndexBackendError, match=r"cannot use Elasticsearch at http://127\.0\.0\.1:9"):
        open_backend(settings)


def test_elasticsearch_without_a_url_is_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, index=IndexSettings(backend="elasticsearch"))
    with pytest.raises(IndexBackendError, match="index.url is not set"):
        open_backend(settings)


def test_a_file_that_is_not_an_index_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    path.write_bytes(b"this is not a database, just some bytes" * 100)
    with pytest.raises(IndexBackendError, match="cannot open index"):
        SqliteBackend(path)


def test_a_closed_backend_refuses_work(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "index.sqlite3")
    backend.close()
    with pytest.raises(IndexBackendError, match="closed"):
        backend.count()
