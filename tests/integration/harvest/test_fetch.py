"""The fetcher against a real local HTTP server: politeness, retries, limits and robots.txt."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from config.settings import HttpSettings
from crawlers.errors import FetchError, ResponseTooLargeError, RobotsDisallowedError, UrlRefusedError
from crawlers.fetch import Fetcher, retry_after_seconds
from tests.support.http_server import FixtureServer, LoggedRequest, Reply, http_server_fixture  # noqa: F401
from tests.support.settings import LOOPBACK

UA = "edufed-test/0.1 (+https://example.org/edufed; test harvester)"


def http_settings(**overrides: object) -> HttpSettings:
    values: dict[str, object] = {
        "user_agent": UA,
        "timeout_seconds": 5,
        "delay_seconds": 0,
        "retries": 2,
        "backoff_seconds": 0,
        "max_retry_after_seconds": 60,
        "allow_private_hosts": list(LOOPBACK),
    }
    values.update(overrides)
    return HttpSettings.model_validate(values)


class RecordingSleep:
    """Stands in for time.sleep so retry and delay waits are checked without waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def test_every_request_sends_the_configured_user_agent(http_server: FixtureServer) -> None:
    http_server.route("/hello", body="hi")
    with Fetcher(http_settings()) as fetcher:
        response = fetcher.get(http_server.url("/hello"))
    assert response.content == b"hi"
    assert [r.header("User-Agent") for r in http_server.requests] == [UA, UA]  # robots.txt, then the page
    assert [r.path for r in http_server.requests] == ["/robots.txt", "/hello"]


def test_query_parameters_are_sent_and_logged(http_server: FixtureServer) -> None:
    http_server.route("/api", json={"ok": True})
    with Fetcher(http_settings()) as fetcher:
        response = fetcher.get(http_server.url("/api"), params={"PageNum": 2, "ChannelId": "education"})
        assert response.json() == {"ok": True}
        assert fetcher.log[-1].url == http_server.url("/api?PageNum=2&ChannelId=education")
    assert http_server.requests_for("/api")[0].query == {"PageNum": "2", "ChannelId": "education"}


def test_a_slow_server_gives_a_clear_timeout_error(http_server: FixtureServer) -> None:
    http_server.route("/slow", body="late", delay=30)
    with (
        Fetcher(http_settings(timeout_seconds=0.3, retries=0), obey_robots=False) as fetcher,
        pytest.raises(FetchError) as caught,
    ):
        fetcher.get(http_server.url("/slow"))
    assert caught.value.url == http_server.url("/slow")
    assert "timed out after 0.3 s" in str(caught.value)
    assert http_server.url("/slow") in str(caught.value)


def test_a_redirect_loop_is_named_with_its_chain(http_server: FixtureServer) -> None:
    http_server.route("/a", status=302, headers={"Location": "/b"})
    http_server.route("/b", status=302, headers={"Location": "/a"})
    with Fetcher(http_settings(retries=0), obey_robots=False) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.get(http_server.url("/a"))
    assert f"redirect loop: {http_server.url('/a')} -> {http_server.url('/b')} -> {http_server.url('/a')}" in str(
        caught.value
    )


def test_a_body_shorter_than_its_declared_length_is_called_truncated(http_server: FixtureServer) -> None:
    http_server.route("/half", responses=[Reply(body=b"x" * 30, headers={"Content-Length": "900"}, send_length=False)])
    with Fetcher(http_settings(retries=0), obey_robots=False) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.get(http_server.url("/half"))
    assert "truncated: the body ended before its declared length" in str(caught.value)


@pytest.mark.parametrize("send_length", [True, False], ids=["declared-length", "streamed-without-length"])
def test_a_response_over_the_size_cap_is_refused_naming_url_and_cap(
    http_server: FixtureServer, send_length: bool
) -> None:
    http_server.route("/big", body=b"x" * 300_000, send_length=send_length)
    with Fetcher(http_settings(max_response_bytes=100_000), obey_robots=False) as fetcher:
        with pytest.raises(ResponseTooLargeError) as caught:
            fetcher.get(http_server.url("/big"))
        assert fetcher.log[-1].bytes == 0
    assert caught.value.limit == 100_000
    assert "100000-byte cap" in str(caught.value)
    assert http_server.url("/big") in str(caught.value)
    assert len(http_server.requests_for("/big")) == 1  # a too-large body is not retried


def test_a_response_at_the_size_cap_is_accepted(http_server: FixtureServer) -> None:
    http_server.route("/exact", body=b"y" * 4096, send_length=False)
    with Fetcher(http_settings(max_response_bytes=4096), obey_robots=False) as fetcher:
        assert len(fetcher.get(http_server.url("/exact")).content) == 4096


def test_429_with_retry_after_seconds_is_retried_after_that_wait(http_server: FixtureServer) -> None:
    http_server.route("/busy", responses=[Reply(status=429, headers={"Retry-After": "7"}), Reply(body=b"done")])
    sleep = RecordingSleep()
    with Fetcher(http_settings(), obey_robots=False, sleep=sleep) as fetcher:
        assert fetcher.get(http_server.url("/busy")).content == b"done"
        assert fetcher.stats().errors_by_status == {"429": 1}
    assert sleep.calls == [7.0]
    assert len(http_server.requests_for("/busy")) == 2


def test_retry_after_as_an_http_date_is_honoured(http_server: FixtureServer) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    http_server.route("/busy", responses=[Reply(status=503, headers={"Retry-After": later}), Reply(body=b"ok")])
    sleep = RecordingSleep()
    with Fetcher(http_settings(), obey_robots=False, sleep=sleep) as fetcher:
        assert fetcher.get(http_server.url("/busy")).content == b"ok"
    assert len(sleep.calls) == 1
    assert 20 < sleep.calls[0] <= 30


def test_retry_after_longer_than_the_limit_fails_without_waiting(http_server: FixtureServer) -> None:
    http_server.route("/busy", status=429, headers={"Retry-After": "3600"})
    sleep = RecordingSleep()
    fetcher = Fetcher(http_settings(max_retry_after_seconds=120), obey_robots=False, sleep=sleep)
    with fetcher, pytest.raises(FetchError) as caught:
        fetcher.get(http_server.url("/busy"))
    assert caught.value.status == 429
    assert "3600 s" in str(caught.value) and "120 s limit" in str(caught.value)
    assert sleep.calls == []
    assert len(http_server.requests_for("/busy")) == 1


def test_503_then_200_succeeds_after_exponential_backoff(http_server: FixtureServer) -> None:
    http_server.route("/flaky", responses=[Reply(status=503), Reply(status=502), Reply(body=b"finally", status=200)])
    sleep = RecordingSleep()
    settings = http_settings(backoff_seconds=1.5, retries=3)
    with Fetcher(settings, obey_robots=False, sleep=sleep) as fetcher:
        assert fetcher.get(http_server.url("/flaky")).content == b"finally"
    assert sleep.calls == [1.5, 3.0]
    assert len(http_server.requests_for("/flaky")) == 3


def test_a_server_error_that_persists_fails_after_the_configured_retries(http_server: FixtureServer) -> None:
    http_server.route("/down", status=500)
    with Fetcher(http_settings(retries=2), obey_robots=False) as fetcher:
        with pytest.raises(FetchError) as caught:
            fetcher.get(http_server.url("/down"))
        assert fetcher.stats().requests == 3
    assert caught.value.status == 500
    assert str(caught.value) == f"fetching {http_server.url('/down')} failed: HTTP 500"


def test_a_client_error_is_not_retried(http_server: FixtureServer) -> None:
    with Fetcher(http_settings(retries=3), obey_robots=False) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.get(http_server.url("/missing"))
    assert caught.value.status == 404
    assert len(http_server.requests_for("/missing")) == 1


def test_a_refused_connection_is_retried_then_reported() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleep = RecordingSleep()
    with Fetcher(http_settings(retries=2, backoff_seconds=0.5), obey_robots=False, sleep=sleep) as fetcher:
        with pytest.raises(FetchError) as caught:
            fetcher.get(f"http://127.0.0.1:{port}/nothing")
        assert len(fetcher.log) == 3
    assert caught.value.status is None
    assert "ConnectionError" in str(caught.value)
    assert sleep.calls == [0.5, 1.0]


def test_a_url_disallowed_by_robots_is_never_requested(http_server: FixtureServer) -> None:
    http_server.route("/robots.txt", body="User-agent: *\nDisallow: /private/\n")
    http_server.route("/private/course/1", body="secret")
    http_server.route("/public", body="open")
    with Fetcher(http_settings()) as fetcher:
        with pytest.raises(RobotsDisallowedError) as caught:
            fetcher.get(http_server.url("/private/course/1"))
        assert fetcher.get(http_server.url("/public")).content == b"open"
        decisions = [(entry.url, entry.robots) for entry in fetcher.log]
    assert http_server.requests_for("/private/course/1") == []
    assert caught.value.robots_url == http_server.url("/robots.txt")
    assert "disallowed by robots.txt" in str(caught.value)
    assert decisions == [
        (http_server.url("/robots.txt"), "robots.txt"),
        (http_server.url("/private/course/1"), "disallowed"),
        (http_server.url("/public"), "allowed"),
    ]


def test_robots_rules_for_our_agent_apply_to_us_only(http_server: FixtureServer) -> None:
    http_server.route("/robots.txt", body="User-agent: edufed-test\nDisallow: /\n\nUser-agent: *\nAllow: /\n")
    with Fetcher(http_settings()) as fetcher, pytest.raises(RobotsDisallowedError):
        fetcher.get(http_server.url("/anything"))
    http_server.route("/anything", body="for others")
    with Fetcher(http_settings(user_agent="otherbot/1.0")) as fetcher:
        assert fetcher.get(http_server.url("/anything")).content == b"for others"
    assert len(http_server.requests_for("/anything")) == 1


def test_a_missing_robots_txt_allows_everything_and_is_fetched_once(http_server: FixtureServer) -> None:
    http_server.route("/a", body="a")
    http_server.route("/b", body="b")
    with Fetcher(http_settings()) as fetcher:
        fetcher.get(http_server.url("/a"))
        fetcher.get(http_server.url("/b"))
    assert [r.path for r in http_server.requests] == ["/robots.txt", "/a", "/b"]


def test_an_unavailable_robots_txt_allows_nothing(http_server: FixtureServer) -> None:
    http_server.route("/robots.txt", status=503)
    http_server.route("/a", body="a")
    with Fetcher(http_settings(retries=0)) as fetcher, pytest.raises(RobotsDisallowedError) as caught:
        fetcher.get(http_server.url("/a"))
    assert "robots.txt unavailable (HTTP 503)" in str(caught.value)
    assert http_server.requests_for("/a") == []


def test_a_source_may_ignore_robots_txt(http_server: FixtureServer) -> None:
    http_server.route("/robots.txt", body="User-agent: *\nDisallow: /\n")
    http_server.route("/a", body="a")
    with Fetcher(http_settings(), obey_robots=False) as fetcher:
        assert fetcher.get(http_server.url("/a")).content == b"a"
        assert fetcher.log[-1].robots == "not checked"
    assert http_server.requests_for("/robots.txt") == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "javascript:alert(1)", "http:///x"])
def test_a_non_http_url_is_refused_without_any_request(http_server: FixtureServer, url: str) -> None:
    with Fetcher(http_settings()) as fetcher:
        with pytest.raises(UrlRefusedError) as caught:
            fetcher.get(url)
        assert fetcher.stats().requests == 0
    assert "only http and https" in str(caught.value)
    assert http_server.requests == []


def test_conditional_get_returns_not_modified_for_a_known_etag(http_server: FixtureServer) -> None:
    def answer(request: LoggedRequest) -> Reply:
        if request.header("If-None-Match") == '"v7"':
            return Reply(status=304, headers={"ETag": '"v7"'})
        return Reply(body=b"catalogue", headers={"ETag": '"v7"', "Last-Modified": "Mon, 06 Jan 2025 08:00:00 GMT"})

    http_server.route("/catalogue.json", responder=answer)
    with Fetcher(http_settings(), obey_robots=False) as fetcher:
        first = fetcher.get(http_server.url("/catalogue.json"))
        second = fetcher.get(http_server.url("/catalogue.json"), etag=first.etag, last_modified=first.last_modified)
    assert (first.status, first.not_modified, first.content) == (200, False, b"catalogue")
    assert (second.status, second.not_modified, second.content) == (304, True, b"")
    sent = http_server.requests_for("/catalogue.json")[1]
    assert sent.header("If-Modified-Since") == "Mon, 06 Jan 2025 08:00:00 GMT"


def test_requests_to_one_host_are_spaced_by_the_delay(http_server: FixtureServer) -> None:
    http_server.route("/a", body="a")
    sleep = RecordingSleep()
    with Fetcher(http_settings(), obey_robots=False, delay_seconds=2.0, sleep=sleep) as fetcher:
        fetcher.get(http_server.url("/a"))
        fetcher.get(http_server.url("/a"))
    assert len(sleep.calls) == 1
    assert 1.0 < sleep.calls[0] <= 2.0


def test_a_crawl_delay_in_robots_txt_lengthens_the_delay(http_server: FixtureServer) -> None:
    http_server.route("/robots.txt", body="User-agent: *\nCrawl-delay: 5\nAllow: /\n")
    http_server.route("/a", body="a")
    sleep = RecordingSleep()
    with Fetcher(http_settings(delay_seconds=0), sleep=sleep) as fetcher:
        fetcher.get(http_server.url("/a"))
        fetcher.get(http_server.url("/a"))
    assert [round(s) for s in sleep.calls] == [
        5,
        5,
    ]  # before the first page (after robots.txt) and the second


def test_the_request_log_feeds_run_statistics(http_server: FixtureServer) -> None:
    http_server.route("/a", body=b"12345")
    http_server.route("/gone", status=410)
    with Fetcher(http_settings(), obey_robots=False) as fetcher:
        fetcher.get(http_server.url("/a"))
        with pytest.raises(FetchError):
            fetcher.get(http_server.url("/gone"))
        stats = fetcher.stats().to_dict()
    assert stats == {"requests": 2, "bytes": 5, "errors_by_status": {"410": 1}}


def test_retry_after_parsing_reads_seconds_and_dates() -> None:
    now = datetime(2025, 1, 6, 8, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("120", now=now) == 120.0
    assert retry_after_seconds("Mon, 06 Jan 2025 08:01:30 GMT", now=now) == 90.0
    assert retry_after_seconds("Mon, 06 Jan 2025 07:00:00 GMT", now=now) == 0.0
    assert retry_after_seconds("soon", now=now) is None


def test_an_unreachable_host_is_reported_as_unreachable_not_as_a_robots_refusal() -> None:
    with FixtureServer() as closed:
        url = closed.url("/courses")
    with Fetcher(http_settings(retries=0)) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.get(url)
    assert not isinstance(caught.value, RobotsDisallowedError)
    assert caught.value.url.endswith("/robots.txt") and caught.value.status is None
    assert "ConnectionError" in str(caught.value)
