"""Fixtures for the state-store suite: every test runs against a SQLite file and the real PostgreSQL.

PostgreSQL tests each get a fresh schema (named with its creation time) that is dropped afterwards;
schemas left behind by a killed earlier run are swept at session start once they are an hour old.
Set EDUFED_SKIP_POSTGRES=1 to skip the PostgreSQL half on a machine without the server; otherwise an
unreachable server fails those tests.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from config.source_models import RssSourceConfig
from crawlers.state.store import StateStore

POSTGRES_URL = os.environ.get("EDUFED_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SCHEMA_PREFIX = "edufed_state_test_"
STALE_SCHEMA_SECONDS = 3600


def _sweep_stale_schemas(engine: Engine) -> None:
    pattern = re.compile(rf"^{SCHEMA_PREFIX}(\d+)_[0-9a-f]+$")
    with engine.begin() as connection:
        names = connection.execute(
            text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :prefix"),
            {"prefix": SCHEMA_PREFIX + "%"},
        ).scalars()
        for name in list(names):
            match = pattern.match(name)
            if match and time.time() - int(match.group(1)) > STALE_SCHEMA_SECONDS:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """An engine on the PostgreSQL test database, for creating and dropping per-test schemas."""
    if os.environ.get("EDUFED_SKIP_POSTGRES") == "1":
        pytest.skip("EDUFED_SKIP_POSTGRES=1: PostgreSQL state tests skipped")
    engine = create_engine(POSTGRES_URL)
    try:
        _sweep_stale_schemas(engine)
    except OperationalError as exc:
        engine.dispose()
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is unreachable ({exc.orig}); set EDUFED_SKIP_POSTGRES=1 to skip")
    yield engine
    engine.dispose()


def postgres_schema_url(admin: Engine) -> tuple[str, str]:
    """Create a fresh schema; returns (schema name, URL whose connections use it)."""
    schema = f"{SCHEMA_PREFIX}{int(time.time())}_{uuid.uuid4().hex[:10]}"
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    return schema, f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


def drop_schema(admin: Engine, schema: str) -> None:
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@pytest.fixture(name="state_url", params=["sqlite", "postgresql"])
def state_url_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty state database: a SQLite file in tmp_path, or a fresh schema on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.sqlite3'}"
        return
    admin: Engine = request.getfixturevalue("postgres_admin")
    schema, url = postgres_schema_url(admin)
    try:
        yield url
    finally:
        drop_schema(admin, schema)


@pytest.fixture
def store(state_url: str) -> Iterator[StateStore]:
    """A migrated StateStore on the test database."""
    with StateStore.open(state_url) as opened:
        yield opened


def rss_source(source_id: str = "elder_news", *, platform: str = "caea", **changes: object) -> RssSourceConfig:
    """A valid RSS source config for registering in tests."""
    values: dict[str, object] = {
        "id": source_id,
        "kind": "rss",
        "name": f"{source_id} 动态",
        "platform": platform,
        "platform_name": "中国老年大学协会",
        "url": f"https://{platform}.example.org/{source_id}.xml",
    }
    values.update(changes)
    return RssSourceConfig.model_validate(values)


@pytest.fixture
def make_source() -> Callable[..., RssSourceConfig]:
    """The factory of valid source configs: make_source("id", platform=..., name=...)."""
    return rss_source


@pytest.fixture
def registered(store: StateStore) -> str:
    """The id of one source registered in the store."""
    return store.sources.add(rss_source(), created_by="config").id
