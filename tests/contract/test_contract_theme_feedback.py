"""Contract: under a theme filter, a word few of the theme's records hold also finds the theme's records of the tags
its holders share, after them.

A learner who picked 职业技能 and typed 培训 asks for the theme's training courses; its holders here are 家政服务
courses, and the theme's other 家政服务 courses never say 培训. The tags are read from the holders inside the
filtered theme, so the theme facet counts, for every other theme, what the word finds there: what picking it answers.
"""

from __future__ import annotations

import pytest
from contract_corpus import make_record

from indexer.backends.base import IndexBackend, SearchQuery, SearchResult

JOB = ["职业技能"]
TRAINING = [
    make_record("fb1", "养老护理员培训", themes=JOB, tags=["家政服务", "职业技能"], description="护理员上岗前的训练。"),
    make_record("fb2", "家政服务员培训班", themes=JOB, tags=["家政服务", "职业技能"], description="家务与照料。"),
    make_record("fb3", "家政服务规范基础班", platform="lndx", themes=JOB, description="保洁、收纳与做饭的规范。"),
    make_record("fb4", "母婴护理实务", platform="smartedu", themes=JOB, tags=["家政服务"], description="产妇护理。"),
    make_record("fb5", "电工入门", themes=JOB, tags=["电工", "职业技能"], description="安全用电与接线。"),
    make_record("fb6", "家政服务与家庭收纳", themes=["闲暇生活"], tags=["家政服务"], description="把家收拾整齐。"),
    make_record("fb7", "摄影培训班", themes=["闲暇生活"], tags=["摄影"], description="构图与用光。"),
]
"""Under 职业技能 two records hold 培训 and share the tag 家政服务 (and 职业技能, the theme's own name); two more of
the theme's 家政服务 records say neither 培训 nor the word in their tags alone (fb3 in its title, fb4 in its tags);
电工 shares only the theme's name. 闲暇生活 holds a 家政服务 record and one 培训 record of its own."""
OTHERS = [
    make_record(f"fo{i}", title, themes=[theme], description=text)
    for i, (title, theme, text) in enumerate(
        [
            ("书法入门", "闲暇生活", "楷书的笔画。"),
            ("太极拳基础", "养生保健", "二十四式。"),
            ("家庭理财常识", "家庭理财", "储蓄与保险。"),
            ("防范电信诈骗", "法律法规", "识破骗局。"),
            ("老年心理调适", "心理健康", "退休后的心情。"),
            ("智能手机应用", "科学文化", "微信与支付。"),
            ("民法典与老年人", "法律法规", "遗嘱与继承。"),
            ("隔代教育", "代际沟通", "祖孙相处。"),
            ("京剧唱腔", "闲暇生活", "西皮与二黄。"),
            ("八段锦", "养生保健", "八个动作。"),
            ("养老金怎么领", "家庭理财", "领取与认证。"),
            ("安宁疗护", "生命尊严", "陪伴最后的时光。"),
            ("古诗词鉴赏", "科学文化", "唐诗宋词。"),
            ("睡眠与情绪", "心理健康", "睡个好觉。"),
            ("志愿服务", "思想道德", "社区里做好事。"),
            ("亲子沟通", "代际沟通", "和儿女说说话。"),
        ]
    )
]
"""Records of other subjects, so that 培训 and 家政服务 are words a few records hold (not a quarter of the catalogue,
which says little)."""


@pytest.fixture
def catalogue(backend: IndexBackend) -> IndexBackend:
    backend.upsert([*TRAINING, *OTHERS])
    return backend


def _search(backend: IndexBackend, q: str, themes: tuple[str, ...] = ()) -> SearchResult:
    return backend.search(SearchQuery(q=q, themes=themes, size=50))


def test_a_word_few_of_a_themes_records_hold_also_finds_the_themes_records_of_the_tags_its_holders_share(
    catalogue: IndexBackend,
) -> None:
    result = _search(catalogue, "培训", ("职业技能",))
    found = [hit.record.source_id for hit in result.hits]
    assert set(found[:2]) == {"fb1", "fb2"}  # the word's holders first
    assert set(found) == {"fb1", "fb2", "fb3", "fb4"}  # not 电工 (only the theme's name), nor another theme's
    assert result.total == 4
    assert {hit.record.source_id: hit.missing for hit in result.hits[2:]} == {"fb3": ("培训",), "fb4": ("培训",)}


def test_the_theme_facet_counts_for_another_theme_what_picking_it_finds(catalogue: IndexBackend) -> None:
    result = _search(catalogue, "培训", ("职业技能",))
    assert result.facets["theme"] == {"职业技能": 4, "闲暇生活": 1}
    other = _search(catalogue, "培训", ("闲暇生活",))
    assert [hit.record.source_id for hit in other.hits] == ["fb7"]  # what the facet promised, not fb6's tag


def test_without_a_theme_filter_a_word_finds_only_its_holders(catalogue: IndexBackend) -> None:
    result = _search(catalogue, "培训")
    assert {hit.record.source_id for hit in result.hits} == {"fb1", "fb2", "fb7"}


def test_a_small_page_finds_the_tags_records_as_a_page_of_all_does(catalogue: IndexBackend) -> None:
    pages = [
        catalogue.search(SearchQuery(q="培训", themes=("职业技能",), size=1, page=n, with_facets=False))
        for n in (1, 2, 3, 4)
    ]
    assert [page.total for page in pages] == [4, 4, 4, 4]
    assert {hit.record.source_id for page in pages for hit in page.hits} == {"fb1", "fb2", "fb3", "fb4"}
