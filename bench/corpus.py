"""A deterministic generator of realistic lifelong-learning course records, for benchmarks at 100k-1M scale.

Titles and descriptions are composed from subject lists per theme, the way 老年大学 and open-university
catalogues name their courses, so term frequencies look like a real catalogue: a few very common words
(健康, 入门, 老年人) and a long tail of specific subjects.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from indexer.record import Lesson, Person, Provider, Record

SUBJECTS: dict[str, list[str]] = {
    "思想道德": [
        "党史",
        "红色故事",
        "文明礼仪",
        "好家风",
        "志愿服务",
        "社会主义核心价值观",
        "二十大精神",
        "道德讲堂",
        "传统美德",
        "爱国主义教育",
    ],
    "科学文化": [
        "唐诗鉴赏",
        "宋词赏析",
        "中国历史",
        "国学经典",
        "英语口语",
        "日语入门",
        "天文科普",
        "地理常识",
        "智能手机应用",
        "微信使用",
        "电脑基础",
        "人工智能",
        "数字素养",
        "网购与移动支付",
        "论语选读",
    ],
    "养生保健": [
        "中医养生",
        "太极拳",
        "八段锦",
        "健身气功",
        "高血压防治",
        "糖尿病饮食",
        "合理用药",
        "营养膳食",
        "防跌倒训练",
        "骨质疏松预防",
        "颈椎保健",
        "推拿按摩",
        "四季养生",
        "瑜伽",
    ],
    "心理健康": [
        "情绪管理",
        "退休生活适应",
        "老年心理健康",
        "睡眠改善",
        "压力调适",
        "积极心态",
        "孤独感应对",
        "幸福感提升",
    ],
    "职业技能": [
        "办公软件Excel",
        "电商直播",
        "农业技术",
        "乡村振兴",
        "创业指导",
        "家政服务",
        "养老护理员",
        "育婴师",
        "短视频运营",
        "会计基础",
        "计算机二级",
        "茶叶种植",
    ],
    "法律法规": [
        "民法典",
        "老年人权益保障",
        "反诈防骗",
        "遗嘱继承",
        "婚姻家庭法",
        "消费者权益",
        "合同常识",
        "赡养与监护",
    ],
    "家庭理财": [
        "家庭理财",
        "养老金规划",
        "保险知识",
        "基金入门",
        "储蓄与存款",
        "医保报销",
        "记账与预算",
        "防范金融诈骗",
    ],
    "闲暇生活": [
        "书法",
        "楷书",
        "行书",
        "国画花鸟",
        "国画山水",
        "工笔画",
        "声乐",
        "合唱",
        "古筝",
        "二胡",
        "葫芦丝",
        "电子琴",
        "钢琴",
        "广场舞",
        "民族舞",
        "手机摄影",
        "短视频制作",
        "京剧",
        "越剧",
        "茶艺",
        "插花",
        "烘焙",
        "家庭园艺",
        "旅游英语",
        "剪纸",
        "编织",
        "模特走秀",
        "朗诵",
    ],
    "代际沟通": ["隔代教育", "祖孙沟通", "家庭教育", "亲子阅读", "两代人相处", "带娃经验"],
    "生命尊严": ["安宁疗护", "生命教育", "失能照护", "意定监护", "临终关怀", "器官捐献常识"],
}
PATTERNS = [
    "{s}入门",
    "{s}基础",
    "{s}十二讲",
    "{s}实用技巧",
    "{s}（提高班）",
    "{s}精讲",
    "轻松学{s}",
    "零基础学{s}",
    "老年人{s}课堂",
    "{s}第{n}讲",
    "{s}：从入门到精通",
    "社区{s}公开课",
    "{s}与生活",
    "跟名师学{s}",
    "{s}百问",
]
SENTENCES = [
    "本课程面向社区居民和老年朋友，讲解{s}的基本知识。",
    "通过{n}个短小的视频，手把手带您学会{s}。",
    "课程由经验丰富的老师主讲，内容通俗易懂。",
    "每讲十分钟左右，适合在手机上随时学习。",
    "学完本课，您可以在日常生活中运用{s}的方法。",
    "课程配有练习和讲义，帮助巩固所学。",
    "适合零基础的学员，也适合希望系统提高的学员。",
    "结合大量生活实例，帮助老年人健康快乐地生活。",
]
PLATFORMS = [
    ("le_ouchn", "国家开放大学终身教育平台"),
    ("lndx", "国家老年大学"),
    ("lnjyw", "中国老年教育网"),
    ("shequ", "中国社区教育网"),
    ("goschool", "全民终身学习公共服务平台"),
    ("smartedu_lifelong", "国家智慧教育平台"),
    ("shlll", "上海学习网"),
    ("zjlll", "浙江学习网"),
]
PROVIDERS = [
    "国家开放大学",
    "上海开放大学",
    "浙江开放大学",
    "北京开放大学",
    "江苏开放大学",
    "广州老年大学",
    "长春老年大学",
    "成都市社区大学",
    "宁波老年电视大学",
    "石家庄市老年大学",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["秀兰", "建国", "志强", "丽华", "文博", "淑芬", "海燕", "国庆", "明", "静", "伟", "芳", "红梅", "晓东"]
AUDIENCES = ["老年人", "社区居民", "在职人员", "农村居民", "家长"]
MEDIA = ["video", "video", "video", "document", "live", "ebook", "audio"]


def generate(count: int, *, seed: int = 20261128) -> Iterator[Record]:
    """Yield `count` records; the same seed gives the same corpus."""
    rng = random.Random(seed)
    themes = list(SUBJECTS)
    base = datetime(2018, 1, 1, tzinfo=UTC)
    fetched = datetime(2026, 11, 28, tzinfo=UTC)
    for i in range(count):
        theme = rng.choice(themes)
        subject = rng.choice(SUBJECTS[theme])
        n = rng.randint(3, 24)
        title = rng.choice(PATTERNS).format(s=subject, n=rng.randint(1, 30))
        platform, platform_name = PLATFORMS[i % len(PLATFORMS)]
        description = "".join(rng.choice(SENTENCES).format(s=subject, n=n) for _ in range(rng.randint(2, 5)))
        second = rng.choice(themes)
        record = Record(
            uid=f"{platform}:bench-{i:07d}",
            source=platform,
            source_id=f"bench-{i:07d}",
            record_type="course",
            url=f"https://example.edu.cn/{platform}/course/{i}",
            title=title,
            subtitle=f"{subject}系列课程",
            description=description,
            instructors=[Person(name=rng.choice(SURNAMES) + rng.choice(GIVEN))],
            provider=Provider(name=rng.choice(PROVIDERS)),
            platform=platform,
            platform_name=platform_name,
            tags=[subject, theme],
            themes=[theme] if second == theme or rng.random() < 0.6 else [theme, second],
            audience=rng.sample(AUDIENCES, rng.randint(1, 2)),
            media_type=rng.choice(MEDIA),  # type: ignore[arg-type]
            lessons=[Lesson(id=str(k), title=f"第{k}讲", order=k) for k in range(1, 4)],
            lesson_count=n,
            learner_count=int(rng.lognormvariate(6, 2)),
            is_free=rng.random() < 0.9,
            published_at=base + timedelta(days=rng.randint(0, 3200), seconds=rng.randint(0, 86399)),
            fetched_at=fetched,
            raw={"fields": {"title": title}, "payload": {"i": i}},
        )
        record.content_hash = record.compute_hash()
        yield record
