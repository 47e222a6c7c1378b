"""Alembic migrations of the state database; `crawlers.state.migrate.upgrade` runs them at open."""
