"""Per-source harvest cursors (ETag, Last-Modified, OAI datestamp, catalogue version, sitemap lastmods)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete, select

from crawlers.state.db import Database, upsert_insert, utcnow
from crawlers.state.schema import cursors

MAX_KEY_CHARS = 500


class CursorStore:
    """Key/value cursors per source; write them in the transaction that finishes the run that earned them."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, source_id: str) -> dict[str, str]:
        """Every cursor of a source (empty for a source never harvested)."""
        with self._db.begin() as connection:
            rows = connection.execute(select(cursors.c.key, cursors.c.value).where(cursors.c.source_id == source_id))
            return {key: value for key, value in rows}

    def put(self, source_id: str, values: Mapping[str, str | None]) -> None:
        """Set cursors of a source; a None value deletes that key. Other keys stay as they are."""
        too_long = [key for key in values if not key or len(key) > MAX_KEY_CHARS]
        if too_long:
            raise ValueError(f"cursor keys must have 1 to {MAX_KEY_CHARS} characters: {too_long[:3]!r}")
        now = utcnow()
        kept = [
            {"source_id": source_id, "key": k, "value": v, "updated_at": now}
            for k, v in values.items()
            if v is not None
        ]
        dropped = [key for key, value in values.items() if value is None]
        with self._db.begin() as connection:
            if dropped:
                connection.execute(delete(cursors).where(cursors.c.source_id == source_id, cursors.c.key.in_(dropped)))
            if kept:
                insert = upsert_insert(connection, cursors)
                connection.execute(
                    insert.on_conflict_do_update(
                        index_elements=[cursors.c.source_id, cursors.c.key],
                        set_={"value": insert.excluded.value, "updated_at": insert.excluded.updated_at},
                    ),
                    kept,
                )

    def clear(self, source_id: str) -> int:
        """Forget every cursor of a source (the next run is a full harvest); returns how many were removed."""
        with self._db.begin() as connection:
            return connection.execute(delete(cursors).where(cursors.c.source_id == source_id)).rowcount
