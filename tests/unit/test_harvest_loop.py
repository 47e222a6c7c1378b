"""The one item loop runs and previews consume: order, rejections, duplicates, the limit, a failing source."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from config import load_themes
from config.source_models import RssSourceConfig
from crawlers.errors import FetchError
from crawlers.harvest_loop import DUPLICATE_REASON, Built, HarvestLoop, Rejection
from crawlers.kinds.base import ItemProblem, Source
from indexer.pipeline import RecordBuilder
from indexer.record import RawRecord

CONFIG = RssSourceConfig.model_validate({
    "id": "shequ_rss", "name": "社区教育网推荐", "platform": "shequ", "platform_name": "中国社区教育网",
    "kind": "rss", "url": "https://zy.shequ.edu.cn/rss.xml",
})  # fmt: skip


class ScriptedSource(Source):
    """A source that yields a script: a RawRecord is yielded, an ItemProblem reported, an exception raised."""

    kind = "scripted"

    def __init__(self, script: list[Any]) -> None:
        super().__init__(CONFIG, fetcher=None)  # type: ignore[arg-type]  # it fetches nothing
        self.script = script
        self.closed = False

    def iter_records(self) -> Iterator[RawRecord]:
        try:
            for step in self.script:
                if isinstance(step, ItemProblem):
                    self.problems.append(step)
                elif isinstance(step, Exception):
                    raise step
                else:
                    yield step
        finally:
            self.closed = True


def item(source_id: str, title: str | None = "长者太极入门") -> RawRecord:
    fields = {"url": f"https://zy.shequ.edu.cn/c/{source_id}"} | ({"title": title} if title else {})
    return RawRecord(source_id=source_id, fields=fields, payload={"id": source_id})


@pytest.fixture(scope="module")
def builder() -> RecordBuilder:
    return RecordBuilder(load_themes())


def kinds(items: list[Any]) -> list[tuple[str, str | None]]:
    return [(type(i).__name__, i.record.source_id if isinstance(i, Built) else i.platform_id) for i in items]


def test_items_come_in_source_order_with_problems_before_the_next_record(builder: RecordBuilder) -> None:
    source = ScriptedSource([item("a"), ItemProblem("not an object but list", "p1", [1]), item("b")])
    loop = HarvestLoop(harvested=source, source=CONFIG, builder=builder)
    items = list(loop)
    assert kinds(items) == [("Built", "a"), ("Rejection", "p1"), ("Built", "b")]
    assert items[1] == Rejection("problem", "p1", "not an object but list", [1])
    assert loop.fetched == 3 and not loop.cut and loop.seen == {"shequ_rss:a", "shequ_rss:b"} and source.closed


def test_an_invalid_item_and_a_second_item_with_an_id_are_rejected_with_their_payload(builder: RecordBuilder) -> None:
    source = ScriptedSource([item("a"), item("nt", title=None), item("a", title="另一门课")])
    rejected = [i for i in HarvestLoop(harvested=source, source=CONFIG, builder=builder) if isinstance(i, Rejection)]
    assert [(r.kind, r.platform_id, r.field) for r in rejected] == [
        ("invalid", "nt", "title"), ("duplicate", "a", None),
    ]  # fmt: skip
    assert rejected[0].reason.startswith("title: ") and rejected[1].reason == DUPLICATE_REASON
    assert rejected[1].payload == {"id": "a"}


def test_the_limit_counts_every_item_and_closes_the_source(builder: RecordBuilder) -> None:
    source = ScriptedSource([ItemProblem("bad", "p1"), item("a"), item("b"), item("c")])
    loop = HarvestLoop(harvested=source, source=CONFIG, builder=builder, limit=2)
    assert kinds(list(loop)) == [("Rejection", "p1"), ("Built", "a")]
    assert loop.cut and loop.fetched == 2 and source.closed


def test_after_a_failure_the_problems_reported_before_it_are_still_given(builder: RecordBuilder) -> None:
    source = ScriptedSource([item("a"), ItemProblem("bad", "p1"), FetchError("https://x/2", cause="HTTP 503")])
    loop = HarvestLoop(harvested=source, source=CONFIG, builder=builder)
    taken = []
    with pytest.raises(FetchError):
        for each in loop:
            taken.append(each)
    assert kinds(taken) == [("Built", "a")]
    assert kinds(list(loop.reported())) == [("Rejection", "p1")] and loop.fetched == 2
    assert list(loop.reported()) == []
