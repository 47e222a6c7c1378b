"""Contract: on a page, the courses come before a news story holding the same words.

A community site's feed carries its news beside its courses: 「涧西老年大学模特班结业汇报」 says 模特 in a short title
and again and again in its text, so bm25 scores it above every course; a learner searching 模特 wants the courses
(indexer.news). On every backend the page shows the courses first and the story after them; a story holding more of
the words than a course stays before it, a course's title that only uses a news word (社区活动如何开展) is a
course, and pages by number and by cursor still show each record once.
"""

from __future__ import annotations

import pytest
from contract_corpus import ids_by_cursor, ids_page_by_page, make_record, source_ids

from indexer.backends.base import IndexBackend, SearchQuery
from indexer.record import Person

LEISURE = ["闲暇生活"]
STORY = make_record(
    "nm0",
    "涧西老年大学模特班结业汇报",
    platform="le_ouchn",
    themes=LEISURE,
    description="模特班学员登台走秀，模特队员展示旗袍，模特班老师点评。" * 3,
)
"""A news story: no teacher, no lessons, 模特 in a short title and many times in its text."""
COURSES = [
    make_record(
        f"nc{n}",
        title,
        platform=("le_ouchn", "smartedu", "lndx")[n % 3],
        themes=LEISURE,
        instructors=[Person(name=teacher)],
        description="本课程从站姿、台步讲起，循序渐进，适合零基础的中老年朋友，最后一课学习模特的仪态。",
    )
    for n, (title, teacher) in enumerate(
        [("中老年模特形体训练", "王丽萍"), ("时装表演与模特台步", "李建国"), ("旗袍秀与模特礼仪", "陈丽华")]
    )
]
"""Courses saying 模特 once in a longer title and once in a long text: bm25 scores each below STORY."""
HOW_TO = make_record(
    "nh0",
    "社区模特队活动如何开展",
    platform="le_ouchn",
    themes=LEISURE,
    description="组织社区队伍排练和演出的方法，写给热心的组织者。",
)
"""A course without a teacher whose title uses 开展: not a headline (no one named holds an event)."""


@pytest.fixture
def catalogue(loaded: IndexBackend) -> IndexBackend:
    loaded.upsert([STORY, *COURSES, HOW_TO])
    return loaded


def test_the_story_scores_highest_but_stands_after_the_courses(catalogue: IndexBackend) -> None:
    hits = catalogue.search(SearchQuery(q="模特", size=10)).hits
    best = max(hits, key=lambda hit: hit.score)
    assert best.record.source_id == STORY.source_id  # the engine's own order would show it first
    assert hits[-1].record.source_id == STORY.source_id


def test_a_story_holding_more_of_the_words_stays_first(catalogue: IndexBackend) -> None:
    found = source_ids(catalogue.search(SearchQuery(q="模特 走秀", size=10)).hits)
    assert found[0] == STORY.source_id  # only it holds 走秀 in full; the courses lack a word


def test_the_courses_come_before_the_story(catalogue: IndexBackend) -> None:
    result = catalogue.search(SearchQuery(q="模特", size=10))
    found = source_ids(result.hits)
    assert set(found) == {STORY.source_id, HOW_TO.source_id, *(c.source_id for c in COURSES)}
    assert found[-1] == STORY.source_id
    assert found.index(HOW_TO.source_id) < found.index(STORY.source_id)


def test_every_record_shows_once_by_number_and_by_cursor(catalogue: IndexBackend) -> None:
    everyone = {STORY.source_id, HOW_TO.source_id, *(c.source_id for c in COURSES)}
    for size in (1, 2, 3):
        by_number = ids_page_by_page(catalogue, "模特", size=size, pages=len(everyone) // size + 1)
        by_cursor = ids_by_cursor(catalogue, "模特", size=size)
        assert sorted(by_number) == sorted(everyone), size
        assert by_cursor == by_number, size
