"""Elasticsearch-only behaviour: alias-swap rebuild, bulk failures and 429 retries, the version check."""

from __future__ import annotations

import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from indexer.backends.base import SearchQuery
from indexer.backends.elasticsearch import ElasticsearchBackend
from indexer.backends.es_bulk import BulkOptions
from indexer.backends.es_client import Credentials, check_versions
from indexer.errors import BulkWriteError, ClientVersionError, IndexBackendError
from indexer.record import Record
from tests.support.http_server import FixtureServer
from tests.support.noida import elasticsearch_engine, test_alias

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "contract"))
from contract_corpus import build_corpus, make_record  # noqa: E402

FAST = BulkOptions(initial_backoff=0.01, max_backoff=0.05)


@pytest.fixture(scope="module")
def engine_url() -> Iterator[str]:
    with elasticsearch_engine() as url:
        yield url


@pytest.fixture
def backend(engine_url: str) -> Iterator[ElasticsearchBackend]:
    index = ElasticsearchBackend(engine_url, alias=test_alias(), replicas=0, bulk=FAST)
    yield index
    index.drop()
    index.close()


def _too_big(source_id: str) -> Record:
    """A record the cluster rejects: its learner count does not fit a long."""
    return make_record(source_id, "人数溢出的课程", learner_count=10**20)


def test_rebuild_swaps_the_alias_while_searches_keep_answering(backend: ElasticsearchBackend) -> None:
    corpus = build_corpus()
    backend.upsert(corpus)
    before = backend.current_index()
    renamed = [r.model_copy(update={"title": r.title + "（新版）"}) for r in corpus]
    totals: list[int] = []
    failures: list[BaseException] = []
    answering = threading.Event()
    done = threading.Event()

    def searching() -> None:
        while not done.is_set():
            try:
                totals.append(backend.search(SearchQuery(q="书法")).total)
            except BaseException as exc:  # recorded and asserted below
                failures.append(exc)
            answering.set()

    reader = threading.Thread(target=searching)
    reader.start()
    try:
        # The reader is searching before the rebuild starts and goes on until it ends; how many of its searches fall
        # inside the rebuild depends on the machine's load, so only their answers are asserted.
        assert answering.wait(30)
        result = backend.rebuild(renamed)
    finally:
        done.set()
        reader.join()
    assert failures == [] and totals and min(totals) > 0
    assert result.written == len(corpus)
    assert backend.indices() == [backend.current_index()] != [before]
    stored = backend.get(corpus[0].uid)
    assert stored is not None and stored.title.endswith("（新版）")
    assert backend.count() == len(corpus)


def test_failed_rebuild_leaves_the_old_index_in_place(backend: ElasticsearchBackend) -> None:
    corpus = build_corpus()
    backend.upsert(corpus)
    before = backend.current_index()
    with pytest.raises(BulkWriteError) as caught:
        backend.rebuild([*corpus, _too_big("big1")])
    assert [f.uid for f in caught.value.failed] == ["le_ouchn:big1"]
    assert backend.indices() == [before] and backend.count() == len(corpus)


def test_bulk_failure_names_each_failed_record_and_writes_the_rest(backend: ElasticsearchBackend) -> None:
    good = build_corpus()[:5]
    with pytest.raises(BulkWriteError) as caught:
        backend.upsert([*good[:2], _too_big("big1"), *good[2:], _too_big("big2")])
    failed = caught.value.failed
    assert sorted(f.uid for f in failed) == ["le_ouchn:big1", "le_ouchn:big2"]
    assert all(f.status == 400 and "out of range" in f.reason for f in failed)
    assert caught.value.result is not None and caught.value.result.written == len(good)
    assert backend.count() == len(good) and backend.get("le_ouchn:big1") is None


def test_withdraw_by_uid_and_by_source(backend: ElasticsearchBackend) -> None:
    corpus = build_corpus()
    backend.upsert(corpus)
    assert backend.withdraw([corpus[0].uid, corpus[0].uid, "nobody:1"]) == 1
    lndx = sum(r.source == "lndx" for r in corpus)
    assert backend.withdraw_source("lndx") == lndx
    assert backend.count() == len(corpus) - 1 - lndx


class _Throttling:
    """A proxy to the engine that answers the first `limit` bulk requests with 429 Too Many Requests."""

    def __init__(self, target: str, *, limit: int) -> None:
        self.target, self.limit, self.throttled = target, limit, 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.split("?")[0].endswith("/_bulk") and proxy.take_throttle():
                    self._send(
                        429,
                        b'{"error":{"type":"es_rejected_execution_exception","reason":"busy"},"status":429}',
                    )
                    return
                request = urllib.request.Request(
                    proxy.target + self.path,
                    data=body or None,
                    method=self.command,
                    headers={"Content-Type": self.headers.get("Content-Type", "application/json")},
                )
                try:
                    with urllib.request.urlopen(request, timeout=30) as answer:
                        self._send(answer.status, answer.read())
                except urllib.error.HTTPError as error:
                    with error:
                        self._send(error.code, error.read())

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Elastic-Product", "Elasticsearch")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def take_throttle(self) -> bool:
        with self.lock:
            if self.throttled < self.limit:
                self.throttled += 1
                return True
            return False

    def __enter__(self) -> _Throttling:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def test_bulk_requests_answered_429_are_retried_with_backoff(engine_url: str) -> None:
    corpus = build_corpus()
    with _Throttling(engine_url, limit=2) as proxy:
        backend = ElasticsearchBackend(proxy.url, alias=test_alias(), replicas=0, bulk=FAST)
        try:
            assert backend.upsert(corpus).written == len(corpus)
            assert proxy.throttled == 2 and backend.count() == len(corpus)
        finally:
            backend.drop()
            backend.close()


def test_bulk_requests_still_throttled_after_every_retry_are_reported(engine_url: str) -> None:
    corpus = build_corpus()[:3]
    with _Throttling(engine_url, limit=100) as proxy:
        backend = ElasticsearchBackend(
            proxy.url,
            alias=test_alias(),
            replicas=0,
            bulk=BulkOptions(max_retries=2, initial_backoff=0.01, max_backoff=0.02),
        )
        try:
            with pytest.raises(BulkWriteError) as caught:
                backend.upsert(corpus)
            assert sorted(f.uid for f in caught.value.failed) == sorted(r.uid for r in corpus)
            assert {f.status for f in caught.value.failed} == {429} and proxy.throttled == 3
        finally:
            backend.drop()
            backend.close()


@pytest.mark.parametrize("server_version", ["9.1.0", "7.17.9"])
def test_a_server_of_another_major_version_is_refused_with_the_package_to_install(
    server_version: str,
) -> None:
    with FixtureServer() as server:
        server.route(
            "/",
            json={"version": {"number": server_version}, "tagline": "You Know, for Search"},
            headers={"X-Elastic-Product": "Elasticsearch"},
        )
        with pytest.raises(IndexBackendError) as caught:
            ElasticsearchBackend(server.base_url, alias=test_alias())
    assert "elasticsearch" in str(caught.value) and server_version.split(".")[0] in str(caught.value)


def test_version_check_names_both_versions() -> None:
    with pytest.raises(ClientVersionError) as caught:
        check_versions(server="9.0.2", client="8.19.3")
    assert (caught.value.server, caught.value.client) == ("9.0.2", "8.19.3")
    assert "pip install 'elasticsearch>=9,<10'" in str(caught.value)
    check_versions(server="8.15.3", client="8.19.3")


def test_an_unreachable_cluster_is_a_clear_error() -> None:
    with FixtureServer() as server:
        url = server.base_url
    with pytest.raises(IndexBackendError, match="cannot use Elasticsearch"):
        ElasticsearchBackend(url, alias=test_alias(), request_timeout=2)


def test_credentials_come_from_the_environment_and_never_show_in_repr() -> None:
    creds = Credentials.from_environ({"ELASTICSEARCH_API_KEY": "s3cret", "ELASTICSEARCH_CA_CERTS": "/etc/ca.pem"})
    assert creds.client_options() == {"api_key": "s3cret", "ca_certs": "/etc/ca.pem"}
    assert "s3cret" not in repr(creds)
    basic = Credentials.from_environ({"ELASTICSEARCH_USERNAME": "edufed", "ELASTICSEARCH_PASSWORD": "pw"})
    assert basic.client_options() == {"basic_auth": ("edufed", "pw")}
    with pytest.raises(IndexBackendError):
        Credentials.from_environ({"ELASTICSEARCH_USERNAME": "edufed"})
