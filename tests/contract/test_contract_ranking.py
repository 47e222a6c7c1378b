"""Contract: pinyin of whole words typed any way, and ranking that keeps the courses a specific word finds."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from contract_corpus import found_ids, make_record

from indexer.backends.base import IndexBackend, SearchQuery

EXTRA = [
    make_record("bd1", "八段锦养生功", themes=["养生保健"], description="站式八段锦，舒筋活络。"),
    make_record("bd2", "学练八段锦", platform="lndx", themes=["养生保健"]),
    make_record("xa1", "西安历史文化", themes=["科学文化"]),
]
"""Records beside the shared corpus: 八段锦 (the cut keeps it whole in one title, not in another) and a
pinyin reading that other syllables could also spell (西安: xi an, typed xian or xi'an)."""


@pytest.fixture
def catalogue(loaded: IndexBackend) -> IndexBackend:
    loaded.upsert(EXTRA)
    return loaded


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("guangchangwu", {"gc1"}),  # 广场舞, which the cut splits 广场 + 舞
        ("guang chang wu", {"gc1"}),
        ("tai ji quan", {"tj1", "tj2"}),
        ("ba duan jin", {"bd1", "bd2"}),
        ("xi'an", {"xa1"}),
    ],
)
def test_pinyin_of_a_whole_word_finds_it_spaced_or_not(catalogue: IndexBackend, q: str, expected: set[str]) -> None:
    assert expected <= set(found_ids(catalogue, q))


def test_pinyin_typed_with_spaces_finds_what_the_unspaced_pinyin_finds(catalogue: IndexBackend) -> None:
    assert set(found_ids(catalogue, "shu fa")) == set(found_ids(catalogue, "shufa")) >= {"sf1", "sf2", "sf4", "sf5"}
    assert set(found_ids(catalogue, "ba duan jin")) == set(found_ids(catalogue, "baduanjin"))
    assert "gc1" not in found_ids(catalogue, "wu chang guang")  # syllables keep their order


def test_spaced_pinyin_highlights_the_word_it_spells(catalogue: IndexBackend) -> None:
    hits = {h.record.source_id: h for h in catalogue.search(SearchQuery(q="guang chang wu", size=10)).hits}
    assert "<mark>广场舞</mark>" in hits["gc1"].highlight["title"]


BEGINNERS = [
    make_record(f"rm{n}", f"{topic}入门", description=f"{topic}的基础知识。")
    for n, topic in enumerate(["围棋", "摄像", "剪纸", "编织", "花卉", "烘焙", "葫芦丝", "瑜伽", "象棋", "声乐"])
]
"""More courses for beginners, so that 入门 is as common a word here as in a real catalogue."""
GUQIN = make_record("gq9", "古琴名曲赏析", platform="lndx", description="《流水》《广陵散》的演奏与欣赏。")


@pytest.fixture
def courses(catalogue: IndexBackend) -> IndexBackend:
    catalogue.upsert([*BEGINNERS, GUQIN])
    return catalogue


def test_a_specific_word_finds_its_courses_without_the_generic_one(courses: IndexBackend) -> None:
    result = courses.search(SearchQuery(q="古琴 入门", size=100))
    found = [h.record.source_id for h in result.hits]
    assert found[0] == "gq1" and "gq9" in found  # 古琴入门 first, then 古琴 without 入门
    assert not {h.record.source_id for h in result.hits} & {r.source_id for r in BEGINNERS}  # 入门 alone: no
    assert [h.missing for h in result.hits if h.record.source_id == "gq9"] == [("入门",)]
    assert not result.relaxed  # the page holds a record with every word


def test_a_page_of_records_lacking_some_word_is_relaxed(courses: IndexBackend) -> None:
    result = courses.search(SearchQuery(q="古琴 入门", size=1, cursor=None))
    following = courses.search(SearchQuery(q="古琴 入门", size=10, cursor=result.next_cursor))
    assert not result.relaxed and following.relaxed and following.hits[0].record.source_id == "gq9"


BESIDE_A_SYNONYM = [
    make_record("pc1", "电脑入门", description="开机、关机与鼠标。"),
    make_record("pc2", "计算机办公软件", tags=["计算机"], description="在电脑上处理文字与表格，计算机常识。"),
    make_record("pc3", "计算机常识", tags=["计算机"], description="计算机的历史。"),
]
"""电脑 as the learner types it, in a title; in a description beside 计算机 (the catalogue word the bundled
vocabulary adds for it) in title and tags; and only 计算机."""


def test_a_typed_word_in_the_title_outranks_its_synonym_in_the_title(catalogue: IndexBackend) -> None:
    catalogue.upsert(BESIDE_A_SYNONYM)
    found = found_ids(catalogue, "电脑")
    assert "pc3" in found  # the synonym still finds its record...
    assert found.index("pc1") < found.index("pc2") < found.index("pc3")  # ...below the word the learner typed


SPELLED_ELSEWHERE = make_record("sf9", "毛笔字练习", tags=["书法"], description="书法的笔画与结构。")
"""A 书法 course whose title does not say 书法: only the tags and description do."""


def test_pinyin_finds_and_ranks_what_its_chinese_word_does(catalogue: IndexBackend) -> None:
    catalogue.upsert([SPELLED_ELSEWHERE])
    assert "sf9" in found_ids(catalogue, "shufa")
    assert found_ids(catalogue, "shufa") == found_ids(catalogue, "书法")
    assert found_ids(catalogue, "ba duan jin") == found_ids(catalogue, "八段锦")


def test_a_word_no_record_holds_finds_the_words_inside_it(catalogue: IndexBackend) -> None:
    result = catalogue.search(SearchQuery(q="怎么立遗嘱", size=10))  # 立遗嘱: one word to the cut, in no record
    assert [h.record.source_id for h in result.hits] == ["fl1"]  # 法律常识：遗嘱与继承


def test_a_synonym_the_cut_splits_is_found_in_a_question(catalogue: IndexBackend) -> None:
    catalogue.upsert([make_record("gd1", "隔代教育的智慧", themes=["代际沟通"])])
    found = found_ids(catalogue, "怎么带孙子")  # the cut gives 带 + 孙子; the vocabulary knows 带孙子
    assert found[:1] == ["gd1"]


def test_a_single_character_typed_after_the_words_narrows_them(catalogue: IndexBackend) -> None:
    catalogue.upsert([make_record("tq1", "简化太极拳（上）"), make_record("tq2", "简化太极拳（下）")])
    assert found_ids(catalogue, "简化太极拳 下")[0] == "tq2"  # 下 is a filler verb before a word, not after one


ABOUT_A_WILL = [
    make_record("yz1", "遗嘱怎么写", themes=["法律法规"], description="自书遗嘱、代书遗嘱的写法。"),
    make_record("yz2", "继承与遗嘱", themes=["法律法规"], description="法定继承与遗嘱继承。"),
    make_record("zy1", "用药注意事项", themes=["养生保健"], description="老年人服药的注意事项。"),
]
"""A question about a will: 注意 (a verb of the question, common in general Chinese) is held by fewer records
here than 遗嘱, so the index's own frequencies alone would weigh it above the word the question is about."""


def test_the_word_a_question_is_about_outranks_a_rarer_word_of_how_it_asks(catalogue: IndexBackend) -> None:
    catalogue.upsert(ABOUT_A_WILL)
    found = found_ids(catalogue, "立遗嘱要注意什么")
    assert {"yz1", "yz2"} <= set(found[:3])
    assert "zy1" not in found or found.index("zy1") > max(found.index("yz1"), found.index("yz2"))


GENERIC_IN_THEME = [
    make_record(f"lx{n}", f"{topic}与老年生活", themes=["闲暇生活"], description=f"老年朋友的{topic}。")
    for n, topic in enumerate(["旅游", "摄影", "园艺", "茶艺", "棋艺", "垂钓", "手工", "合唱", "舞蹈", "书画"])
] + [make_record("xl9", "情绪与压力", themes=["心理健康"], description="认识压力，学会放松。")]
"""Courses whose every text says 老年, so that 老年 is held by a large share of the catalogue, as in the
catalogue of an elders' university; and a 心理健康 course that does not say it."""


def test_a_generic_word_under_a_theme_filter_finds_the_themes_records_holders_first(
    catalogue: IndexBackend,
) -> None:
    catalogue.upsert(GENERIC_IN_THEME)
    everything = catalogue.search(SearchQuery(q="", size=1)).total
    holders = catalogue.search(SearchQuery(q="老年", size=100)).total
    assert holders >= 0.25 * everything  # 老年 says little here
    in_theme = catalogue.search(SearchQuery(q="", themes=("心理健康",), size=100))
    result = catalogue.search(SearchQuery(q="老年", themes=("心理健康",), size=100))
    assert {h.record.uid for h in result.hits} == {h.record.uid for h in in_theme.hits}
    holding = [not h.missing for h in result.hits]
    assert holding == sorted(holding, reverse=True)  # the records holding 老年 come first...
    assert result.hits[-1].record.source_id == "xl9" and result.hits[-1].missing == ("老年",)  # ...then the rest
    specific = catalogue.search(SearchQuery(q="摄影", themes=("闲暇生活",), size=100))
    assert all(not h.missing for h in specific.hits)  # a subject's name finds its holders only


LONELY = [
    make_record(f"gd{n}", title, themes=["心理健康"], description=f"{title}：老年朋友的心理课。")
    for n, title in enumerate(["走出孤独", "孤独感与情绪调节", "晚年不孤独", "孤单的时候怎么办"])
]
"""孤独, the catalogue's word, in three titles; 孤单, the learner's word that 同义词词林 groups with it, in one."""


def test_a_learners_word_finds_the_catalogues_word_the_thesaurus_groups_with_it(catalogue: IndexBackend) -> None:
    catalogue.upsert(LONELY[:3])
    assert {"gd0", "gd1", "gd2"} <= set(found_ids(catalogue, "一个人在家很孤单"))  # no record says 孤单
    catalogue.upsert(LONELY[3:])
    found = found_ids(catalogue, "孤单")
    assert found[0] == "gd3" and {"gd0", "gd1", "gd2"} <= set(found)  # the typed word first, then 孤独


ERHU_AND_ADVANCED = [
    make_record("eh1", "二胡提高班", description="二胡换把与揉弦。"),
    *(
        make_record(f"eh{n}", f"{title}", platform="lndx", description=f"{title}：老师逐句示范二胡的演奏要领。")
        for n, title in enumerate(["二胡名曲赏析与演奏技巧", "二胡入门基础教程全集", "民乐合奏中的二胡声部"], start=2)
    ),
    *(make_record(f"tg{n}", f"{topic}提高班") for n, topic in enumerate(["摄影", "声乐", "国画", "太极拳", "茶艺"])),
]
"""二胡 courses at several levels, and other subjects' 提高班 with short titles: as many records hold 提高班 as
二胡, so the index's own frequencies alone would rank a short 提高班 title above a long 二胡 one."""


def test_a_subject_at_another_level_outranks_another_subject_at_the_level_asked(catalogue: IndexBackend) -> None:
    catalogue.upsert(ERHU_AND_ADVANCED)
    found = found_ids(catalogue, "二胡 提高班")
    assert found[0] == "eh1"  # both words
    erhu = [found.index(f"eh{n}") for n in (2, 3, 4)]
    others = [found.index(uid) for uid in found if uid.startswith("tg")]
    assert others and max(erhu) < min(others)  # every 二胡 course before another subject's 提高班


def test_an_edition_typed_after_a_subject_is_matched_whole(catalogue: IndexBackend) -> None:
    catalogue.upsert(
        [
            make_record("yy1", "英语音标（2024版）"),
            make_record("yy2", "英语音标（2023版）"),
            make_record("yy3", "老年英语口语"),
        ]
    )
    result = catalogue.search(SearchQuery(q="英语 2024版", size=100))
    missing = {h.record.source_id: h.missing for h in result.hits}
    assert result.hits[0].record.source_id == "yy1" and missing["yy1"] == ()
    assert missing["yy2"] == missing["yy3"] == ("2024版",)  # 版 of another edition is no part of it


ABOUT_FRUIT_TREES = [
    make_record("gs1", "果树栽培技术", themes=["职业技能"], description="苹果、梨和桃的栽培管理。"),
    *(
        make_record(
            f"ny{n}",
            title,
            platform=platform,
            themes=["职业技能"],
            description="课程内容：果树修剪、蔬菜大棚种植、病虫害防治、土壤改良与科学施肥。",
        )
        for n, (title, platform) in enumerate([("农业技术课堂", "le_ouchn"), ("农村实用技术", "lndx")])
    ),
    *(
        make_record(f"hh{n}", f"{flower}养护", themes=["闲暇生活"], description=f"{flower}的浇水、施肥与修剪。")
        for n, flower in enumerate(["月季", "兰花", "茶花", "杜鹃", "绿萝"])
    ),
]
"""A course whose title names the question's telling word (果树), and records holding both of its words only in
their lesson lists, each with more words of the question than the course: bm25 alone ranks those first."""


def test_a_questions_telling_word_in_a_title_outranks_its_words_deep_in_a_lesson_list(
    catalogue: IndexBackend,
) -> None:
    catalogue.upsert(ABOUT_FRUIT_TREES)
    found = found_ids(catalogue, "果树怎么修剪")
    assert found[0] == "gs1"
    assert {"ny0", "ny1"} <= set(found[1:3])  # then the records holding both words
    assert found_ids(catalogue, "果树 修剪")[0] != "gs1"  # words typed apart: each counts wherever it stands


DANCE_IN_THEME = [
    make_record("wd1", "民族舞蹈赏析", themes=["养生保健"], description="舞蹈的身韵与步法。"),
    make_record("wd2", "健身舞蹈十二式", platform="lndx", themes=["养生保健"], description="跟着音乐活动筋骨。"),
    make_record(
        "wd3", "社区健身广场舞", platform="smartedu", themes=["养生保健"], description="每周三晚上在广场集合。"
    ),
    make_record("wd4", "广场舞队风采", platform="smartedu", themes=["闲暇生活"], description="社区队员的演出。"),
]
"""Two 养生保健 records saying 舞蹈; one of a platform publishing no tags that names its dance only as 广场舞; and a
广场舞 record of another theme."""


def test_a_word_under_a_theme_filter_never_matches_by_a_character_alone(catalogue: IndexBackend) -> None:
    """A character of the word may name another subject inside the theme (法 of 书法 in every 法律 course of
    法律法规), so a theme filter narrows what the word finds and adds nothing."""
    catalogue.upsert(DANCE_IN_THEME)
    result = catalogue.search(SearchQuery(q="舞蹈", themes=("养生保健",), size=100))
    assert {h.record.source_id for h in result.hits} == {"wd1", "wd2"}  # not 广场舞 (wd3): 舞 alone
    assert all(h.missing == () for h in result.hits) and result.total == 2
    assert result.facets["theme"] == {"养生保健": 2}  # the other themes' 舞 records are not counted either


def test_a_word_no_record_of_the_filtered_theme_holds_finds_the_themes_records_lacking_it(
    catalogue: IndexBackend,
) -> None:
    """An empty page is no answer to a learner who picked a theme and typed an everyday word its courses do not use
    (孙子 where they say 孙辈): the theme's records follow, each lacking the word, those whose titles hold its
    characters first. The characters only order the theme's records: the theme facet counts for another theme what
    the word finds there (孙 alone would find other themes' records as well)."""
    catalogue.upsert(
        [
            make_record("gd2", "亲子阅读与家庭沟通", themes=["代际沟通"]),
            make_record("gd1", "隔代教育：如何与孙辈沟通", themes=["代际沟通"]),
            make_record("ot1", "孙子兵法与人生智慧", themes=["科学文化"]),
            make_record("ot2", "外孙女学国画", themes=["科学文化"]),
        ]
    )
    result = catalogue.search(SearchQuery(q="孙子", themes=("代际沟通",), size=100))
    in_theme = catalogue.search(SearchQuery(q="", themes=("代际沟通",), size=100))
    assert {h.record.source_id for h in result.hits} == {h.record.source_id for h in in_theme.hits}
    assert {"gd1", "gd2"} <= {h.record.source_id for h in result.hits}
    assert result.total == in_theme.total and "ot1" not in {h.record.source_id for h in result.hits}
    assert result.relaxed and result.theme_only and all(h.missing == ("孙子",) for h in result.hits)
    assert result.hits[0].record.source_id == "gd1"  # 孙 of 孙辈 in its title
    assert result.facets["theme"]["科学文化"] == 1  # ot1 holds the word; ot2 only its character 孙
    assert found_ids(catalogue, "孙子") == ["ot1"]  # without the filter the word finds its holder alone
    held = catalogue.search(SearchQuery(q="孙子兵法", themes=("科学文化",)))
    assert held.total == 1 and not held.theme_only  # a holder: no fallback


FAMILY_TALKS = [
    *(
        make_record(
            f"gt{n:02d}", f"隔代相处第{n}讲", platform=("le_ouchn", "lndx", "smartedu")[n % 3], themes=["代际沟通"]
        )
        for n in range(24)
    ),
    make_record("gy1", "鱼缸旁的祖孙对话", platform="lndx", themes=["代际沟通"]),
    make_record("dy1", "钓鱼入门", themes=["闲暇生活"]),
]
"""Two dozen 代际沟通 records on three platforms saying nothing of 钓鱼, one whose title holds 鱼, and the word's
holder in another theme."""


def _every_page(backend: IndexBackend, query: SearchQuery) -> tuple[list[str], list[str]]:
    """The uids of every page of `query` followed by cursor, and by page number."""
    by_cursor: list[str] = []
    cursor = None
    while True:
        page = backend.search(replace(query, cursor=cursor, with_facets=False))
        by_cursor += [hit.uid for hit in page.hits]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    by_number: list[str] = []
    for number in itertools.count(1):
        hits = backend.search(replace(query, page=number, with_facets=False)).hits
        if not hits:
            return by_cursor, by_number
        by_number += [hit.uid for hit in hits]
    raise AssertionError("unreachable")


def test_a_themes_records_lacking_the_word_page_by_uid_after_those_holding_its_characters(
    catalogue: IndexBackend,
) -> None:
    """The theme's records holding none of the word's characters all score alike: they follow in uid order, every
    one once, by cursor and by page number, under the theme alone and under another filter with it."""
    catalogue.upsert(FAMILY_TALKS)
    for platforms in ((), ("lndx",)):
        query = SearchQuery(q="钓鱼", themes=("代际沟通",), platforms=platforms, size=100)
        whole = catalogue.search(query)
        found = [hit.uid for hit in whole.hits]
        assert whole.theme_only and found[0] == "lndx:gy1"  # 鱼 in its title
        assert found[1:] == sorted(found[1:]) and len(set(found)) == len(found)
        assert whole.total == len(found) == catalogue.search(replace(query, q="")).total
        assert {f"lndx:gt{n:02d}" for n in range(1, 24, 3)} <= set(found)
        assert all(uid.startswith("lndx:") for uid in found) or not platforms
        by_cursor, by_number = _every_page(catalogue, replace(query, size=7))
        assert by_cursor == by_number == found


ABOUT_PENSION_SCAMS = [
    make_record("pj1", "识破养老骗局", themes=["法律法规"], description="民警讲解冒充公检法的套路。"),
    *(
        make_record(
            f"pf{n}",
            title,
            platform=platform,
            themes=["法律法规"],
            tags=["骗局"],
            description="课程内容：冒充亲友借钱、以房养老骗局、刷单返利、中奖诈骗、网络购物退款、虚假投资理财、"
            "电信诈骗的识别与报警。",
        )
        for n, (title, platform) in enumerate([("防诈骗课堂", "le_ouchn"), ("反诈宣传课堂", "lndx")])
    ),
    *(
        make_record(f"yl{n}", title, themes=["家庭理财"], description=f"以{topic}为例，讲解养老金的领取与规划。")
        for n, (title, topic) in enumerate([("养老金小课", "退休"), ("养老规划", "案例"), ("社区养老服务", "居家")])
    ),
]
"""A course whose title names 养老 and 骗局, and records holding 以房养老骗局 only in a lesson list: the cut makes
以 + 房 + 养老 of 以房养老, and the run 以房 is no word of jieba's tables (measured: bm25 with the run weighing as a
subject's name ranked pf0 and pf1 first on both SQLite engines)."""


def test_a_run_of_characters_the_cut_made_no_word_of_weighs_as_a_stray_character(catalogue: IndexBackend) -> None:
    catalogue.upsert(ABOUT_PENSION_SCAMS)
    found = found_ids(catalogue, "以房养老是不是骗局")
    assert found[0] == "pj1"  # the course naming 养老骗局, before the records holding the run 以房 in a lesson list
    assert {"pf0", "pf1"} == set(found[1:3])


BALL_GAMES = [
    make_record("bg1", "门球入门", themes=["闲暇生活"], description="适合老年人的运动：规则、击球与比赛。"),
    make_record("bg2", "乒乓球基础班", platform="lndx", themes=["闲暇生活"], description="老年人练习握拍与发球。"),
    *(
        make_record(f"ol{n}", f"老年人{subject}", themes=["科学文化"], description="为老年人开设，讲得好，学得会。")
        for n, subject in enumerate(["智能手机课", "防诈骗课堂", "网络安全", "摄影入门", "书法基础", "合唱团"] * 3)
    ),
]
"""Two ball games for 老年人 whose titles hold 球 inside a word (门球, 乒乓球), and many courses for 老年人 (as in an
elder education catalogue, where the word says little) saying 好 and 学 in their descriptions."""


def test_a_questions_character_glued_to_a_filler_still_finds_its_subject(catalogue: IndexBackend) -> None:
    """The cut leaves 老年人打什么球好 with 球 and 好 side by side, a run of characters no record holds: its
    character saying something (球) is looked for alone: the ball games hold what is asked and reach the first page,
    and the many records naming 老年人 in their titles are shown lacking 球 (before, every record lacked 球好, and
    the ball games came after all of them)."""
    catalogue.upsert(BALL_GAMES)
    result = catalogue.search(SearchQuery(q="老年人打什么球好", size=50))
    missing = {hit.record.source_id: hit.missing for hit in result.hits}
    assert missing["bg1"] == missing["bg2"] == ()  # each holds what is asked: 球 (of 门球, 乒乓球) and 老年人
    assert all(words == ("球",) for uid, words in missing.items() if uid.startswith("ol"))
    assert {"bg1", "bg2"} & {hit.record.source_id for hit in result.hits[:10]}


ABOUT_SUPPORT = [
    make_record("sy1", "赡养纠纷与老年人权益", themes=["法律法规"], description="子女不履行赡养义务时老人的维权途径。"),
    *(
        make_record(f"fm{n}", title, themes=["心理健康"], description=f"{title}？老师教您调节心情。")
        for n, title in enumerate(["退休后孤独怎么办", "晚上失眠怎么办"])
    ),
]
"""A course about 赡养, and courses whose titles hold 怎么办, which few records hold: the index's frequencies alone
would weigh it as a subject's name (jieba tags it a set phrase, not a question word)."""


def test_a_word_framing_a_question_never_finds_a_record_alone(catalogue: IndexBackend) -> None:
    catalogue.upsert(ABOUT_SUPPORT)
    for q in ("子女不给赡养费怎么办", "赡养费怎么办"):
        found = found_ids(catalogue, q)
        assert found[:1] == ["sy1"], q
        assert not {"fm0", "fm1"} & set(found), q  # holding only 怎么办, how the learner asks


def test_a_question_whose_held_words_only_frame_it_is_answered_empty(catalogue: IndexBackend) -> None:
    catalogue.upsert(ABOUT_SUPPORT)
    result = catalogue.search(SearchQuery(q="水管漏水怎么办", size=100))
    assert result.total == 0 and result.hits == []  # no course says 水管 or 漏水; 怎么办 alone answers nothing
    assert found_ids(catalogue, "失眠怎么办")[:1] == ["fm1"]  # a word it asks about held: found as before


PARTY_HISTORY = [
    *(
        make_record(f"dh{n}", f"中国共产党历史故事（{part}）", themes=["思想道德"], tags=["党史", "红色教育"])
        for n, part in enumerate(["上", "下"])
    ),
    *(
        make_record(f"ds{n}", title, themes=["思想道德"], tags=["党史"], description="讲述建党百年的光辉历程。")
        for n, title in enumerate(["党史故事", "红色经典诵读"])
    ),
]
"""Courses naming 共产党, and courses of the same tag that never say it: a learner's question finds the first two
only, and the tag they share says what else answers it."""


def test_a_question_finding_few_records_also_finds_the_tag_they_share_after_them(catalogue: IndexBackend) -> None:
    catalogue.upsert(PARTY_HISTORY)
    result = catalogue.search(SearchQuery(q="有没有讲共产党过去的事的课", size=100))
    found = [h.record.source_id for h in result.hits]
    assert set(found[:2]) == {"dh0", "dh1"}  # the learner's word first
    assert set(found[2:]) == {"ds0", "ds1"}  # then the records of 党史, which both found records are tagged
    assert not {"ds0", "ds1"} & set(found_ids(catalogue, "共产党 过去"))  # words typed apart: no question, no tag


ABOUT_PHONES = [
    make_record("pc1", "老年人手机课堂", themes=["科学文化"], description="学会用微信聊天、视频通话和挂号。"),
    *(
        make_record(f"pp{n}", title, platform=platform, themes=["闲暇生活"], description=text)
        for n, (title, platform, text) in enumerate(
            [
                ("零起点学摄影：拍照要点", "le_ouchn", "用手机也能拍出好照片，讲手机拍照的小窍门。"),
                ("短视频剪辑要点与重点", "lndx", "用手机剪出好看的视频，手机剪辑软件的用法。"),
                ("人像摄影重点难点", "smartedu", "手机和相机拍人像的光线与角度，手机人像模式。"),
            ]
        )
    ),
]
"""A course whose title names 手机, a word common in general Chinese (as do sj1-sj3 of the shared corpus), and
records of other subjects holding it once in a description and 点 in a title (零起点, 要点, 重点): bm25 ranks those
first for a question whose other word is 点."""


def test_a_questions_one_subject_word_in_a_title_outranks_the_word_in_passing(catalogue: IndexBackend) -> None:
    catalogue.upsert(ABOUT_PHONES)
    found = found_ids(catalogue, "想学点手机")
    assert set(found[:4]) == {"pc1", "sj1", "sj2", "sj3"}  # the courses about phones, though 手机 says little
    assert {"pp0", "pp1", "pp2"} <= set(found[4:])  # the records holding it in passing still found, after them
    assert found_ids(catalogue, "手机 点")[0].startswith("pp")  # words typed apart: each counts wherever it stands


TRAINING = [
    make_record("tr1", "声乐基础训练", themes=["闲暇生活"], description="发声训练与气息练习，适合合唱团新学员。"),
    make_record("tr2", "记忆力训练", themes=["心理健康"], description="每天十分钟的记忆训练，延缓大脑衰老。"),
    make_record("kn1", "膝盖疼痛的居家护理", themes=["养生保健"], description="膝盖疼了怎么办？康复师教您护膝。"),
]
"""Courses training a voice and a memory, and one on knees: none on running a marathon."""


def test_typed_words_whose_subject_no_record_holds_find_nothing(catalogue: IndexBackend) -> None:
    """No record holds 马拉松 (a noun as rare in general Chinese as a subject's name) in any form, and the records
    holding 训练 train a voice or a memory: 马拉松训练, typed together or apart, finds nothing instead of a relaxed
    page of them. 训练 alone still finds them, and a learner's question naming the absent subject is still answered
    by what it asks that records hold (膝盖 of 跑马拉松膝盖疼怎么办)."""
    catalogue.upsert(TRAINING)
    for q in ("马拉松训练", "马拉松 训练"):
        result = catalogue.search(SearchQuery(q=q))
        assert (result.total, result.hits) == (0, []), q
    assert set(found_ids(catalogue, "训练")) == {"tr1", "tr2"}
    assert found_ids(catalogue, "跑马拉松膝盖疼怎么办")[:1] == ["kn1"]
