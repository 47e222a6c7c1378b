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
    # a place alone before a colon: a dateline
    "西安碑林：书法爱好者的社区雅集",
    "兰州城关：“银发课堂”开到养老院",
    "幸福里社区：老人们的太极晨练",
    "杭州西湖区：百名老人同唱一首歌",
    "大连甘井子：剪纸课上的欢声笑语",
    # taking part, winning, brought somewhere, ceremonies, notices, cries, counts, profiles, genres, dates
    "上城区老年学员参加全市书法比赛",
    "我校学员在省老年书画大赛中获一等奖",
    "雁塔区社区学院获评省级示范社区学校",
    "智能手机培训进社区",
    "“书法进社区”活动走进南山",
    "送课下乡 把课堂搬到田间地头",
    "市北区老年大学2025年春季开学典礼",
    "书画展开幕",
    "老年大学太极拳班正式开班",
    "2025年秋季学期招生简章",
    "太极拳公益课报名啦",
    "社区剪纸课火了",
    "200余名老年学员参加健步走活动",
    "八旬老人的书法情缘——记鼓楼社区学员李大爷",
    "老年大学摄影班采风活动侧记",
    "3月15日，朝阳社区开展消费维权宣传",
    "鼓楼社区老人们爱上太极拳",
    "合唱丰富老人晚年生活",
    "在鼓楼，老人们的书法课",
    "谁说老人学不会智能手机",
    "“活到老，学到老”——鼓楼社区的书法班",
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
    # a colon after something other than a place alone, or before what ends as a course's title does
    "太极拳：二十四式入门",
    "乐享课堂：太极拳入门",
    "绵阳市社区学院精品课：生命末期的照护提高班",
    "北京：一座城市的历史",
    "杭州：西湖文化",
    "社区：老年学习共同体建设",
    "国画：花鸟画基础",
    # the words of a report inside a course's title
    "非遗进校园案例研究",
    "比赛规则讲解：门球",
    "老年人才艺大赛作品赏析",
    "历届获奖作品赏析",
    "参加比赛的心理准备",
    "百名老党员讲百年党史",
    "爱上摄影：手机拍照入门",
    "玩转智能手机",
    "丰富多彩的老年生活",
    "西安碑林书法艺术",
    "让孩子爱上阅读",
    "课堂：记忆力训练",
    "最受欢迎的十道家常菜",
    "“互联网+”老年教育",
    "在家学太极拳",
    "“银龄课堂”：太极拳入门",
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


REPORTS = [
    "近日，鼓楼社区学习点的剪纸学习班迎来了新学员。学员们表示收获很大。",
    "3月20日上午，市老年大学春季学期开学。",
    "活动中，老师为大家示范了太极拳的基本动作，现场气氛热烈。",
    "据悉，此次活动共吸引了200余名居民参加。",
    "记者从区老年大学了解到，今年秋季共开设32个班级。",
]
COURSE_TEXTS = [
    "本课程从握笔姿势讲起，学习书法楷书的基本笔画。",
    "课程介绍：近年来，电信诈骗手段不断翻新，本课带您识别常见骗局。",
    "学习剪纸的基本技法，适合零基础学员。",
    "如何策划一场社区活动：从目标、预算到活动现场的组织。",
]


@pytest.mark.parametrize("text", REPORTS)
def test_a_record_whose_description_reads_as_a_report_is_news_whatever_its_title(text: str) -> None:
    assert reads_as_news(course("a:1", "剪纸学习班", description=text))
    assert not reads_as_news(course("a:2", "剪纸学习班", description=text, teachers=["王丽萍"]))


@pytest.mark.parametrize("text", COURSE_TEXTS)
def test_a_courses_description_is_no_report(text: str) -> None:
    assert not reads_as_news(course("a:1", "剪纸学习班", description=text))
