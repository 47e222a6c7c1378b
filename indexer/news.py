"""Whether a record is a news story about learning rather than something to learn from.

Community-education and 老年大学 sites publish their news in the same feeds as their courses: 「XX街道举办金融知识
公益讲座」, 「XX老年大学模特班结业汇报」, 「XX社区书法兴趣小组成立」. Such a story holds the words of the subject
(模特, 书法) as squarely as the courses do, often in a shorter title, so the engine may rank it first; a learner
searching 模特 wants the courses. A record reads as news when it teaches nothing of its own (no teacher, no
lessons) and its title is a headline: an event held or opened by someone named before it (举办, 举行, 开展,
召开, 揭牌), a class, team or group opened or closed (班结业, 兴趣小组成立), a visit to a place (走进XX社区), or a
report's own words (结业汇报, 汇报演出, 学员作品展, 喜报, 圆满落幕, 荣获…奖). A course's title that only uses such a
word (如何开展社区教育, 活动策划) is no headline: what precedes the verb must name who held the event, and a title
with how-to words (如何, 方法, 指南) is never one.
"""

from __future__ import annotations

import re

from indexer.analysis import fold
from indexer.record import Record

_REPORT = re.compile(
    r"结业汇报|汇报演出|汇报展演?|成果展演?|(?:作品|成果|书画|摄影)展(?:览)?(?:开幕|开展|$)|喜报|捷报|简讯|快讯"
    r"|圆满(?:结束|落幕|成功|收官)"
    r"|顺利(?:举行|召开|开班|结业|开幕|闭幕|开展)|成功举办|隆重(?:举行|召开|开幕)"
    r"|(?:荣获|喜获|斩获|摘得)[^，,。]{0,15}(?:奖|称号|荣誉|冠军|第[一二三]名)"
)
"""Words only a report on an event uses."""
_HELD = re.compile(r"^[^\s，,：:｜|]{2,20}?(?:举办|举行|开展|召开|揭牌|启动|组织开展|开启)")
"""An event held by someone named before the verb (甘井子街道举办…, 市老年大学召开…)."""
_OPENED = re.compile(
    r"(?:班|队|团|组|小组|协会|社团|学校|大学|学院|分校|教学点|学习点|站|基地)"
    r"(?:成立|开班|结业|毕业|开学|揭牌|挂牌|开课)(?:了|啦|仪式|典礼)?(?:$|[\s，,！!。])"
)
"""A class, team or school opened or closed (模特班结业, 越剧兴趣小组成立, 社区学习点揭牌)."""
_VISIT = re.compile(r"走进[^\s，,]{1,10}(?:社区|街道|村|乡|镇|养老院|敬老院|福利院|小学|中学|军营|企业)")
_HOW_TO = re.compile(r"^(?:浅谈|谈谈|论|学会|教你|手把手|跟我学|学习)|如何|怎样|怎么|方法|技巧|指南|教程")
"""Words of a course's or an essay's title, never of a headline (社区活动如何开展)."""


def reads_as_news(record: Record) -> bool:
    """Whether `record` is a news story (see the module): nothing taught of its own and a headline for a title."""
    if record.instructors or record.lessons or record.lesson_count:
        return False
    return headline(record.title)


def headline(title: str) -> bool:
    """Whether a title reads as a news headline (see the module)."""
    text = fold(title).strip()
    if not text or _HOW_TO.search(text):
        return False
    return bool(_REPORT.search(text) or _HELD.match(text) or _OPENED.search(text) or _VISIT.search(text))
