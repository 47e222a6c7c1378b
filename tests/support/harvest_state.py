"""Harvest runs that remember, for tests: an index file, a state database and a course list to serve.

`with Harness.open(tmp_path, state_url) as h:` gives both; `h.run(config)` registers the source and harvests it with
`state=h.store`; `h.assert_consistent(source_id)` checks that the index and the state hold the same records.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config import load_themes
from config.settings import Settings
from config.source_models import JsonApiSourceConfig, SourceBase
from crawlers.run import RunReport, harvest
from crawlers.state import StateStore
from indexer.backends.sqlite import SqliteBackend
from indexer.pipeline import RecordBuilder
from tests.support.http_server import FixtureServer, LoggedRequest, Reply
from tests.support.json_sources import json_api_config
from tests.support.settings import local_http

COURSES_PATH = "/courses"


@dataclass
class Harness:
    """One catalogue: its index, its state database, the settings and builder runs use."""

    settings: Settings
    backend: SqliteBackend
    store: StateStore
    builder: RecordBuilder

    @classmethod
    @contextmanager
    def open(cls, data_dir: Path, state_url: str | None = None) -> Iterator[Harness]:
        """A fresh index in `data_dir` and the state database at `state_url` (default: a file beside it)."""
        data_dir.mkdir(parents=True, exist_ok=True)
        settings = Settings(data_dir=data_dir, http=local_http(), state_db_url=state_url)
        backend = SqliteBackend(settings.index_path)
        store = StateStore.for_settings(settings)
        harness = cls(settings, backend, store, RecordBuilder(load_themes()))
        try:
            yield harness
        finally:
            harness.store.close()  # the one open now (reopen_state replaces it)
            backend.close()

    def reopen_state(self) -> None:
        """Close the state database and open it again, as a restarted service does."""
        url = self.store.engine.url.render_as_string(hide_password=False)
        self.store.close()
        self.store = StateStore.open(url)

    def run(self, config: SourceBase, **kw: Any) -> RunReport:
        """Register (or update) the source and harvest it with the state store; the report must be JSON-ready."""
        self.store.sources.seed([config])  # type: ignore[list-item]
        report = harvest(config, settings=self.settings, backend=self.backend, builder=self.builder,
                         state=self.store, **kw)  # fmt: skip
        json.dumps(report.to_dict(), ensure_ascii=False)
        return report

    def index_hashes(self, source_id: str) -> dict[str, str]:
        return self.backend.content_hashes(source_id)

    def live_hashes(self, source_id: str) -> dict[str, str]:
        """uid -> content hash of the records the state counts as live."""
        return {uid: s.content_hash for uid, s in self.store.records.load(source_id).items() if not s.withdrawn}

    def missed(self, source_id: str) -> dict[str, int]:
        """uid -> missed complete runs of the live records."""
        known = self.store.records.load(source_id)
        return {uid: s.missed_complete_runs for uid, s in known.items() if not s.withdrawn}

    def assert_consistent(self, source_id: str) -> None:
        """The index and the state hold the same records with the same hashes."""
        assert self.index_hashes(source_id) == self.live_hashes(source_id)


def courses(count: int, *, prefix: str = "c", title: str = "老年人学用智能手机 第{n}讲") -> list[dict[str, Any]]:
    """`count` course items as the course list serves them."""
    return [{"id": f"{prefix}{n}", "name": title.format(n=n)} for n in range(1, count + 1)]


def course_list(server: FixtureServer, source_id: str = "course_list", **overrides: Any) -> JsonApiSourceConfig:
    """A json_api source reading the paged course list `serve_courses` serves (no validators: read in full)."""
    values = {"id": source_id, "name": "课程列表", "page_param": "p", "obey_robots": False, **overrides}
    return json_api_config(server, f"/{source_id}{COURSES_PATH}", **values)


def serve_courses(
    server: FixtureServer, items: list[dict[str, Any]], *, source_id: str = "course_list", per_page: int = 4,
    delay: float = 0.0,
) -> None:  # fmt: skip
    """Serve `items` as pages of `per_page` (p=1, 2, ...; the page after the last is empty) for course_list."""

    def answer(request: LoggedRequest) -> Reply:
        number = int(request.query.get("p", "1"))
        page = items[(number - 1) * per_page : number * per_page]
        body = json.dumps({"data": {"items": page}}, ensure_ascii=False).encode("utf-8")
        return Reply(body=body, headers={"Content-Type": "application/json"}, delay=delay)

    server.route(f"/{source_id}{COURSES_PATH}", responder=answer)
