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

A local site also heads a story with its place and a colon, as a dateline (西安碑林：书法爱好者的社区雅集,
幸福里社区：老人们的太极晨练); a course's title uses the colon too (太极拳：入门, 乐享课堂：…, 北京：一座城市的历史), so
the head must be a place alone (a place name jieba knows, a province or city of the region table, a district or
community after it, nothing naming an institution or a course) and what follows must not end as a course's title
does (入门, 基础, 班, 技巧, 历史 …). Other headline forms: someone taking part in or winning something (学员参加全市书法
比赛, 合唱团获金奖, 获评示范学校), a programme brought somewhere (书法进社区, 送课下乡), a ceremony or an exhibition
opening (开学典礼, 书画展开幕), something started for good (正式开班), an enrolment notice (招生简章), a cry
(开课啦, 火了), a count of people taking part (200余名老年学员…), a profile (——记…), a report's own genre (侧记,
掠影), how a report tells of learners (爱上, 齐聚, 受欢迎) and a date opening the title (3月15日，…). Whatever its
title, a record teaching nothing of its own whose description opens as a report (近日，…) is news too.
"""

from __future__ import annotations

import re
from functools import lru_cache

import rjieba

from config.regions import region_table
from indexer.analysis import fold
from indexer.record import Record

_REPORT = re.compile(
    r"结业汇报|汇报演出|汇报展演?|成果展演?|(?:作品|成果|书画|摄影)展(?:览)?(?:开幕|开展|$)|喜报|捷报|简讯|快讯"
    r"|圆满(?:结束|落幕|成功|收官)"
    r"|顺利(?:举行|召开|开班|结业|开幕|闭幕|开展)|成功举办|隆重(?:举行|召开|开幕)"
    r"|(?:荣获|喜获|斩获|摘得)[^，,。]{0,15}(?:奖|称号|荣誉|冠军|第[一二三]名)"
    r"|(?:开学|毕业|结业|开班|开营|结营|颁奖|启动|揭牌)(?:典礼|仪式)|(?:展|展览|艺术节|文化节|大赛)(?:开幕|闭幕|落幕|启幕)"
    r"|正式(?:开班|开课|开学|开营|启动|上线|成立|揭牌)|招生(?:简章|公告|启事|通知)|报名(?:通知|启事)"
    r"|(?:开课|开班|开学|报名|招生|上线)啦|[课班队团]火了|——?记[^\s，,]{2}|[：:]记(?!忆|账|录|住|得|事|单|者)[^\s，,]{2}"
    r"|(?:活动)?(?:侧记|掠影|剪影|花絮|速递|小记)(?:$|[！!。\s])"
)
"""Words only a report on an event uses."""
_TOOK_PART = re.compile(
    r"^[^\s，,：:｜|]{2,20}?(?:参加|参与|亮相)[^\s，,]{0,15}(?:比赛|大赛|竞赛|汇演|展演|演出|活动|展览|运动会|联赛|艺术节|合唱节|宣讲)"
    r"|^[^\s，,：:｜|]{2,20}?(?:获评|获|获得)[^\s，,]{0,12}(?:奖|称号|单位|学校|先进|示范|冠军)(?:$|[！!，,。\s])"
)
"""Someone named before taking part in an event or winning something (学员参加全市书法比赛, 合唱团获金奖)."""
_BROUGHT = re.compile(
    r"进(?:社区|校园|乡村|农村|万家|养老院|敬老院|家庭|楼宇|企业|军营|基层)(?:$|[”」』\s，,！!。]|活动)|送[^\s，,]{0,6}下乡"
)
"""A programme brought somewhere (智能手机培训进社区, 送课下乡); never with words after it (…进校园案例研究)."""
_TOLD = re.compile(
    r"(?:老人|居民|学员|大爷|大妈|阿姨|银发族|长者|老年人|爷爷奶奶|爱好者)们?(?:爱上|迷上|齐聚)"
    r"|^[^\s，,：:｜|]{2,20}?(?:开讲(?:啦|了)?|热情高|乐在其中|受欢迎|受追捧|火爆|走红|圈粉)(?:$|[！!。\s])"
    r"|(?:丰富|点亮|温暖|精彩)[^\s，,]{0,4}(?:晚年|生活|夕阳)(?:$|[！!])|(?:学员|老人|居民|长者)(?:风采|心声|故事)$"
)
"""How a report tells of learners and their classes (老人们爱上太极拳, 书法爱好者齐聚老街, 剪纸课受欢迎, 学员风采)."""
_COUNTED = re.compile(
    r"^(?:[0-9]+|[一二三四五六七八九十百千]+)(?:余|多)?(?:名|位)[^\s，,]{0,6}"
    r"(?:学员|老人|居民|老年人|长者|党员|志愿者|市民|村民|家庭)"
    r"(?:参加|参与|齐聚|相聚|走进|来到|报名|同唱|同跳|共度|共学|一起)"
)
"""A count of people taking part opening the title (200余名老年学员参加…, 百名老人同唱一首歌)."""
_DATED = re.compile(r"^(?:[0-9]{4}年)?[0-9]{1,2}月[0-9]{1,2}日[，,\s]|^在[^\s，,：:]{2,10}[，,]|^谁说")
"""A date or a place opening the title as a sentence, as a report does (3月15日，朝阳社区开展…; 在鼓楼，…;
谁说老人学不会…)."""
_QUOTED = re.compile(r"^[“「\"][^”」\"]{2,20}[，,！!][^”」\"]{1,20}[”」\"]")
"""Someone's words opening the title (“活到老，学到老”…): a course names itself, it quotes nobody."""
_DATELINE = re.compile(r"^([^\s，,：:｜|【】\[\]（）()“”\"]{2,9})[：:]\s*(\S.*)$")
"""A head before a colon, to be read as a dateline when it is a place alone."""
_COMMUNITY = re.compile(r"^[\u4e00-\u9fff]{1,6}(?:社区|街道|村|镇|乡)$")
_INSTITUTION = re.compile(
    r"大学|学院|学校|学堂|课堂|讲堂|讲坛|论坛|课|频道|栏目|专区|专题|平台|网|中心|馆|站|园地|之窗|协会|教育|学习|精品"
)
_PLACE_TAGS = frozenset({"ns", "n", "nr", "ng", "f", "nz", "j"})
_COURSE_END = re.compile(
    r"(?:入门|基础|初级|中级|高级|进阶|提高|精讲|讲座|教程|课程|课|班|[0-9一二三四五六七八九十]讲|(?<!新)篇|册|[0-9一二三四五六七八九十上下]集|季|学期|系列|答疑|版"
    r"|技巧|方法|技法|赏析|欣赏|知识|常识|要点|指导|训练|练习|跟练|文化|艺术|历史|制作|保健|养生|建设|实务)"
    r"(?:[（(][^）)]*[）)])?$"
)
"""How a course's title ends, so that 北京：一座城市的历史 is no dateline."""
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


_REPORTED = re.compile(
    r"^(?:近日|日前|昨日|昨天|前不久|本周|上周|今年[0-9一二三四五六七八九十]+月|[0-9]{1,2}月[0-9]{1,2}日"
    r"(?:上午|下午|晚上)?)[，,]"
    r"|现场(?:气氛|座无虚席|热闹|欢声)|此次活动|据悉|据了解|记者(?:从|了解到|获悉)|通讯员"
)
"""How a report's text opens or what only a report says (近日，…; 现场气氛热烈, 此次活动, 据悉, 记者从…了解到); never a
course's words about events (如何策划…活动现场的组织)."""
_TEXT_READ = 200
"""Characters of a description read for a report's words: its opening, where a report says when and who."""


def reads_as_news(record: Record) -> bool:
    """Whether `record` is a news story (see the module): nothing taught of its own, and a headline for a title or
    a report's words in its description's opening (近日，…社区…; 现场气氛热烈; 据悉)."""
    if record.instructors or record.lessons or record.lesson_count:
        return False
    return headline(record.title) or reported(record.description or "")


def reported(text: str) -> bool:
    """Whether a description reads as a report (see `reads_as_news`)."""
    return bool(_REPORTED.search(fold(text[:_TEXT_READ]).strip()))


def headline(title: str) -> bool:
    """Whether a title reads as a news headline (see the module)."""
    text = fold(title).strip()
    if not text or _HOW_TO.search(text):
        return False
    return bool(
        _REPORT.search(text) or _HELD.match(text) or _OPENED.search(text) or _VISIT.search(text)
        or _TOOK_PART.search(text) or _BROUGHT.search(text) or _TOLD.search(text) or _COUNTED.match(text)
        or _DATED.match(text) or _QUOTED.match(text) or _dateline(text)
    )  # fmt: skip


def _dateline(text: str) -> bool:
    """Whether the title opens with a place alone and a colon, and what follows does not end as a course's title."""
    found = _DATELINE.match(text)
    if found is None:
        return False
    head, rest = found.groups()
    return place_alone(head) and not _COURSE_END.search(rest.rstrip("！!。 "))


@lru_cache(maxsize=4096)
def place_alone(head: str) -> bool:
    """Whether `head` names a place and nothing else: a place jieba knows or a province or city of the region table,
    then at most a district's or community's name (西安碑林, 杭州西湖区, 幸福里社区; not 绵阳市社区学院精品课)."""
    if _INSTITUTION.search(head):
        return False
    if _COMMUNITY.match(head):
        return True
    words = rjieba.tag(head, False)
    first, tag = words[0]
    if tag != "ns" and not region_table().names_place(first):
        return False
    rest = words[1:]
    return sum(len(w) for w, _ in rest) <= 5 and all(t in _PLACE_TAGS for _, t in rest)
