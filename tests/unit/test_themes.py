"""The theme classifier on realistic course titles: every theme, categories before keywords, conflicts."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from config import load_themes
from config.themes import THEMES, ThemeTable
from indexer.normalize.themes import FoldedFields, ThemeClassifier


@pytest.fixture(scope="module")
def classifier() -> ThemeClassifier:
    return ThemeClassifier(load_themes())


def themes_of(
    classifier: ThemeClassifier,
    title: str,
    *,
    tags: tuple[str, ...] = (),
    categories=(),
    description: str | None = None,
) -> list[str]:
    return classifier.classify(
        categories=[list(c) for c in categories],
        tags=list(tags),
        title=title,
        subtitle=None,
        description=description,
    ).themes


# (title, tags, the theme that must come first)
FIRST_THEME_CASES = [
    ("学党史 悟思想：中国共产党的百年奋斗", (), "思想道德"),
    ("新时代文明礼仪与好家风建设", (), "思想道德"),
    ("社区志愿服务入门", ("志愿",), "思想道德"),
    ("唐诗宋词鉴赏十讲", (), "科学文化"),
    ("天文科普：认识我们头顶的星空", (), "科学文化"),
    ("老年人学英语：旅行日常口语", ("外语",), "科学文化"),
    ("中医养生十二讲", (), "养生保健"),
    ("二十四式太极拳分解教学", (), "养生保健"),
    ("高血压患者的合理用药", (), "养生保健"),
    ("如何过好退休生活？", (), "心理健康"),
    ("告别失眠：老年人的睡眠与情绪调适", (), "心理健康"),
    ("办公软件Excel数据处理实战", (), "职业技能"),
    ("乡村振兴：农村电商直播带货入门", (), "职业技能"),
    ("老年人爱民法典", (), "法律法规"),
    ("识破电信网络诈骗：反诈防骗十招", (), "法律法规"),
    ("遗嘱与继承：家庭财产怎样传承", (), "法律法规"),
    ("养老金与医保：退休后的钱怎么管", (), "家庭理财"),
    ("财富管理N课-西湖十景", (), "家庭理财"),
    ("书法入门：楷书基本笔画", (), "闲暇生活"),
    ("古筝演奏基础（一年级）", (), "闲暇生活"),
    ("手机摄影与短视频制作", (), "闲暇生活"),
    ("隔代教育：祖孙沟通的艺术", (), "代际沟通"),
    ("家庭教育中的亲子阅读", (), "代际沟通"),
    ("安宁疗护：有尊严地走完最后一程", (), "生命尊严"),
    ("失能老人的居家照护", (), "生命尊严"),
]


@pytest.mark.parametrize(("title", "tags", "expected"), FIRST_THEME_CASES, ids=[c[0] for c in FIRST_THEME_CASES])
def test_realistic_title_gets_its_theme_first(classifier, title, tags, expected):
    assert themes_of(classifier, title, tags=tags)[0] == expected


def test_cases_cover_all_ten_themes():
    assert {case[2] for case in FIRST_THEME_CASES} == set(THEMES)


def test_category_path_beats_keywords(classifier):
    # The title talks about health, but the platform files it under 书画系 > 书法.
    found = themes_of(classifier, "练书法，养身心、保健康", categories=[("书画系", "书法")])
    assert found[0] == "闲暇生活"
    assert "养生保健" in found


def test_category_audience_marker_gives_no_theme_but_an_audience(classifier):
    result = classifier.classify(
        categories=[["银龄课堂"]], tags=[], title="银龄课堂开学第一课", subtitle=None, description=None
    )
    assert result.themes == []
    assert result.audience == ["老年人"]


def test_fraud_prefers_law_before_family_finance(classifier):
    found = themes_of(classifier, "养老理财防骗指南：警惕以理财为名的诈骗")
    assert found.index("法律法规") < found.index("家庭理财")


def test_smartphone_is_science_and_culture_before_leisure(classifier):
    found = themes_of(classifier, "智能手机拍照与短视频", categories=[("智慧助老", "智能手机")])
    assert found[0] == "科学文化"


def test_psychology_is_not_misread_as_physical_health(classifier):
    assert themes_of(classifier, "老年心理健康讲座") == ["心理健康"]


def test_traditional_characters_are_classified_like_simplified(classifier):
    assert themes_of(classifier, "中醫養生十二講") == themes_of(classifier, "中医养生十二讲")


def test_latin_keyword_matches_only_whole_words(classifier):
    assert "科学文化" in themes_of(classifier, "AI 人门：和人工智能聊天")
    assert themes_of(classifier, "Email 收发") == []


def test_a_single_description_mention_is_below_threshold(classifier):
    assert themes_of(classifier, "春季课程安排", description="本学期还将安排一次健康讲座。") == []


def test_at_most_three_themes_each_with_evidence(classifier):
    result = classifier.classify(
        categories=[["书画系", "书法"]],
        tags=["养生", "理财", "民法典", "心理"],
        title="书法养生与理财中的民法典心理学",
        subtitle=None,
        description=None,
    )
    assert len(result.themes) == 3
    for theme in result.themes:
        assert any(e.theme == theme and e.rule_id for e in result.evidence)
    assert {e.theme for e in result.evidence} == set(result.themes)


def test_zhihui_zhulao_category_marks_programme_and_elderly(classifier):
    result = classifier.classify(
        categories=[["智慧助老"]], tags=[], title="微信视频通话", subtitle=None, description=None
    )
    assert result.programmes == ["智慧助老"]
    assert "老年人" in result.audience


def evidence_of(result, theme: str) -> list[tuple[str, str, float]]:
    return [(e.rule_id, e.matched, e.score) for e in result.evidence if e.theme == theme]


def test_category_secondary_theme_is_given_with_the_rule_that_gave_it(classifier):
    result = classifier.classify(
        categories=[["书画系", "书法"]], tags=[], title="颜体基本笔画", subtitle=None, description=None
    )
    assert result.themes == ["闲暇生活", "科学文化"]
    assert evidence_of(result, "科学文化") == [("cat.shuhua", "书法", 1.0)]


def test_keyword_secondary_theme_comes_with_its_primary_and_names_the_term(classifier):
    result = classifier.classify(categories=[], tags=[], title="书法入门", subtitle=None, description=None)
    assert result.themes == ["闲暇生活", "科学文化"]
    assert evidence_of(result, "科学文化") == [("kw.xianxia.shuhua", "书法", 0.75)]


def test_keyword_secondary_is_not_carried_by_a_passing_mention_or_a_theme_that_is_not_primary(classifier):
    assert themes_of(classifier, "电脑基础操作") == ["科学文化", "闲暇生活"]
    # 电脑 once in a description is no computer course; in a vocational computing course it carries no 闲暇生活
    assert "闲暇生活" not in themes_of(classifier, "春季课程安排", description="还将开设电脑课。")
    found = themes_of(classifier, "计算机应用基础", tags=("计算机类",), description="学习电脑的基本操作与办公软件")
    assert found[0] == "职业技能"
    assert "闲暇生活" not in found


def test_the_deepest_matching_segment_of_a_category_path_decides(classifier):
    assert themes_of(classifier, "太极扇", categories=[("舞蹈体育系", "太极")]) == ["养生保健", "闲暇生活"]
    assert themes_of(classifier, "广场舞", categories=[("舞蹈体育系", "舞蹈")]) == ["闲暇生活", "养生保健"]
    assert themes_of(classifier, "穴位与经络", categories=[("家政保健系", "中医针灸")]) == ["养生保健"]


def test_a_shallower_segment_still_gives_its_programme_and_audience(classifier):
    result = classifier.classify(
        categories=[["智慧助老", "防诈骗"]], tags=[], title="警惕保健品骗局", subtitle=None, description=None
    )
    assert result.themes == ["法律法规", "家庭理财"]
    assert result.programmes == ["智慧助老"]
    assert "老年人" in result.audience


def test_ecommerce_rules_out_leisure_unless_a_category_gives_it(classifier):
    assert "闲暇生活" not in themes_of(classifier, "电商直播带货：拍好短视频", tags=("短视频",))
    found = themes_of(classifier, "电商直播带货：拍好短视频", categories=[("电子信息系", "短视频")])
    assert found[0] == "闲暇生活"


def test_a_certificate_course_is_the_occupations_whatever_craft_it_is_filed_under(classifier):
    # conflict.zhiye drops a category's leisure and diet themes (over_category): 面点 / 茶艺 leaves name the craft
    found = themes_of(classifier, "中式面点师（初级）考证辅导", categories=[("中式面点",)])
    assert found == ["职业技能", "科学文化"]
    assert themes_of(classifier, "茶艺师职业技能培训", categories=[("技能提升", "茶艺")]) == ["职业技能", "科学文化"]
    # the same leaves without a word of certificates or jobs are the hobby's
    assert themes_of(classifier, "家常面点：手工包子", categories=[("中式面点",)]) == ["闲暇生活", "养生保健"]
    assert themes_of(classifier, "红茶的冲泡", categories=[("技能提升", "茶艺")]) == ["闲暇生活", "养生保健"]


def test_an_occupations_branch_decides_its_path_over_the_trade_below_it(classifier):
    # 职业培训 / 职业技能 are branches (cat.zhiye.branch): a craft below them is the occupation's course
    assert themes_of(classifier, "茶艺", categories=[("职业培训", "茶艺")]) == ["职业技能", "科学文化"]
    assert themes_of(classifier, "手工包子", categories=[("职业技能", "中式面点")]) == ["职业技能", "科学文化"]
    # a department, or 国家老年大学's 技能提升 (elders' practical skills), is no branch: the deepest segment decides
    assert themes_of(classifier, "茶艺", categories=[("家政保健系", "茶艺")]) == ["闲暇生活", "养生保健"]
    assert themes_of(classifier, "茶艺", categories=[("技能提升", "茶艺")]) == ["闲暇生活", "养生保健"]


def test_a_drop_over_categories_only_where_the_rule_says_so():
    def classifier_with(conflict: dict) -> ThemeClassifier:
        category = {"id": "p", "match": ["面点"], "primary": "闲暇生活"}
        return ThemeClassifier(
            ThemeTable.model_validate({"version": "t", "conflict_rules": [conflict], "category_rules": [category]})
        )

    rule = {"id": "c", "when": ["考证"], "drop": ["闲暇生活"]}
    record = {"categories": [["面点"]], "tags": [], "title": "面点考证", "subtitle": None, "description": None}
    assert classifier_with(rule).classify(**record).themes == ["闲暇生活"]
    assert classifier_with({**rule, "over_category": True}).classify(**record).themes == []


def test_a_tag_naming_a_category_counts_like_a_keyword_of_that_category_rule(classifier):
    # 养老护理 and 理论学习 are category terms no keyword rule holds: as tags (le.ouchn has no categories) they
    # give the rule's theme at a tag's weight, with its secondary themes
    result = classifier.classify(categories=[], tags=["养老护理"], title="初级班实务", subtitle=None, description=None)
    assert result.themes == ["职业技能", "科学文化"]
    assert {"rule_id": "cat.zhiye", "matched": "养老护理", "theme": "职业技能", "score": 2.0} in result.evidence_rows
    assert themes_of(classifier, "党的创新理论学习", tags=("理论学习",)) == ["思想道德"]
    # in a title or description the category term is no keyword: 养老护理 there says nothing by itself
    assert themes_of(classifier, "养老护理", description="养老护理") == []


def test_a_record_no_theme_reaches_keeps_its_one_weak_theme(classifier):
    # two mentions in a description (2 x 0.5) reach the fallback score, not the threshold: the one theme is kept
    said = "本讲介绍学员身边的真实案例，以及遇到纠纷时如何寻求调解。"
    result = classifier.classify(categories=[], tags=[], title="第三讲", subtitle=None, description=said)
    assert result.themes == ["法律法规"]
    assert [row["matched"] for row in result.evidence_rows] == ["纠纷", "调解"]
    # one mention is too little, and a record with a theme above the threshold gets no weak one beside it
    assert themes_of(classifier, "第三讲", description="遇到纠纷怎么办。") == []
    assert themes_of(classifier, "书法入门", description="遇到纠纷时如何寻求调解。") == ["闲暇生活", "科学文化"]
    # weak evidence of several subjects names none: a news item listing the kinds of course a site offers
    listed = "广州终身学习网开设“老年课堂”栏目，按书画、养生、摄影等11个大类提供1000多门微课。"
    assert themes_of(classifier, "“老年课堂”上线千门微课", description=listed) == []
    # nor does a record that teaches nothing itself (a news article, a case): its weak theme is not its subject
    news = FoldedFields.of(title="第三讲", subtitle=None, tags=[], description=said, categories=[])
    assert classifier.classify_folded(news, categories=[], taught=False).themes == []
    assert classifier.classify_folded(news, categories=[]).themes == ["法律法规"]


def test_a_neutral_term_hides_the_keyword_inside_it(classifier):
    assert "养生保健" not in themes_of(classifier, "警惕保健品骗局")
    assert themes_of(classifier, "中老年保健常识") == ["养生保健"]


def test_a_conflict_rule_may_only_drop_themes():
    table = ThemeTable.model_validate(
        {"version": "t", "conflict_rules": [{"id": "c", "when": ["x"], "drop": ["闲暇生活"]}]}
    )
    assert table.conflict_rules[0].prefer == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"conflict_rules": [{"id": "c", "when": ["x"], "prefer": [], "drop": []}]}, "prefer.*or themes to `drop`"),
        ({"conflict_rules": [{"id": "c", "when": ["x"], "drop": ["休闲"]}]}, "not one of the ten.*c: 休闲"),
        (
            {"keyword_rules": [{"id": "k", "theme": "闲暇生活", "keywords": ["x"], "secondary": ["文化"]}]},
            "not one of the ten.*k: 文化",
        ),
    ],
)
def test_a_table_with_a_rule_that_does_nothing_or_names_no_theme_is_refused(change, message):
    with pytest.raises(ValidationError, match=message):
        ThemeTable.model_validate({"version": "t", **change})
