"""Where the API's searches run (SearchRunner): concurrent searches all answered as alone, and a slow search
holding the event loop's thread only while it lasts, the searches after it sent to worker threads."""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from indexer.backends.sqlite import SqliteBackend
from search_api.app import create_app
from tests.integration.api.catalogue import LiveServer, live_server, sample_records, settings_for

QUERIES = ("书法", "养生", "智能手机 诈骗", "摄影", "shufa", "太极拳", "法律", "")
SEARCH_WAIT = 1.0
"""How long a search waits for the engine index held by another process in the slow test: long enough that a
health request stalled behind it is told apart from one answered at once."""


def _search(http: httpx.Client, q: str) -> tuple[int, dict[str, Any]]:
    response = http.get("/api/v1/search", params={"q": q, "size": 20})
    return response.status_code, response.json()


def test_concurrent_searches_are_all_answered_as_each_is_alone(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        alone = {q: _search(http, q) for q in QUERIES}
    assert all(status == 200 for status, _ in alone.values())

    def client(n: int) -> list[tuple[str, int, dict[str, Any]]]:
        answers = []
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for q in QUERIES[n:] + QUERIES[:n]:  # each client its own order: different queries at once
                answers.append((q, *_search(http, q)))
                assert http.get("/api/v1/health").status_code == 200
        return answers

    with ThreadPoolExecutor(8) as pool:
        together = [answer for answers in pool.map(client, range(8)) for answer in answers]
    assert len(together) == 8 * len(QUERIES)
    for q, status, body in together:
        assert (status, body) == alone[q], q


@contextmanager
def engine_held(index: Path) -> Iterator[None]:
    """The engine index's cross-process writer lock, held as another process's rebuild holds it."""
    with open(f"{index}.tantivy.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _health_while(pending: Future[tuple[int, dict[str, Any]]], url: str) -> list[tuple[float, float]]:
    """Health requests one after another until `pending` is done: each one's (sent, answered) monotonic times."""
    times = []
    with httpx.Client(base_url=url, timeout=30) as http:
        while not pending.done():
            sent = time.monotonic()
            assert http.get("/api/v1/health").status_code == 200
            times.append((sent, time.monotonic()))
    return times


def test_a_slow_search_holds_health_only_while_it_lasts_and_the_next_searches_run_in_threads(tmp_path: Path) -> None:
    index = tmp_path / "index.sqlite3"
    backend = SqliteBackend(index)
    try:
        backend.upsert(sample_records())
        assert backend.engine is not None
        backend.engine.search_wait = SEARCH_WAIT
        with live_server(create_app(settings=settings_for(tmp_path), backend=backend)) as server:
            with httpx.Client(base_url=server.url, timeout=30) as http:
                assert _search(http, "书法")[0] == 200  # quick: the next search runs in the loop's thread
            with engine_held(index), ThreadPoolExecutor(2) as pool:
                writer = SqliteBackend(index, search_engine="fts5")  # a write the engine index has not caught up with
                try:
                    writer.upsert([sample_records()[0].model_copy(update={"title": "书法入门：行书"})])
                finally:
                    writer.close()

                def search(q: str) -> tuple[int, dict[str, Any]]:
                    with httpx.Client(base_url=server.url, timeout=30) as http:
                        return _search(http, q)

                first = pool.submit(search, "书法")  # waits SEARCH_WAIT in the loop's thread: health waits too
                stalled = _health_while(first, server.url)
                assert first.result()[0] == 503
                assert stalled  # answered once the search ended: held, not lost
                second = pool.submit(search, "养生")  # after a slow search: in a worker thread
                answered = _health_while(second, server.url)
                assert second.result()[0] == 503
            # Health requests answered while the second search waited, each at once; behind a search in the loop's
            # thread one would have waited for it (SEARCH_WAIT).
            assert len(answered) >= 2, answered
            assert max(done - sent for sent, done in answered) < SEARCH_WAIT / 2, answered
            with httpx.Client(base_url=server.url, timeout=30) as http:
                status, body = _search(http, "行书")  # the lock released: caught up, the new title found
                assert status == 200
                assert [item["title"] for item in body["items"]] == ["书法入门：行书"]
                assert _search(http, "养生")[0] == 200
    finally:
        backend.close()
