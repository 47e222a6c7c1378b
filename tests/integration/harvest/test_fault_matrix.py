"""The fault matrix: every source kind against every way its listing breaks, by the one run rule.

Each cell starts from a catalogue of six courses a healthy run harvested (one harvest per kind, its data directory
copied per cell), meets one fault on a local server (run 2), then finds the site whole again (run 3). The rule:
- a listing that ended in an error (5xx, 503 with Retry-After, a timeout, a body short of its Content-Length, a
  redirect loop, a document cut off) is incomplete: the run fails, its error names the cause and the page, nothing
  is withdrawn or counted missed; a feed cut off is parsed as far as it goes, so that run is partial instead, the
  report's `incomplete` saying why;
- a listing that went empty where there were records is held whole for an admin (an OAI-PMH harvest after the
  first asks only for changes since `from`, and no changes is a right answer: it succeeds);
- bad records are rejected with their reasons and the run still completes: partial, nothing withdrawn;
- a detail page that fails leaves a hole: its item is rejected with the cause, the run is partial, nothing goes;
- after the fault the next run finds the catalogue whole, succeeds, and any hold it made is closed.
Sources withdraw after one missed complete listing whatever the share (tests/support/faults.py), so a broken
listing taken for a complete one would withdraw at once.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from crawlers.run import RunReport
from indexer.backends.base import SearchQuery
from tests.support.faults import (
    FAULTS,
    HTTP_FAULTS,
    RETRY_AFTER_SECONDS,
    SITES,
    TIMEOUT_SECONDS,
    Fault,
    FaultySite,
    HtmlSite,
    SitemapSite,
    fault_http,
)
from tests.support.harvest_state import Harness
from tests.support.http_server import FixtureServer

COURSES = 6
CAUSES: dict[Fault, str] = {  # what a run's error says of each fault, whichever engine fetched the page
    "http_500": "HTTP 500",
    "http_503_retry_after": "HTTP 503",
    "timeout": f"timed out after {TIMEOUT_SECONDS:g} s",
    "truncated": "truncated",
    "redirect_loop": "redirect loop",
}
# A body cut off without a Content-Length to tell: what each kind's parser says of the half document it got.
CUT_OFF_CAUSES: dict[str, str] = {
    "json_api": "not valid JSON",
    "rss": "the feed is not well-formed",  # parsed as far as it went: a partial run, its listing incomplete
    "static_catalog": "not valid JSON",
    "oai_pmh": "not well-formed XML",
    "sitemap": "malformed sitemap XML",
    "html": "the list page ends before </html>",
}


@dataclass(frozen=True)
class Harvested:
    """A kind's site and the data directory of its first, healthy harvest."""

    site: FaultySite
    data: Path
    uids: frozenset[str]


class Catalogues:
    """One server and one healthy harvest per kind, made the first time a cell of that kind asks."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.harvested: dict[str, Harvested] = {}
        self.servers: list[FixtureServer] = []

    def get(self, kind: str) -> Harvested:
        if kind not in self.harvested:
            server = FixtureServer().start()
            self.servers.append(server)
            site = SITES[kind](server)
            site.heal()
            data = self.root / kind
            with matrix_harness(data) as harness:
                first = harness.run(site.config())
                assert (first.status, first.new, first.complete) == ("succeeded", COURSES, True), first.to_dict()
                uids = frozenset(harness.index_hashes(first.source_id))
            self.harvested[kind] = Harvested(site, data, uids)
        return self.harvested[kind]

    def close(self) -> None:
        for server in self.servers:
            server.close()


@contextmanager
def matrix_harness(data: Path) -> Iterator[Harness]:
    with Harness.open(data) as harness:
        harness.settings = harness.settings.model_copy(update={"http": fault_http()})
        yield harness


@pytest.fixture(scope="module")
def catalogues(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalogues]:
    opened = Catalogues(tmp_path_factory.mktemp("healthy"))
    try:
        yield opened
    finally:
        opened.close()


@contextmanager
def cell(catalogues: Catalogues, kind: str, tmp_path: Path) -> Iterator[tuple[Harvested, Harness]]:
    """A copy of the kind's healthy catalogue to break and heal."""
    start = catalogues.get(kind)
    shutil.copytree(start.data, tmp_path / "data")
    with matrix_harness(tmp_path / "data") as harness:
        yield start, harness


def assert_every_record_stays(harness: Harness, start: Harvested) -> None:
    """Every record of the healthy harvest is live in the index and the state, and found by get and search."""
    source = start.site.config()
    assert set(harness.index_hashes(source.id)) == start.uids
    harness.assert_consistent(source.id)
    assert all(harness.backend.get(uid) is not None for uid in start.uids)
    found = harness.backend.search(SearchQuery(platforms=(source.platform,), size=50, with_facets=False))
    assert found.total == COURSES


def assert_healed(harness: Harness, start: Harvested) -> None:
    """Run 3 on the whole site again: it succeeds, withdraws nothing, and no hold waits for an admin."""
    start.site.heal()
    healed = harness.run(start.site.config())
    assert (healed.status, healed.error, healed.withdrawn, healed.held, healed.rejected) == (
        "succeeded", None, 0, None, 0), healed.to_dict()  # fmt: skip
    assert_every_record_stays(harness, start)
    assert set(harness.missed(healed.source_id).values()) == {0}
    assert harness.store.holds.find(source_id=healed.source_id, status="pending") == []


def assert_failed_by(report: RunReport, *, cause: str, page: str) -> None:
    assert (report.status, report.complete, report.withdrawn, report.held) == ("failed", False, 0, None)
    assert report.error is not None, report.to_dict()
    assert cause in report.error.message and page in report.error.message, report.error


def assert_incomplete(report: RunReport, *, cause: str) -> None:
    assert (report.status, report.error, report.complete, report.withdrawn, report.held) == (
        "partial", None, False, 0, None), report.to_dict()  # fmt: skip
    assert report.incomplete is not None and cause in report.incomplete


def assert_waited_as_asked(server: FixtureServer, site: FaultySite, *, since: int) -> None:
    """The page answering 503 was asked twice (one retry), the retry after the Retry-After it gave."""
    asked = [r for r in server.requests[since:] if r.path == site.target.path
             and all(r.query.get(k) == v for k, v in site.target.query.items())]  # fmt: skip
    assert len(asked) == 2
    assert asked[1].received_at - asked[0].received_at >= RETRY_AFTER_SECONDS * 0.9


def assert_held_whole(harness: Harness, report: RunReport, start: Harvested) -> None:
    assert (report.status, report.error, report.withdrawn, report.complete) == ("held", None, 0, True)
    assert report.held is not None and report.held.reason == f"the source listed no records; it had {COURSES}"
    hold = harness.store.holds.get(report.held.hold_id)
    assert (hold.status, set(hold.uids)) == ("pending", set(start.uids))


def assert_rejected(report: RunReport, reasons: tuple[str, ...]) -> None:
    assert (report.status, report.error, report.complete, report.withdrawn, report.held) == (
        "partial", None, True, 0, None), report.to_dict()  # fmt: skip
    assert report.rejected == len(reasons)
    matched = sorted(want for got in report.rejections for want in set(reasons) if want in got.reason)
    assert matched == sorted(reasons), report.rejections


def assert_the_rule_holds(broken: RunReport, *, fault: Fault, harness: Harness, start: Harvested, since: int) -> None:
    """Run 2 met `fault`: its status and message are the rule's, and it withdrew nothing."""
    site, kind = start.site, start.site.kind
    if fault in HTTP_FAULTS:
        assert_failed_by(broken, cause=CAUSES[fault], page=site.target.path)
        if fault == "http_503_retry_after":
            assert_waited_as_asked(site.server, site, since=since)
    elif fault == "cut_off" and kind == "rss":
        assert_incomplete(broken, cause=CUT_OFF_CAUSES[kind])
    elif fault == "cut_off":
        assert_failed_by(broken, cause=CUT_OFF_CAUSES[kind], page=site.target.path)
    elif fault == "empty_listing" and kind == "oai_pmh":  # nothing changed since `from`: a right answer
        assert (broken.status, broken.scope, broken.withdrawn, broken.held) == ("succeeded", "incremental", 0, None)
    elif fault == "empty_listing":
        assert_held_whole(harness, broken, start)
    else:
        assert_rejected(broken, site.rejection_reasons)
    if fault != "empty_listing":  # a held listing counted every record missed once; nothing else may
        assert set(harness.missed(broken.source_id).values()) == {0}
    assert_every_record_stays(harness, start)


CELLS = [(kind, fault) for kind in SITES for fault in FAULTS]


@pytest.mark.parametrize(("kind", "fault"), CELLS, ids=[f"{kind}-{fault}" for kind, fault in CELLS])
def test_a_broken_listing_withdraws_nothing_says_why_and_the_next_run_finds_it_whole(
    catalogues: Catalogues, tmp_path: Path, kind: str, fault: Fault
) -> None:
    with cell(catalogues, kind, tmp_path) as (start, harness):
        start.site.break_with(fault)
        asked_before = len(start.site.server.requests)
        broken = harness.run(start.site.config())
        assert_the_rule_holds(broken, fault=fault, harness=harness, start=start, since=asked_before)
        assert_healed(harness, start)


@pytest.mark.parametrize("kind", [SitemapSite.kind, HtmlSite.kind])
def test_detail_pages_that_fail_are_holes_a_partial_run_reports_page_by_page(
    catalogues: Catalogues, tmp_path: Path, kind: str
) -> None:
    with cell(catalogues, kind, tmp_path) as (start, harness):
        site = start.site
        assert isinstance(site, SitemapSite | HtmlSite)
        site.break_details(HTTP_FAULTS)
        broken = harness.run(site.config())
        assert (broken.status, broken.error, broken.scope, broken.withdrawn, broken.held) == (
            "partial", None, "incremental", 0, None), broken.to_dict()  # fmt: skip
        assert broken.rejected == len(HTTP_FAULTS)
        for target, fault in zip(site.detail_targets, HTTP_FAULTS, strict=True):
            said = [r.reason for r in broken.rejections if target.path in r.reason]
            assert len(said) == 1 and CAUSES[fault] in said[0], broken.rejections
        assert any("5 pages could not be harvested" in note for note in broken.notes)
        assert_every_record_stays(harness, start)
        assert_healed(harness, start)
