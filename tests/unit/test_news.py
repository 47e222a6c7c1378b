"""Which records read as news stories (indexer.news): headlines of events, openings and closings, visits and
reports, on records that teach nothing of their own; a course's title using the same words is a course."""

from __future__ import annotations

import pytest

from indexer.news import headline, reads_as_news
from indexer.record import Lesson
from tests.unit.test_linkage_matcher import course

HEADLINES = [
    "甘井子街道举办金融知识公益讲座",
    "涧西老年大学模特班结业汇报",
    "邗江社区越剧兴趣小组成立",
    "上城老年学员的剪纸作品展",
    "市老年大学召开2025年秋季开学工作会议",
    "喜报！我校合唱团荣获省老年合唱节金奖",
    "“智慧助老”志愿服务走进幸福里社区",
    "区社区学院举行书法作品展开幕式",
    "我区老年教育工作会议顺利召开",
    "朝阳街道老年大学开班啦",
    "老年开放大学揭牌仪式隆重举行",
    "鼓樓社區書法興趣小組成立",  # as a traditional-character site writes it
]
COURSES = [
    "如何开展社区教育",
    "社区模特队活动如何开展",
    "社区活动策划与组织",
    "中老年模特形体训练",
    "书法作品赏析",
    "老年大学开学第一课：防诈骗",
    "走进中医",
    "走进古典音乐",
    "结业考试复习指南",
    "学习强国使用指南",
    "社区志愿服务站建设",
    "举办一场家庭音乐会",
    "老年合唱团排练技巧",
    "摄影作品后期修图",
]


@pytest.mark.parametrize("title", HEADLINES)
def test_a_headline_reads_as_news(title: str) -> None:
    assert headline(title)


@pytest.mark.parametrize("title", COURSES)
def test_a_courses_title_using_a_news_word_is_no_headline(title: str) -> None:
    assert not headline(title)


def test_a_record_with_a_teacher_or_lessons_is_never_news() -> None:
    title = "涧西老年大学模特班结业汇报"
    assert reads_as_news(course("a:1", title))
    assert not reads_as_news(course("a:2", title, teachers=["王丽萍"]))
    taught = course("a:3", title).model_copy(update={"lessons": [Lesson(id="1", title="台步", order=1)]})
    assert not reads_as_news(taught)
    assert not reads_as_news(course("a:4", title).model_copy(update={"lesson_count": 6}))
