"""The state schema: built from empty by the migrations, idempotent on reopen, in step with schema.py."""

from __future__ import annotations

import socket
import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from config.settings import Settings
from crawlers.state import migrate
from crawlers.state.errors import StateDatabaseError
from crawlers.state.schema import metadata
from crawlers.state.store import StateStore, state_url

EXPECTED_TABLES = {
    "alembic_version",
    "sources",
    "runs",
    "cursors",
    "record_state",
    "quarantine",
    "held_deletions",
    "api_keys",
    "audit_log",
    "leases",
    "link_decisions",
    "run_totals",
    "run_http_errors",
}


def test_open_upgrades_an_empty_database_to_head(state_url):
    with StateStore.open(state_url) as store:
        assert store.schema_revision() == migrate.head_revision()
        assert set(inspect(store.engine).get_table_names()) == EXPECTED_TABLES


def test_opening_twice_keeps_data_and_revision(state_url, make_source):
    with StateStore.open(state_url) as store:
        store.sources.add(make_source("first"), created_by="config")
        revision = store.schema_revision()
    with StateStore.open(state_url) as store:
        assert store.schema_revision() == revision
        assert store.sources.ids() == ["first"]


def test_migrated_tables_match_the_schema_module(store):
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_two_openers_on_an_empty_database_both_succeed(state_url):
    errors: list[BaseException] = []
    opened: list[StateStore] = []
    start = threading.Barrier(2)

    def open_it() -> None:
        start.wait()
        try:
            opened.append(StateStore.open(state_url))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in opened:
        store.close()
    assert errors == []
    assert len(opened) == 2


def test_unreachable_database_raises_a_state_database_error():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+psycopg://postgres:secret@127.0.0.1:{port}/test?connect_timeout=5"
    with pytest.raises(StateDatabaseError) as caught:
        StateStore.open(url)
    assert caught.value.url.startswith("postgresql+psycopg://postgres:***@127.0.0.1")
    assert "secret" not in str(caught.value)


def test_default_settings_keep_state_in_a_sqlite_file_in_the_data_dir(tmp_path):
    settings = Settings(data_dir=tmp_path / "nested" / "data")
    assert state_url(settings) == f"sqlite:///{(tmp_path / 'nested' / 'data' / 'state.sqlite3').resolve()}"
    with StateStore.for_settings(settings) as store:
        assert store.dialect == "sqlite"
        assert store.schema_revision() == migrate.head_revision()
    assert (tmp_path / "nested" / "data" / "state.sqlite3").is_file()
    assert state_url(Settings(state_db_url="postgresql+psycopg://edufed@db/edufed")) == (
        "postgresql+psycopg://edufed@db/edufed"
    )
