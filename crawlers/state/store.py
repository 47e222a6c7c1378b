"""StateStore: the one handle on the state database that harvest runs, the scheduler and the API share."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from config.settings import Settings
from crawlers.state import migrate
from crawlers.state.audit import AuditLog
from crawlers.state.cursors import CursorStore
from crawlers.state.db import Database, create_state_engine
from crawlers.state.errors import StateDatabaseError
from crawlers.state.health import SourceHealth, read_health
from crawlers.state.holds import HeldDeletions
from crawlers.state.keys import ApiKeys
from crawlers.state.leases import Leases
from crawlers.state.links import LinkDecisionStore
from crawlers.state.quarantine import Quarantine
from crawlers.state.records import RecordStates
from crawlers.state.runs import RunLog
from crawlers.state.source_registry import SourceRegistry

logger = logging.getLogger(__name__)

STATE_FILE = "state.sqlite3"


def state_url(settings: Settings) -> str:
    """The state database URL of these settings: `state_db_url`, or a SQLite file in the data directory."""
    if settings.state_db_url:
        return settings.state_db_url
    return f"sqlite:///{(settings.data_dir / STATE_FILE).resolve()}"


class StateStore:
    """Sources, runs, cursors, record state, quarantine, held deletions, keys, audit log, leases, link decisions.

    Each part is an attribute (`store.runs.start(...)`, `store.leases.try_acquire(...)`); every call is
    its own transaction, except inside `with store.transaction() as tx:`, where all calls made through
    `tx` commit together or not at all.
    """

    def __init__(self, db: Database, *, url: str) -> None:
        self._db = db
        self.url = url
        self.sources = SourceRegistry(db)
        self.runs = RunLog(db)
        self.cursors = CursorStore(db)
        self.records = RecordStates(db)
        self.quarantine = Quarantine(db)
        self.holds = HeldDeletions(db)
        self.keys = ApiKeys(db)
        self.audit = AuditLog(db)
        self.leases = Leases(db)
        self.links = LinkDecisionStore(db)

    @classmethod
    def open(cls, url: str, *, upgrade: bool = True) -> StateStore:
        """Connect to a state database and (by default) migrate it to the newest schema.

        PostgreSQL tables live in the connection's search_path; to use another schema than `public`,
        add `?options=-csearch_path%3Dmyschema` to the URL.
        """
        shown = make_url(url).render_as_string(hide_password=True)
        engine = create_state_engine(url)
        try:
            if upgrade:
                migrate.upgrade(engine)
        except SQLAlchemyError as exc:
            engine.dispose()
            raise StateDatabaseError(shown, cause=str(exc).splitlines()[0]) from exc
        return cls(Database(engine), url=shown)

    @classmethod
    def for_settings(cls, settings: Settings) -> StateStore:
        """The state database these settings point at, migrated."""
        return cls.open(state_url(settings))

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (the APScheduler job store may share it)."""
        return self._db.engine

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self._db.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[StateStore]:
        """A view of this store whose calls all share one transaction (committed when the block ends)."""
        if self._db.connection is not None:
            yield self
            return
        with self._db.engine.begin() as connection:
            yield StateStore(self._db.bound(connection), url=self.url)

    def health(
        self, source_ids: Sequence[str] | None = None, *, now: datetime | None = None
    ) -> dict[str, SourceHealth]:
        """Health of the given sources (default: every registered one), keyed by source id."""
        return read_health(self._db, source_ids=source_ids, now=now)

    def schema_revision(self) -> str | None:
        """The migration revision the database is at."""
        return migrate.current_revision(self._db.engine)

    def close(self) -> None:
        """Close every pooled connection."""
        self._db.engine.dispose()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
