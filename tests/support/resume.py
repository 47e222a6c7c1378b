"""Read an incremental source directly, as a run would, starting from a given cursor."""

from __future__ import annotations

from typing import Any, TypeVar

from config.settings import HttpSettings
from config.source_models import SourceBase
from crawlers.fetch import Fetcher
from crawlers.kinds import build_source
from crawlers.kinds.cursor import IncrementalSource
from indexer.record import RawRecord
from tests.support.settings import local_http

S = TypeVar("S", bound=IncrementalSource)


def resume(
    config: SourceBase, kind: type[S], cursor: dict[str, Any] | None = None, *, http: HttpSettings | None = None
) -> tuple[list[RawRecord], S]:
    """The records the source yields from `cursor` (None: a first run), in its order, and the source after."""
    with Fetcher(http or local_http(), obey_robots=config.obey_robots, delay_seconds=0) as fetcher:
        source = build_source(config, fetcher)
        assert isinstance(source, kind)
        source.cursor_in = dict(cursor or {})
        return list(source.iter_records()), source
