"""How platforms wrap, split and annotate one course: wrappers and teacher titles still link, while a Q&A session,
a single lecture or another volume never joins the course it belongs to."""

from __future__ import annotations

import pytest

from indexer.linkage import cluster, compare, person_name, profile_of
from indexer.linkage.clusters import candidate_pairs
from indexer.linkage.titles import unwrapped
from tests.unit.test_linkage_matcher import course

GARDEN = ["认识土壤", "播种与育苗", "浇水的学问", "施肥与堆肥", "病虫害防治", "阳台蔬菜的收获"]
GARDEN_TEXT = "在阳台上种出一盆好菜，从选土到收获一步步来。老师带着大家边做边学，工具都是家里现成的。"
GARDEN_REWRITTEN = "家里工具就够用，老师手把手示范怎样操作。想在阳台上收获自己种的蔬菜，从配土讲到采摘。"


TEACHERS = {
    "孙立平高级讲师": "孙立平",
    "孙立平 副研究员": "孙立平",
    "主讲：孙立平主任医师": "孙立平",
    "孙立平（高级工程师）": "孙立平",
    "孙立平国家一级演员": "孙立平",
    "何静特级教师": "何静",
    "欧阳文秀正高级教师": "欧阳文秀",
    "何静国家二级心理咨询师": "何静",
    "王建家老师": "王建家",  # a listed title wins over a word that only ends like one (家老师)
    "何海生": "何海生",  # a bare name keeps every character
    # a title no list holds, where the segmenter ends the name: not 何静中 of 何静中医师, nor 白玉 of 白玉琴中医师
    "何静中医师": "何静",
    "白玉琴中医师": "白玉琴",
    "白玉琴高级讲师": "白玉琴",
    "孙立平研究馆员": "孙立平",
    "何静社会体育指导员": "何静",
    "孙立平非物质文化遗产代表性传承人": "孙立平",
    "何静健身教练": "何静",
    "孙立平主持人": "孙立平",
    "何静副主任医师": "何静",  # a listed title takes its rank along: not 何静副
    "孙立平博导": "孙立平",
    "孙立平 一级演员": "孙立平",  # parts: the one that is a name
    "一级演员，孙立平": "孙立平",
    "副教授孙立平": "孙立平",  # a title before the name
    "国家一级演员何静": "何静",
}


def test_a_teachers_name_loses_any_title_or_rank() -> None:
    assert {written: person_name(written) for written in TEACHERS} == TEACHERS


LISTINGS = {
    "直播回放：阳台种菜": "阳台种菜",
    "宜昌市老年大学2025秋季班 · 阳台种菜": "阳台种菜",
    "襄阳市社区学院精品课：阳台种菜": "阳台种菜",
    "录播回放｜阳台种菜": "阳台种菜",
    "阳台种菜·系列微课": "阳台种菜",
    "阳台种菜系列讲座": "阳台种菜",
    "阳台种菜 全套教程": "阳台种菜",
    "阳台种菜——宜昌市老年大学": "阳台种菜",
    "阳台种菜：从配土到采摘": "阳台种菜：从配土到采摘",  # a subtitle is the course's own
    "园艺课堂·下册": "园艺课堂·下册",  # 下册 alone names no course; a 课堂 is a course, not a lister
}


def test_a_listing_label_around_a_title_is_not_part_of_it() -> None:
    assert {listed: unwrapped(listed) for listed in LISTINGS} == LISTINGS


WRAPPED = {
    "replay_label": ("直播课回放｜阳台种菜", {"teachers": ["孙立平"]}),
    "city_term_retitle": ("宜昌市老年大学2025秋季班 · 阳台种菜", {"teachers": ["孙立平"]}),
    "series_packaging": ("阳台种菜系列讲座", {"teachers": ["孙立平"]}),
    "packaging_after_a_separator": ("阳台种菜·系列微课", {"teachers": ["孙立平"]}),
    "teacher_with_a_rank": ("阳台种菜", {"teachers": ["孙立平高级讲师"]}),
    "teacher_in_prose": ("阳台种菜", {"description": GARDEN_TEXT + "本课由孙立平老师主讲。"}),
    "teacher_in_prose_without_colon": ("阳台种菜", {"description": "主讲人孙立平，来自宜昌市老年大学。" + GARDEN_TEXT}),
    "paraphrased_text_teacher_in_prose": ("阳台种菜", {"description": GARDEN_REWRITTEN + "本课由孙立平老师主讲。"}),
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(WRAPPED))
def test_a_wrapped_or_annotated_listing_links_to_its_course(kind: str) -> None:
    original = course("a:1", "阳台种菜", teachers=["孙立平"], lessons=GARDEN, description=GARDEN_TEXT)
    title, fields = WRAPPED[kind]
    listed = course("b:1", title, **fields)
    profiles = [profile_of(original), profile_of(listed)]
    assert candidate_pairs(profiles) == {(0, 1)}
    verdict = compare(*profiles)
    assert verdict.same, verdict.veto
    assert "同一主讲 孙立平" in verdict.evidence


APART = {
    "live_qa_session": ("阳台种菜直播答疑", "课程与答疑/导学等场次不同"),
    "qa_session_replayed": ("阳台种菜答疑【回放】", "课程与答疑/导学等场次不同"),
    "orientation_session": ("阳台种菜导学课", "课程与答疑/导学等场次不同"),
    "trailer": ("阳台种菜（预告）", "课程与答疑/导学等场次不同"),
    "one_lecture": ("阳台种菜（第2课）", "单讲与整门课/讲次不同"),
}


@pytest.mark.parametrize("kind", sorted(APART))
def test_a_session_or_a_single_lecture_is_never_its_course(kind: str) -> None:
    title, veto = APART[kind]
    whole = course("a:1", "阳台种菜", teachers=["孙立平"], provider="宜昌市老年大学", description=GARDEN_TEXT)
    part = course("b:1", title, teachers=["孙立平讲师"], provider="宜昌市老年大学", description=GARDEN_TEXT)
    verdict = compare(profile_of(whole), profile_of(part))
    assert not verdict.same and verdict.veto == veto


def test_two_lectures_of_one_course_stay_apart_and_one_lecture_links_across_numbering() -> None:
    first = course("a:1", "阳台种菜 第1讲", teachers=["孙立平"], description=GARDEN_TEXT)
    second = course("a:2", "阳台种菜 第2讲", teachers=["孙立平"], description=GARDEN_TEXT)
    first_elsewhere = course("b:1", "阳台种菜（一）", teachers=["孙立平老师"], description=GARDEN_TEXT)
    assert compare(profile_of(first), profile_of(second)).veto == "单讲与整门课/讲次不同"
    assert compare(profile_of(first), profile_of(first_elsewhere)).same
    links = cluster([profile_of(r) for r in (first, second, first_elsewhere)])
    assert links["a:1"] is not None and links["a:1"] == links["b:1"]
    assert links["a:2"] is None


def test_volumes_differ_whatever_follows_the_volume() -> None:
    upper = course("a:1", "园艺基础知识·上册（共5讲）", teachers=["孙立平"])
    lower = course("b:1", "园艺基础知识·下册", teachers=["孙立平"])
    assert compare(profile_of(upper), profile_of(lower)).veto == "上下册/分册不同"


def test_a_session_between_a_course_and_its_replay_never_chains_them_together() -> None:
    records = [
        course("a:1", "阳台种菜", teachers=["孙立平"], provider="宜昌市老年大学"),
        course("b:1", "阳台种菜直播答疑", teachers=["孙立平"], provider="宜昌市老年大学"),
        course("c:1", "直播课回放｜阳台种菜", teachers=["孙立平副教授"], provider="宜昌市老年大学"),
    ]
    links = cluster([profile_of(r) for r in records])
    assert links["a:1"] is not None and links["a:1"] == links["c:1"]
    assert links["b:1"] is None
