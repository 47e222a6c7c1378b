"""The source registry: every harvested source's validated config and its enabled/paused switches."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Connection, RowMapping, delete, select, update

from config.source_models import SourceConfig
from crawlers.state.db import Database, utcnow
from crawlers.state.errors import SourceExistsError, StateNotFoundError, StoredConfigInvalidError
from crawlers.state.schema import sources

logger = logging.getLogger(__name__)

CONFIG_ACTOR = "config"  # created_by of sources seeded from sources.yaml
_ADAPTER: TypeAdapter[SourceConfig] = TypeAdapter(SourceConfig)


@dataclass(frozen=True)
class StoredSource:
    """A registered source: its validated config plus the switches and bookkeeping the store keeps."""

    id: str
    platform: str
    kind: str
    name: str
    config: SourceConfig
    enabled: bool
    paused: bool
    created_by: str
    created_at: datetime
    updated_at: datetime

    @property
    def schedulable(self) -> bool:
        """Enabled in its config and not paused by an admin."""
        return self.enabled and not self.paused


@dataclass
class SeedResult:
    """What seeding from sources.yaml did, by source id."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # id taken by a source added through the API
    not_in_config: list[str] = field(default_factory=list)  # seeded earlier, gone from the file; left alone


def _dump(config: SourceConfig) -> dict[str, Any]:
    return _ADAPTER.dump_python(config, mode="json")


def _to_source(row: RowMapping) -> StoredSource:
    try:
        config = _ADAPTER.validate_python(row["config"])
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise StoredConfigInvalidError(row["id"], problems=problems) from exc
    return StoredSource(
        id=row["id"],
        platform=row["platform"],
        kind=row["kind"],
        name=row["name"],
        config=config,
        enabled=row["enabled"],
        paused=row["paused"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _config_columns(config: SourceConfig) -> dict[str, Any]:
    return {
        "platform": config.platform,
        "kind": config.kind,
        "name": config.name,
        "config": _dump(config),
        "enabled": config.enabled,
    }


class SourceRegistry:
    """Registered sources: seeded from sources.yaml, added and changed by operators through the API."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def _row(self, connection: Connection, source_id: str) -> RowMapping:
        row = connection.execute(select(sources).where(sources.c.id == source_id)).mappings().first()
        if row is None:
            raise StateNotFoundError("source", source_id)
        return row

    def get(self, source_id: str) -> StoredSource:
        """One source; StateNotFoundError when it is not registered."""
        with self._db.begin() as connection:
            return _to_source(self._row(connection, source_id))

    def find(self, *, platform: str | None = None, enabled: bool | None = None) -> list[StoredSource]:
        """Registered sources by id, optionally only one platform's or only enabled ones."""
        query = select(sources).order_by(sources.c.id)
        if platform is not None:
            query = query.where(sources.c.platform == platform)
        if enabled is not None:
            query = query.where(sources.c.enabled == enabled)
        with self._db.begin() as connection:
            return [_to_source(row) for row in connection.execute(query).mappings()]

    def ids(self) -> list[str]:
        """Every registered source id, sorted."""
        with self._db.begin() as connection:
            return list(connection.execute(select(sources.c.id).order_by(sources.c.id)).scalars())

    def add(self, config: SourceConfig, *, created_by: str) -> StoredSource:
        """Register a new source; SourceExistsError when the id is taken."""
        now = utcnow()
        with self._db.begin() as connection:
            if connection.execute(select(sources.c.id).where(sources.c.id == config.id)).first():
                raise SourceExistsError(config.id)
            values = {"id": config.id, **_config_columns(config), "paused": False}
            connection.execute(sources.insert().values(**values, created_by=created_by, created_at=now, updated_at=now))
            return _to_source(self._row(connection, config.id))

    def replace(self, config: SourceConfig) -> StoredSource:
        """Store a new config for an existing source (its paused switch and history stay)."""
        with self._db.begin() as connection:
            self._row(connection, config.id)
            connection.execute(
                update(sources).where(sources.c.id == config.id).values(**_config_columns(config), updated_at=utcnow())
            )
            return _to_source(self._row(connection, config.id))

    def set_paused(self, source_id: str, paused: bool) -> StoredSource:
        """Pause or resume a source (an operational switch; the config's `enabled` is not touched)."""
        with self._db.begin() as connection:
            self._row(connection, source_id)
            connection.execute(
                update(sources).where(sources.c.id == source_id).values(paused=paused, updated_at=utcnow())
            )
            return _to_source(self._row(connection, source_id))

    def remove(self, source_id: str) -> None:
        """Unregister a source; its runs, cursors, record state, quarantine and holds go with it."""
        with self._db.begin() as connection:
            self._row(connection, source_id)
            connection.execute(delete(sources).where(sources.c.id == source_id))

    def seed(self, configs: Iterable[SourceConfig]) -> SeedResult:
        """Make the sources from sources.yaml current: add new ones, update changed ones, report the rest.

        A source that an operator added through the API is never overwritten by the file (a conflict), and a
        seeded source that left the file is kept (runs and record state may matter) and reported.
        """
        result = SeedResult()
        wanted = {config.id: config for config in configs}
        with self._db.begin() as connection:
            stored = {row["id"]: row for row in connection.execute(select(sources)).mappings()}
            for source_id, config in wanted.items():
                self._seed_one(connection, config, stored.get(source_id), result)
            result.not_in_config = sorted(
                sid for sid, row in stored.items() if row["created_by"] == CONFIG_ACTOR and sid not in wanted
            )
        return result

    def _seed_one(
        self, connection: Connection, config: SourceConfig, row: RowMapping | None, result: SeedResult
    ) -> None:
        now = utcnow()
        columns = _config_columns(config)
        if row is None:
            connection.execute(
                sources.insert().values(
                    id=config.id,
                    **columns,
                    paused=False,
                    created_by=CONFIG_ACTOR,
                    created_at=now,
                    updated_at=now,
                )
            )
            result.added.append(config.id)
        elif row["created_by"] != CONFIG_ACTOR:
            result.conflicts.append(config.id)
        elif any(row[key] != value for key, value in columns.items()):
            connection.execute(update(sources).where(sources.c.id == config.id).values(**columns, updated_at=now))
            result.updated.append(config.id)
        else:
            result.unchanged.append(config.id)
