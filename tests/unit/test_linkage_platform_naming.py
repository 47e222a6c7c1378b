"""How Chinese lifelong-learning platforms name one course and the courses of one line: a channel's or a city
learning site's label, an episode count, a copy's form, a teacher named only in the text and traditional characters
still link; every way of numbering or naming the parts of a line (第1期 / 二期, 理论篇 / 实操篇, 单元一, 一年级 ...)
keeps two courses apart, and the same part written two ways is one."""

from __future__ import annotations

import opencc
import pytest

from indexer.analysis import fold
from indexer.linkage import cluster, compare, profile_of
from indexer.linkage.clusters import candidate_pairs
from indexer.linkage.markers import title_markers
from indexer.linkage.names import name_in_text
from indexer.linkage.titles import unwrapped
from indexer.record import Record
from tests.unit.test_linkage_matcher import course

SAX = ["认识萨克斯", "持管与口型", "长音练习", "音阶练习", "简单乐曲", "综合演奏"]
SAX_TEXT = "从认识乐器开始，一步步学会演奏简单乐曲。课程节奏舒缓，适合中老年朋友。"
_TRADITIONAL = opencc.OpenCC("s2tw")


def _traditional(text: str) -> str:
    return str(_TRADITIONAL.convert(text))


# --- a course line's parts: a differing marker vetoes, however it is written ---

SIBLINGS = [
    ("萨克斯演奏理论篇", "萨克斯演奏实操篇"),
    ("萨克斯演奏（理论篇）", "萨克斯演奏（实践篇）"),
    ("萨克斯演奏·楷模篇", "萨克斯演奏·名曲篇"),
    ("萨克斯演奏理论", "萨克斯演奏实操"),
    ("萨克斯演奏上篇", "萨克斯演奏下篇"),
    ("萨克斯演奏·中篇", "萨克斯演奏·下篇"),
    ("萨克斯演奏基础篇", "萨克斯演奏提高篇"),
    ("萨克斯演奏第1期", "萨克斯演奏第2期"),
    ("萨克斯演奏（第一期）", "萨克斯演奏（第二期）"),
    ("萨克斯演奏一期", "萨克斯演奏二期"),
    ("萨克斯演奏初级班", "萨克斯演奏中级班"),
    ("萨克斯演奏 第一阶段", "萨克斯演奏 第二阶段"),
    ("萨克斯演奏 阶段一", "萨克斯演奏 阶段二"),
    ("萨克斯演奏 单元1", "萨克斯演奏 单元2"),
    ("萨克斯演奏模块一", "萨克斯演奏模块二"),
    ("萨克斯演奏 第一部分", "萨克斯演奏 第二部分"),
    ("萨克斯演奏 卷一", "萨克斯演奏 卷二"),
    ("萨克斯演奏 第一册", "萨克斯演奏 第二册"),
    ("萨克斯演奏 2023学年", "萨克斯演奏 2024学年"),
    ("萨克斯演奏 第一学年", "萨克斯演奏 第二学年"),
    ("萨克斯演奏一年级", "萨克斯演奏二年级"),
    ("萨克斯考级一级", "萨克斯考级二级"),
    ("萨克斯演奏讲座之一", "萨克斯演奏讲座之二"),
    ("萨克斯演奏 上集", "萨克斯演奏 下集"),
    ("萨克斯演奏 第2版", "萨克斯演奏 第3版"),
    ("萨克斯演奏理論篇", "萨克斯演奏實操篇"),  # as a traditional-character platform writes them
    ("萨克斯演奏春季班", "萨克斯演奏秋季班"),  # a class's terms
    ("萨克斯演奏（春季学期）", "萨克斯演奏（秋季学期）"),
    ("萨克斯演奏暑假班", "萨克斯演奏寒假班"),
]
SAME_PART = [
    ("萨克斯演奏理论篇", "萨克斯演奏（理论篇）"),
    ("萨克斯演奏第1期", "萨克斯演奏（第一期）"),
    ("萨克斯演奏一期", "萨克斯演奏 第1期"),
    ("萨克斯演奏初级班", "萨克斯演奏初级"),
    ("萨克斯演奏模块一", "萨克斯演奏 模块1"),
    ("萨克斯演奏上篇", "萨克斯演奏（上篇）"),
    ("萨克斯演奏理论篇", "薩克斯演奏理論篇"),
]


def _taught(uid: str, title: str, teacher: str = "王丽萍") -> Record:
    return course(uid, title, teachers=[teacher], lessons=SAX, description=SAX_TEXT)


@pytest.mark.parametrize(("a", "b"), SIBLINGS, ids=[f"{a}|{b}" for a, b in SIBLINGS])
def test_two_parts_of_a_course_line_never_merge_however_numbered(a: str, b: str) -> None:
    # the same teacher, lessons and text: only the title's marker tells them apart
    verdict = compare(profile_of(_taught("a:1", a)), profile_of(_taught("b:1", b)))
    assert not verdict.same and verdict.veto


@pytest.mark.parametrize(("a", "b"), SAME_PART, ids=[f"{a}|{b}" for a, b in SAME_PART])
def test_one_part_written_two_ways_is_one_course(a: str, b: str) -> None:
    x, y = profile_of(_taught("a:1", a)), profile_of(_taught("b:1", b))
    assert candidate_pairs([x, y]) == {(0, 1)}
    verdict = compare(x, y)
    assert verdict.same, verdict.veto


def test_arabic_and_chinese_numerals_are_one_number() -> None:
    assert {title_markers(fold(t)).sequence for t in ("第1期", "第一期", "一期", "(第一期)", "第 1 期")} == {("期", 1)}
    assert {title_markers(t).sequence for t in ("第十二单元", "单元12", "第12单元")} == {("单元", 12)}


def test_words_that_only_look_like_markers_are_none() -> None:
    for title in ("唐诗名篇赏析", "长篇小说导读", "期末复习方法", "中医理论基础", "国家二级心理咨询师的工作"):
        markers = title_markers(fold(title))
        assert markers.piece is None, title
    assert title_markers("期间用药").sequence is None


def test_a_chain_through_an_unmarked_listing_never_joins_two_parts() -> None:
    records = [_taught("a:1", "萨克斯演奏理论篇"), _taught("b:1", "萨克斯演奏"), _taught("c:1", "萨克斯演奏实操篇")]
    links = cluster([profile_of(r) for r in records])
    assert links["a:1"] is None or links["c:1"] is None or links["a:1"].cluster_id != links["c:1"].cluster_id


# --- wrappers around a title: a channel, a platform's zone, a city's or province's learning site, an episode or
# lesson count, a copy's form ---

WRAPPERS = {
    "channel": ["健康频道｜萨克斯演奏", "学习强国·文化频道｜萨克斯演奏", "文艺栏目·萨克斯演奏",
                "【乐龄课堂】萨克斯演奏", "空中课堂：萨克斯演奏", "乐龄学堂丨萨克斯演奏", "「银龄课堂」萨克斯演奏",
                "萨克斯演奏｜文化频道", "百家讲坛：萨克斯演奏"],
    "site": ["南京市民学习网｜萨克斯演奏", "萨克斯演奏 - 宁波终身学习网", "萨克斯演奏_长春全民学习网",
             "萨克斯演奏-杭州终身学习网", "杭州学习在线·萨克斯演奏", "朝阳社区大学：萨克斯演奏",
             "上海老年人学习网 萨克斯演奏", "萨克斯演奏 苏州市民学习网", "广州终身学习网萨克斯演奏",
             "萨克斯演奏（南京市民学习网）"],
    "episodes": ["萨克斯演奏（共12集）", "萨克斯演奏 全12集", "萨克斯演奏12集全", "萨克斯演奏 共8讲",
                 "【全10讲】萨克斯演奏", "萨克斯演奏(更新至第5集)", "萨克斯演奏 第1-12集", "萨克斯演奏 12讲",
                 "全十二讲｜萨克斯演奏", "萨克斯演奏（连载中）", "萨克斯演奏（共12课时）", "萨克斯演奏 已更12集",
                 "萨克斯演奏 共6节课", "薩克斯演奏 01-12", "萨克斯演奏 ep01-ep12", "萨克斯演奏（1-12）",
                 "萨克斯演奏 第一集至第十二集"],
    "zone": ["乐龄专区 萨克斯演奏", "萨克斯演奏 [乐龄专区]", "老年学习馆｜萨克斯演奏", "萨克斯演奏-银发专题",
             "养生保健馆·萨克斯演奏", "“智慧助老”专题 萨克斯演奏", "萨克斯演奏（老年教育板块）",
             "老年大学专区/萨克斯演奏", "老年大学专区 萨克斯演奏", "萨克斯演奏 / 终身学习专区",
             "乐龄充电站｜萨克斯演奏", "乐学园地：萨克斯演奏", "萨克斯演奏——银发乐园", "老年之窗：萨克斯演奏",
             "银发族课程｜萨克斯演奏", "乐龄e学堂｜萨克斯演奏", "智慧助老课堂 萨克斯演奏",
             "乐龄专区 > 文艺 > 萨克斯演奏", "萨克斯演奏 #乐龄专区#", "乐龄专区～萨克斯演奏"],
    "province": ["浙江省老年教育 萨克斯演奏", "山东省终身学习公共服务平台 萨克斯演奏", "广东终身教育 萨克斯演奏",
                 "萨克斯演奏_江苏省终身学习平台", "湖北老年教育：萨克斯演奏", "萨克斯演奏——四川省老年大学",
                 "萨克斯演奏（河南省老年教育网）"],
    "lesson_count": ["萨克斯演奏 12节", "萨克斯演奏 12课", "萨克斯演奏 含12讲", "萨克斯演奏 12节视频课",
                     "萨克斯演奏 共12个视频", "萨克斯演奏 12堂课", "萨克斯演奏（12个课时）"],
    "form": ["萨克斯演奏 高清完整版", "萨克斯演奏合集", "萨克斯演奏【高清】", "萨克斯演奏 视频教程",
             "萨克斯演奏（已完结）"],
    "duration": ["萨克斯演奏 45分钟", "萨克斯演奏 | 时长 35 分钟", "萨克斯演奏 总时长3小时", "萨克斯演奏 视频 40分钟",
                 "萨克斯演奏 时长45:00", "萨克斯演奏（时长：45分）"],
    "brackets": ["【萨克斯演奏】", "[萨克斯演奏]", "《萨克斯演奏》", "「萨克斯演奏」"],
}  # fmt: skip
WRAPPED = [(kind, title) for kind, titles in WRAPPERS.items() for title in titles]


@pytest.mark.parametrize(("kind", "title"), WRAPPED, ids=[title for _, title in WRAPPED])
def test_a_listing_label_or_count_around_a_title_still_links(kind: str, title: str) -> None:
    original = course("a:1", "萨克斯演奏", teachers=["王丽萍"], lessons=SAX)
    for listed in (title, _traditional(title)):
        profiles = [profile_of(original), profile_of(course("b:1", listed, teachers=["王丽萍老师"]))]
        assert profiles[1].key == "萨克斯演奏", (kind, listed)
        assert candidate_pairs(profiles) == {(0, 1)}
        verdict = compare(*profiles)
        assert verdict.same, (listed, verdict.veto)


def test_an_episode_in_progress_is_not_a_single_lecture() -> None:
    assert title_markers(fold("萨克斯演奏(更新至第5集)")).lecture == 5  # the bare title reads as a lecture ...
    assert profile_of(course("b:1", "萨克斯演奏(更新至第5集)")).markers.lecture is None  # ... the profile knows better
    assert profile_of(course("b:2", "萨克斯演奏 第5集")).markers.lecture == 5


COURSES_NAMED_LIKE_LABELS = {
    "京剧票友课堂：跟着名师学": "京剧票友课堂:跟着名师学",  # a 课堂 named by its subject is the course
    "手机上网：微信使用": "手机上网:微信使用",
    "园艺课堂·下册": "园艺课堂·下册",
    "「萨克斯演奏」": "「萨克斯演奏」",
    "萨克斯演奏 进阶": "萨克斯演奏 进阶",
    "太极拳：二十四式": "太极拳:二十四式",
    "手机摄影：人像专题": "手机摄影:人像专题",  # a subject's 专题 is the course's part, not a zone
    "老舍·茶馆": "老舍·茶馆",
    "word/excel 入门": "word/excel 入门",
    "新概念英语 第12课": "新概念英语 第12课",
    "新概念英语 3-4": "新概念英语 3-4",  # a range not from the first episode: the books of a course
    "0-3岁婴幼儿照护": "0-3岁婴幼儿照护",
    "书法 > 楷书": "书法 > 楷书",  # a path that opens with no listing label is the title
    "#书法# 楷书入门": "#书法# 楷书入门",
}


def test_a_title_that_only_looks_wrapped_keeps_its_words() -> None:
    assert {t: unwrapped(fold(t)) for t in COURSES_NAMED_LIKE_LABELS} == COURSES_NAMED_LIKE_LABELS


def test_a_hall_name_may_be_a_channel_but_two_hall_subtitles_never_match() -> None:
    whole = course("a:1", "萨克斯演奏", teachers=["王丽萍"], lessons=SAX)
    halls = [
        course("b:1", "乐享课堂：萨克斯演奏", teachers=["王丽萍"]),
        course("c:1", "长青讲堂丨萨克斯演奏", teachers=["王丽萍"]),
    ]
    for hall in halls:
        profiles = [profile_of(whole), profile_of(hall)]
        assert candidate_pairs(profiles) == {(0, 1)}
        assert compare(*profiles).same
    # one teacher's two courses that share a generic subtitle after their own 课堂 names
    opera = course("d:1", "京剧票友课堂：跟着名师学", teachers=["王丽萍"], lessons=SAX)
    painting = course("e:1", "国画课堂：跟着名师学", teachers=["王丽萍"], lessons=SAX)
    assert not compare(profile_of(opera), profile_of(painting)).same


# --- a teacher named only in the description ---

TEACHER_LINES = [
    "主讲：王丽萍", "主讲人：王丽萍副教授", "主讲老师：王丽萍", "授课教师：王丽萍", "授课老师：王丽萍高级讲师",
    "讲师：王丽萍", "老师：王丽萍", "主讲嘉宾：王丽萍", "授课：王丽萍（主任医师）", "主讲：南京老年大学王丽萍研究员",
    "本课由王丽萍老师讲授。", "本课程由王丽萍主讲，", "由南京大学王丽萍教授授课。", "王丽萍老师带你轻松入门。",
    "本课程邀请王丽萍研究员，", "本课程特邀南京老年大学王丽萍老师主讲。", "王丽萍主任医师为大家讲解要领。",
    "跟着王丽萍老师一起学。", "主讲人王丽萍，来自南京老年大学。", "主讲老师是王丽萍副教授。",
    "王丽萍，南京老年大学副教授，长期从事器乐教学。", "由王丽萍（南京老年大学副教授）主讲。",
    "王丽萍（南京老年大学副教授）带你入门。", "主讲人简介：王丽萍，南京老年大学副教授。", "讲师介绍：王丽萍。",
    "由南京老年大学的王丽萍主讲。", "来自南京老年大学的王丽萍老师为大家讲解。",
    "王丽萍，女，主任医师，从事临床工作三十年。", "王丽萍是南京老年大学的高级讲师。", "王丽萍老师从基本功讲起。",
    "（主讲 王丽萍）", "由南京老年大学 王丽萍 副教授 主讲。",
]  # fmt: skip


@pytest.mark.parametrize("line", TEACHER_LINES)
def test_a_teacher_named_only_in_the_text_is_read_however_written(line: str) -> None:
    taught = course("a:1", "萨克斯演奏", teachers=["王丽萍"], lessons=SAX)
    for text in (f"课程节奏舒缓。{line}适合中老年朋友。", _traditional(f"课程节奏舒缓。{line}适合中老年朋友。")):
        described = profile_of(course("b:1", "萨克斯演奏", description=text))
        assert described.instructors == {"王丽萍"}, text
        verdict = compare(profile_of(taught), described)
        assert verdict.same and "同一主讲 王丽萍" in verdict.evidence


def test_another_teacher_named_in_the_text_keeps_the_courses_apart() -> None:
    taught = course("a:1", "萨克斯演奏", teachers=["王丽萍"], lessons=SAX)
    other = course("b:1", "萨克斯演奏", description="课程节奏舒缓。本课程由南京老年大学刘建国副教授主讲。")
    assert compare(profile_of(taught), profile_of(other)).veto == "主讲不同"


PROSE_NAMING_NOBODY = [
    "课程由浅入深讲授，适合初学者。",
    "主讲内容丰富多彩，适合大家。",
    "周末带你走进音乐的世界。",
    "心理老师讲解退休后的常见困扰。",
    "老师带你一步步学。",
    "课程邀请大家一起参与。",
    "跟着音乐一起练。",
    "本课程由全国名师主讲。",
    "南京名师带你学。",
    "金牌讲师带你学。",
    "高校教师为大家讲解。",
    "课程是由主任医师团队打造。",
]


@pytest.mark.parametrize("text", PROSE_NAMING_NOBODY)
def test_prose_about_teaching_names_nobody_without_a_name(text: str) -> None:
    assert profile_of(course("b:1", "萨克斯演奏", description=text)).instructors == set()


def test_a_name_is_read_out_of_the_words_around_it() -> None:
    found = {
        "南京老年大学王丽萍": "王丽萍",
        "副教授王丽萍": "王丽萍",
        "本课由王丽萍老师": "王丽萍",
        "欧阳文秀正高级教师": "欧阳文秀",
        "何静国家二级心理咨询师": "何静",
        "由浅入深": None,
    }
    assert {words: name_in_text(words) for words in found} == found
    assert name_in_text("萧文华", labelled=True) == "萧文华"  # after 主讲： a name alone counts whatever its surname
    assert name_in_text("王丽萍适合中老年朋友", labelled=True) == "王丽萍"
    assert name_in_text("课程是由", prose=True) is None  # 程 is a surname, but 课程是由 ends in no name
    assert name_in_text("全国名师", prose=True) is None  # 全国 is a word the segmenter knows, not a person
    assert profile_of(course("b:1", "萨克斯演奏", description="教学团队：王丽萍、李明。")).instructors == {
        "王丽萍",
        "李明",
    }


NAMED_BY_A_COUNT = [("书法十二讲", "书法入门"), ("中国历史十讲", "中国历史百问"), ("太极拳二十四讲", "太极拳基础"),
                    ("合同常识12讲", "合同常识百问")]  # fmt: skip


@pytest.mark.parametrize(("title", "other"), NAMED_BY_A_COUNT, ids=[title for title, _ in NAMED_BY_A_COUNT])
def test_a_count_written_into_the_title_is_the_courses_name(title: str, other: str) -> None:
    assert unwrapped(fold(title)) == fold(
        title
    )  # 书法十二讲 is a course's name, as 萨克斯演奏 12讲 is a listing's count
    named = course("a:1", title, teachers=["王丽萍"], lessons=SAX)
    another = course("b:1", other, teachers=["王丽萍"], lessons=[f"第{n}课" for n in range(1, 7)])
    assert not compare(profile_of(named), profile_of(another)).same  # one teacher's two courses
