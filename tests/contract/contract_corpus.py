"""The fixed Chinese corpus of the contract suite, and the record builder the tests share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from indexer.backends.base import IndexBackend, SearchHit, SearchQuery
from indexer.linkage import cluster_id_for
from indexer.record import Person, Provider, Record

BackendFactory = Callable[[Path], IndexBackend]
SearchAll = Callable[..., list[Any]]
"""The `search_all` fixture: every hit of a query, page after page."""
"""Opens (or reopens) a backend whose storage lives under the given directory."""

CHINA = timezone(timedelta(hours=8))
FETCHED = datetime(2024, 6, 1, 8, 0, tzinfo=CHINA)
PLATFORM_NAMES = {
    "le_ouchn": "国家开放大学终身教育平台",
    "lndx": "国家老年大学",
    "smartedu": "国家智慧教育平台",
}
SHUFA_CLUSTER = cluster_id_for(["le_ouchn:sf1", "lndx:sf4", "smartedu:sf5"])
"""The cluster the index links 书法入门 of three platforms into (the same teacher, 王明)."""


def make_record(source_id: str, title: str, **fields: Any) -> Record:
    """A valid Record of source `fields.pop('source', platform)` with its content hash set."""
    platform = fields.pop("platform", "le_ouchn")
    source = fields.pop("source", platform)
    fields.setdefault("fetched_at", FETCHED)
    fields.setdefault("raw", {"id": source_id, "name": title, "extra": [1, 2, {"k": "值"}]})
    record = Record(
        uid=f"{source}:{source_id}",
        source=source,
        source_id=source_id,
        url=f"https://{platform}.example.cn/course/{source_id}",
        title=title,
        platform=platform,
        platform_name=PLATFORM_NAMES[platform],
        **fields,
    )
    return record.model_copy(update={"content_hash": record.compute_hash()})


def source_ids(hits: Sequence[SearchHit]) -> list[str]:
    """The source ids of `hits`, in order (tests name records by their short source ids)."""
    return [hit.record.source_id for hit in hits]


def ids_page_by_page(backend: IndexBackend, q: str, *, size: int, pages: int) -> list[str]:
    """The source ids of the first `pages` pages of `size` a search for `q` shows, by page number, in turn."""
    found: list[str] = []
    for number in range(1, pages + 1):
        result = backend.search(SearchQuery(q=q, size=size, page=number, with_facets=False))
        found.extend(hit.record.source_id for hit in result.hits)
    return found


def ids_by_cursor(backend: IndexBackend, q: str, *, size: int, most: int = 100) -> list[str]:
    """The source ids of every page of `size` a search for `q` shows, following next_cursor (at most `most` pages)."""
    found: list[str] = []
    cursor = None
    for _ in range(most):
        result = backend.search(SearchQuery(q=q, size=size, cursor=cursor, with_facets=False))
        found.extend(hit.record.source_id for hit in result.hits)
        if (cursor := result.next_cursor) is None:
            return found
    raise AssertionError(f"cursor paging of {q!r} did not end within {most} pages")


def found_ids(backend: IndexBackend, q: str) -> list[str]:
    """The source ids a search for `q` ranks, best first (up to 100)."""
    result = backend.search(SearchQuery(q=q, size=100))
    return [h.record.source_id for h in result.hits]


def _day(n: int) -> datetime:
    return datetime(2023, 1, 1, 9, 0, tzinfo=CHINA) + timedelta(days=n)


def build_corpus() -> list[Record]:
    """36 records across themes, platforms, scripts and dates; the tests' expectations refer to their ids."""
    r = make_record
    return [
        r(
            "sf1",
            "书法入门：楷书基础",
            themes=["闲暇生活"],
            audience=["老年人"],
            media_type="video",
            learner_count=5200,
            published_at=_day(10),
            cluster_id=SHUFA_CLUSTER,
            tags=["书法", "楷书"],
            description="从握笔开始学习楷书的基本笔画。",
            instructors=[Person(name="王明", title="教授")],
            provider=Provider(name="国家开放大学"),
        ),
        r(
            "sf2",
            "硬笔书法提高班",
            platform="lndx",
            themes=["闲暇生活"],
            audience=["老年人"],
            media_type="video",
            learner_count=800,
            published_at=_day(40),
        ),
        r(
            "sf3",
            "書法欣賞與臨摹",
            platform="smartedu",
            themes=["闲暇生活", "科学文化"],
            audience=["社区居民"],
            media_type="document",
            learner_count=150,
            published_at=_day(5),
        ),
        r(
            "sf4",
            "书法入门",
            platform="lndx",
            themes=["闲暇生活"],
            audience=["老年人"],
            media_type="video",
            learner_count=300,
            published_at=_day(11),
            instructors=[Person(name="王明")],
            cluster_id=SHUFA_CLUSTER,
        ),
        r(
            "sf5",
            "书法入门（智慧教育版）",
            platform="smartedu",
            themes=["闲暇生活"],
            media_type="video",
            learner_count=90,
            published_at=_day(12),
            instructors=[Person(name="王明老师")],
            cluster_id=SHUFA_CLUSTER,
        ),
        r(
            "ys1",
            "中医养生保健知识",
            themes=["养生保健"],
            audience=["老年人"],
            media_type="video",
            learner_count=9100,
            published_at=_day(100),
            description="介绍中医养生的基本理念，以及四季饮食调理。",
        ),
        r(
            "ys2",
            "四季养生：饮食与睡眠",
            platform="lndx",
            themes=["养生保健"],
            audience=["老年人"],
            media_type="audio",
            learner_count=2100,
            updated_at=_day(90),
        ),
        r(
            "ys3",
            "養生太極",
            platform="smartedu",
            themes=["养生保健"],
            audience=["社区居民"],
            media_type="video",
            learner_count=640,
            published_at=_day(60),
        ),
        r(
            "sj1",
            "老年人智能手机使用入门",
            themes=["科学文化"],
            audience=["老年人"],
            media_type="video",
            learner_count=12000,
            published_at=_day(200),
            tags=["智慧助老"],
            description="教老年人学会微信视频通话、扫码支付和打车。",
        ),
        r(
            "sj2",
            "智能手机拍照技巧",
            platform="lndx",
            themes=["闲暇生活"],
            audience=["社区居民"],
            media_type="video",
            learner_count=3300,
            published_at=_day(150),
        ),
        r(
            "sj3",
            "用手机和家人视频通话",
            platform="smartedu",
            themes=["代际沟通"],
            audience=["老年人"],
            media_type="html",
            learner_count=410,
            published_at=_day(170),
        ),
        r(
            "sj4",
            "能者为师：智慧助老志愿服务",
            themes=["思想道德"],
            audience=["社区居民"],
            media_type="html",
            record_type="programme_entry",
            learner_count=55,
            published_at=_day(30),
        ),
        r(
            "lc1",
            "家庭理财基础",
            themes=["家庭理财"],
            audience=["在职人员"],
            media_type="video",
            learner_count=4500,
            published_at=_day(80),
            is_free=False,
        ),
        r(
            "lc2",
            "理财防骗：识别非法集资",
            platform="lndx",
            themes=["家庭理财", "法律法规"],
            audience=["老年人"],
            media_type="video",
            learner_count=2600,
            published_at=_day(85),
        ),
        r(
            "fz1",
            "反诈宣传：防范电信网络诈骗",
            themes=["法律法规"],
            audience=["社区居民"],
            media_type="video",
            learner_count=7000,
            published_at=_day(120),
            description="识别冒充公检法、刷单返利等常见骗局。",
        ),
        r(
            "fz2",
            "老年人防诈骗指南",
            platform="smartedu",
            themes=["法律法规"],
            audience=["老年人"],
            media_type="document",
            learner_count=1900,
            published_at=_day(125),
        ),
        r(
            "tj1",
            "二十四式太极拳",
            themes=["养生保健"],
            audience=["老年人"],
            media_type="video",
            learner_count=6100,
            published_at=_day(70),
        ),
        r(
            "tj2",
            "陈式太极拳入门",
            platform="lndx",
            themes=["养生保健"],
            audience=["老年人"],
            media_type="video",
            learner_count=2400,
            published_at=_day(75),
        ),
        r(
            "cy1",
            "茶艺基础：绿茶冲泡",
            themes=["闲暇生活"],
            audience=["社区居民"],
            media_type="video",
            learner_count=1200,
            published_at=_day(20),
        ),
        r(
            "cy2",
            "中国茶文化",
            platform="smartedu",
            themes=["科学文化"],
            audience=["社区居民"],
            media_type="ebook",
            learner_count=700,
            published_at=_day(21),
        ),
        r(
            "gq1",
            "古琴入门",
            platform="lndx",
            themes=["闲暇生活"],
            audience=["老年人"],
            media_type="video",
            learner_count=980,
            published_at=_day(35),
        ),
        r(
            "gq2",
            "钢琴基础教程",
            themes=["闲暇生活"],
            audience=["青少年"],
            media_type="video",
            learner_count=1500,
            published_at=_day(36),
        ),
        r(
            "gq3",
            "民族乐器欣赏",
            platform="smartedu",
            themes=["科学文化"],
            audience=["社区居民"],
            media_type="audio",
            learner_count=200,
            published_at=_day(37),
            description="本课介绍二胡、琵琶和古琴的历史与名曲。",
        ),
        r(
            "ex1",
            "Excel表格入门",
            themes=["职业技能"],
            audience=["在职人员"],
            media_type="video",
            learner_count=8800,
            published_at=_day(140),
        ),
        r(
            "ai1",
            "AI人工智能科普",
            platform="smartedu",
            themes=["科学文化"],
            audience=["青少年"],
            media_type="video",
            learner_count=5600,
            published_at=_day(160),
        ),
        r(
            "ht1",
            "<script>alert(1)</script>书法讲座",
            platform="lndx",
            themes=["闲暇生活"],
            media_type="video",
            learner_count=10,
            published_at=_day(1),
            description='讲座 <b>加粗</b> & 书法 "引号"',
        ),
        r(
            "ht2",
            "安全 & 健康 <课堂>",
            themes=["养生保健"],
            audience=["社区居民"],
            media_type="html",
            learner_count=None,
            description="x" * 300 + "养生" + "y" * 300,
        ),
        r(
            "xl1",
            "心理健康：老年情绪管理",
            platform="lndx",
            themes=["心理健康"],
            audience=["老年人"],
            media_type="audio",
            learner_count=1750,
            published_at=_day(95),
        ),
        r(
            "dj1",
            "隔代教育与亲子沟通",
            platform="smartedu",
            themes=["代际沟通"],
            audience=["家长"],
            media_type="video",
            learner_count=1750,
            published_at=_day(96),
        ),
        r(
            "sm1",
            "生命教育与安宁疗护",
            themes=["生命尊严"],
            audience=["社区居民"],
            media_type="document",
            learner_count=330,
            published_at=_day(97),
        ),
        r(
            "fl1",
            "法律常识：遗嘱与继承",
            platform="lndx",
            themes=["法律法规"],
            audience=["老年人"],
            media_type="video",
            learner_count=1400,
            published_at=_day(98),
        ),
        r(
            "gc1",
            "广场舞入门",
            themes=["闲暇生活"],
            audience=["社区居民"],
            media_type="video",
            learner_count=4100,
            published_at=_day(99),
        ),
        r(
            "sy1",
            "摄影基础",
            platform="smartedu",
            themes=["闲暇生活"],
            audience=["社区居民"],
            media_type="video",
            learner_count=None,
            updated_at=_day(180),
        ),
        r(
            "gh1",
            "國畫山水入門",
            platform="lndx",
            themes=["闲暇生活"],
            audience=["老年人"],
            media_type="video",
            learner_count=600,
        ),
        r(
            "hc1",
            "老年大学合唱班",
            platform="lndx",
            themes=["闲暇生活"],
            audience=["老年人"],
            media_type="live",
            record_type="live",
            learner_count=600,
            published_at=_day(101),
        ),
        r(
            "zy1",
            "社区志愿服务",
            platform="smartedu",
            themes=["思想道德"],
            audience=["社区居民"],
            media_type="html",
            record_type="article",
            learner_count=45,
            published_at=_day(102),
            is_free=False,
        ),
    ]
