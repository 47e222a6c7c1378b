"""A separate process for the search engine tests: writes, syncs or holds the engine lock on one index file.

python engine_child.py write PATH ENGINE START COUNT BATCH   ->  `wrote N` after each committed batch
python engine_child.py sync PATH                             ->  `syncing`, then `synced`
python engine_child.py hold PATH                             ->  `held`; releases on a line of stdin
"""

from __future__ import annotations

import fcntl
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from indexer.backends.sqlite import SqliteBackend
from indexer.record import Record

WORDS = ("围棋", "书法", "太极拳", "手机摄影", "养生", "合唱", "茶艺", "智能手机")
THEMES = ("闲暇生活", "养生保健", "科学文化")


def record(n: int) -> Record:
    """Record number `n`: a title of two of WORDS, a theme and a platform that vary with n."""
    platform = ("le_ouchn", "smartedu")[n % 2]
    title = f"{WORDS[n % len(WORDS)]}{WORDS[(n // len(WORDS)) % len(WORDS)]}课程 第{n}讲"
    built = Record(
        uid=f"{platform}:e{n}", source=platform, source_id=f"e{n}", url=f"https://{platform}.example.cn/c/{n}",
        title=title, platform=platform, platform_name=platform, themes=[THEMES[n % len(THEMES)]],
        description=f"{WORDS[(n + 3) % len(WORDS)]}的入门介绍", is_free=n % 3 != 0,
        fetched_at=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=n),
    )  # fmt: skip
    return built.model_copy(update={"content_hash": built.compute_hash()})


def write(path: Path, engine: str, start: int, count: int, batch: int) -> None:
    backend = SqliteBackend(path, search_engine=engine)  # type: ignore[arg-type]
    try:
        for first in range(start, start + count, batch):
            backend.upsert(record(n) for n in range(first, min(first + batch, start + count)))
            print("wrote", min(first + batch, start + count) - start, flush=True)
    finally:
        backend.close()


def sync(path: Path) -> None:
    backend = SqliteBackend(path, search_engine="tantivy")  # opening starts the sync in the background too
    try:
        print("syncing", flush=True)
        backend.sync_engine()
        print("synced", flush=True)
    finally:
        backend.close()


def hold(path: Path) -> None:
    with open(f"{path}.tantivy.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        print("held", flush=True)
        sys.stdin.readline()


if __name__ == "__main__":
    verb, target, *rest = sys.argv[1:]
    if verb == "write":
        write(Path(target), rest[0], int(rest[1]), int(rest[2]), int(rest[3]))
    elif verb == "sync":
        sync(Path(target))
    elif verb == "hold":
        hold(Path(target))
    else:
        raise SystemExit(f"unknown command {verb!r}")
