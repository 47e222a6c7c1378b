"""An edufed serving /oai over a real SQLite index on a loopback port, and generated catalogues for it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from config.loader import load_settings
from config.themes import THEMES
from indexer.backends.base import IndexBackend
from indexer.backends.sqlite import SqliteBackend
from indexer.linkage.incremental import Linker
from indexer.record import Person, Provider, Record
from search_api.app import create_app
from tests.integration.api.catalogue import live_server

PLATFORMS = {"le_ouchn": "国家开放大学终身教育平台", "lndx": "国家老年大学", "shequ": "中国社区教育网"}
PROGRAMMES = ("智慧助老", "能者为师", "百姓学习之星")
FETCHED = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
REPOSITORY = "edufed.example.cn"


_CHARS = "山水花鸟书画琴棋诗酒茶歌舞医药法理财家园"


def _name(n: int) -> str:
    """A distinct Chinese word per number (titles that no linkage takes for the same course)."""
    word = ""
    while True:
        n, digit = divmod(n, len(_CHARS))
        word = _CHARS[digit] + word
        if not n:
            return word


def course(n: int, *, version: int = 0) -> Record:
    """Course `n` of a generated catalogue: platforms, themes and programmes cycle; `version` changes its text."""
    platform = list(PLATFORMS)[n % len(PLATFORMS)]
    description = f"{_name(n * 7 + 3)}：{_name(n)}的入门讲解。" + (f"（第{version + 1}版修订）" if version else "")
    themes = [THEMES[n % len(THEMES)]] + ([THEMES[(n + 3) % len(THEMES)]] if n % 4 == 0 else [])
    record = Record(
        uid=f"{platform}:c{n:05d}", source=platform, source_id=f"c{n:05d}",
        url=f"https://{platform}.example.cn/course/{n}", title=f"{_name(n)}{THEMES[n % len(THEMES)]}",
        subtitle=f"第{version + 1}版" if version else None, description=description,
        platform=platform, platform_name=PLATFORMS[platform], themes=themes,
        programmes=[PROGRAMMES[n % len(PROGRAMMES)]] if n % 7 == 0 else [],
        instructors=[Person(name=f"{_name(n)}老师")], provider=Provider(name=f"{PLATFORMS[platform]}课程中心"),
        tags=[f"标签{n % 13}"], categories_raw=[["社区教育", f"分类{n % 9}"]], record_type="course",
        media_type="video", duration_seconds=600 + n, published_at=FETCHED - timedelta(days=n % 300),
        fetched_at=FETCHED, raw={"n": n},
    )  # fmt: skip
    return record.model_copy(update={"content_hash": record.compute_hash()})


class NoLinking(Linker):
    """Linking switched off, for catalogues of many generated courses: OAI-PMH serves records, not clusters."""

    def relink(self, store: object, *, arrived: object, old_clusters: object) -> int:  # type: ignore[override]
        return 0


@dataclass
class Repository:
    url: str
    backend: IndexBackend

    @property
    def oai(self) -> str:
        return f"{self.url}/oai"


@contextmanager
def serve_repository(
    data_dir: Path, *, records: list[Record], page_size: int = 100, per_minute: int = 100_000,
    backend: IndexBackend | None = None,
) -> Iterator[Repository]:  # fmt: skip
    """Serve `records` (written into `backend`, default a new SQLite index in data_dir) at /oai."""
    environ = {
        "EDUFED_DATA_DIR": str(data_dir), "EDUFED_OAI__PAGE_SIZE": str(page_size),
        "EDUFED_OAI__REQUESTS_PER_MINUTE": str(per_minute), "EDUFED_OAI__REPOSITORY_IDENTIFIER": REPOSITORY,
    }  # fmt: skip
    settings = load_settings(environ=environ)
    data_dir.mkdir(parents=True, exist_ok=True)
    index = backend or SqliteBackend(data_dir / "index.sqlite3")
    try:
        if records:
            index.upsert(records)
        with live_server(create_app(settings=settings, backend=index)) as server:
            yield Repository(server.url, index)
    finally:
        if backend is None:
            index.close()
