"""A course title without the packaging a platform wraps around it: who lists it, when, and in what form.

Platforms re-title one course as 「XX市老年大学2024春季班 · 课名」, 「直播课回放｜课名」,
「XX社区学院精品课：课名」, 「课名·系列微课」, 「课名 全套教程」, 「课名（共6讲）」 or 「课名 45分钟」. The wrapper
is a label of the listing: an organisation (a name ending in 大学 / 学院 / 中心 …) with an optional term or class
label, a broadcast remark (回放, 重播, 精品课), or a form of packaging (系列讲座, 全套教程, 共N讲, a running time),
set off by a separator (· | 丨 ： —— _) or written straight onto the
title's end. Channels and sites label listings the same way: a channel or column (「XX频道｜」, 「XX栏目·」,
after a platform's own name: 「学习强国·XX频道｜」), a city's learning site (「XX市民学习网｜」, 「课名_XX终身学习网」,
「XX学习在线·」), an episode count or progress (全12集, 12集全, 共8讲, 更新至第5集) and a copy's form (高清, 完整版,
合集). A name ending in 课堂 / 讲堂 is left alone unless it names a channel (空中课堂, 乐龄学堂, 名师讲堂):
民族舞课堂 and 情绪管理课堂 are courses, not their listers. Bracketed remarks are handled by the profile (they are
dropped unless they carry a marker).
"""

from __future__ import annotations

import re

from indexer.linkage.markers import strip_markers

_SEPARATOR = r"\s*(?:[·・•‧|｜丨:：>»_/／～~\-]|——|—)\s*"
_SEPARATOR_CHARS = "·・•‧|｜丨:：>»_/／～~—\\-"
_ORGANISATION = (
    r"(?:大学|学院|学校|中心|协会|学会|研究会|图书馆|文化馆|博物馆|纪念馆|电视台|广播电台|频道|平台|书院|栏目|专栏|专区|板块|讲坛"
    r"|(?:乐龄|银龄|银发|老年|长者|夕阳红|终身学习|全民学习|智慧助老|助老|适老化?|社区教育|老年教育)[”\"」』]?专题"
    r"|(?:学习|课程|体验|主题|资源|保健|生活|健康|文化|艺术|技能|科普|书画|国学|智慧)馆"
    r"|(?:驿|充电|学习|服务)站|园地|天地|之窗|家园|乐园|学习圈|资源库|(?:课程|学习)超市|(?:养生|健康|学习|手工|书画)坊"
    r"|(?:乐龄|银龄|银发族?|中老年|老年|长者)(?:课程|e学)"
    r"|学习网|教育网|学习在线|教育在线|网校|学苑|云课堂|app|客户端|公众号|视频号"
    r"|(?:老年|科普|党建|文明|健康|养生|人民|新华|央视|资讯|服务|新闻)网"
    r"|(?:社区|老年|终身|市民|全民)(?:教育|学习)"
    r"|(?:空中|云端|网上|网络|在线|线上|直播|名师|公益|市民|百姓|社区|乐龄|银龄|银发|夕阳红|老年|长者|周末|智慧|开放|终身"
    r"|全民|幸福|快乐|阳光|金色|掌上|指尖|每日|每周|党员|干部|健康|养生|科普|法治|文化|生活|助老|微|云|大)"
    r"e?(?:课堂|讲堂|学堂|大讲堂|小课堂|微课堂))"
)
"""Who lists a course: an organisation, a channel or column, a learning site, or a channel named 课堂 / 讲堂 by
whom it serves (乐龄课堂, 空中课堂), never by a subject (民族舞课堂 is a course)."""
_TERM = r"(?:(?:19|20)[0-9]{2}\s*年?\s*)?(?:[春夏秋冬]季?|上半年|下半年)?\s*(?:班|学期|季|期)?"
_PROGRAMME = r"(?:精品课程?|精品|推荐课程?|推荐|好课|公开课程|课程|专栏|栏目|系列)?"
_BROADCAST = (
    r"(?:直播课?|录播课?|视频课?|线上课?|网课)?(?:回放|重播|回看|录像)(?:版|视频)?|精品课程?|精品推荐|好课推荐|新课上线|新课"
    r"|热门推荐|推荐课程|专栏"
)
_SEPARATOR_AT = re.compile(_SEPARATOR)
_LEADING_PATH = 3
"""Leading parts looked at: a platform, its channel and a column (学习强国·健康频道｜课名)."""
_TRAILING = re.compile(rf"{_SEPARATOR}([^{_SEPARATOR_CHARS}]{{1,32}})\s*$")
_COUNT = r"[0-9]{1,3}|[一二两三四五六七八九十百]{1,4}"
_LESSON_UNITS = r"(?:个|节|讲)?视频课?|个?课时|学时|节课|堂课|次课"
"""How a listing counts its lessons besides 集 / 讲 / 课 / 节: 12课时, 12个视频, 12节视频课, 12堂课."""
EPISODES = re.compile(
    rf"(?:共|全|含)\s*(?:{_COUNT})\s*(?:{_LESSON_UNITS}|集|讲|课|节|期|章|回)(?:全|完结)?|(?:{_COUNT})\s*(?:集|讲)\s*(?:全|完结)(?!篇)"
    rf"|(?:更新至|更新到|已更新至|已更新|连载至|已更至|更至|已更)\s*第?\s*(?:{_COUNT})\s*(?:集|讲|课|节|期)"
    r"|第?\s*[0-9]{1,3}\s*[-~至到]\s*[0-9]{1,3}\s*[集讲]|(?:持续)?(?:连载中|更新中)"
    rf"|第\s*(?:{_COUNT})\s*[集讲]\s*[-~～至到]\s*第\s*(?:{_COUNT})\s*[集讲]"
    r"|[(（\[]?\s*(?<![0-9])(?:ep)?0?1\s*[-~～]\s*(?:ep)?0?(?:[3-9]|[1-9][0-9]{1,2})\s*[)）\]]?\s*$"
)
"""An episode count, range or progress (全12集, 12集全, 共8讲, 第一集至第十二集, 01-12 or ep01-ep12 at the end,
更新至第5集): how much of the course a listing holds, not which course (更新至第5集 is not the fifth episode). A bare
range at the end counts from the first episode to the third or later: 新概念英语 1-2 and 3-4 are two courses'
books."""
DURATION = (
    r"(?:(?:视频|课程|总|共)?时长\s*[:：]?\s*|视频\s*|共\s*)?约?\s*(?:[0-9]{1,3}\s*(?:分钟|小时|分)"
    r"|[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)"
)
"""A running time at a title's end (45分钟, 时长 35 分钟, 总时长3小时, 视频 40分钟, 时长45:00): how long a listing's
video runs, not which course."""
_PACKAGING_WORDS = (
    rf"{DURATION}|"
    r"系列微课|系列讲座|系列课程|系列课|全套教程|全套课程|全套视频|视频教程|教学视频|完整版|完整课程|全集|合集|合辑|精讲"
    r"|高清版|高清|超清版|超清|蓝光|无水印|已完结|完结(?!篇)"
    rf"|(?<=[\s{_SEPARATOR_CHARS}])(?:{_COUNT})\s*(?:{_LESSON_UNITS}|集|讲|节|课)$"
)
_PACKAGING_END = re.compile(r"[课座程频版集辑讲清光印结全节期章回中时钟分0-9]\s*$")
"""The last character of every packaging form: most titles end otherwise, and are not searched for packaging."""
_PACKAGING = re.compile(rf"(?:\s*[{_SEPARATOR_CHARS}\-]*\s*)(?:(?:{_PACKAGING_WORDS}|{EPISODES.pattern})\s*)+$")
_LABEL = re.compile(
    rf"(?:[^\s{_SEPARATOR_CHARS}]{{0,20}}{_ORGANISATION}\s*{_TERM}\s*{_PROGRAMME}"
    rf"|(?:19|20)[0-9]{{2}}\s*年?\s*[春夏秋冬]季?\s*(?:班|学期)|{_BROADCAST}|(?:(?:{_PACKAGING_WORDS}|{EPISODES.pattern})\s*)+)"
)
MIN_LEFT = 2
"""A wrapper is stripped only when at least this many characters of title remain besides its markers (XX课堂·下册
stays whole: 下册 alone names no course)."""


def unwrapped(folded_title: str) -> str:
    """The title without leading and trailing listing labels and packaging (folded text in, folded text out)."""
    text = folded_title.strip()
    for _ in range(3):  # a label may wrap a label: 直播课回放｜XX老年大学2024春季班 · 课名
        stripped = _strip_once(text)
        if stripped == text:
            break
        text = stripped
    return text


_QUOTED_LABEL = re.compile(r"^\s*[「『〈]([^」』〉]{1,24})[」』〉]\s*")
"""A channel in corner quotes opening a title (「乐龄学堂」课名): stripped when what it quotes is a listing label."""
_SPACED_LABEL = re.compile(r"\s+([^\s]{2,24})\s*$")
"""A site's or organisation's name after the title with only a space between (课名 南京市民学习网)."""
_SPACED_LEADING = re.compile(r"^\s*([^\s]{2,24})\s+(?=\S)")
"""A zone's or platform's name before the title with only a space between (乐龄专区 课名, 浙江省老年教育 课名)."""


def _strip_once(text: str) -> str:
    # packaging first: what a leading label leaves must name a course without it (XX课堂·下册·系列微课)
    packaging = _PACKAGING.search(text) if _PACKAGING_END.search(text) else None
    if packaging and _enough(text[: packaging.start()]):
        return text[: packaging.start()]
    leading = _path_end(text) or _leading_label_end(text)
    if leading:
        return text[leading:]
    tag = _HASHTAG.search(text)
    if tag and _LABEL.fullmatch(tag.group(1).strip()) and _enough(text[: tag.start()] + text[tag.end() :]):
        return (text[: tag.start()] + " " + text[tag.end() :]).strip()
    for pattern in (_TRAILING, _SPACED_LABEL):
        trailing = pattern.search(text)
        if trailing and _LABEL.fullmatch(trailing.group(1).strip()) and _enough(text[: trailing.start()]):
            return text[: trailing.start()]
    for pattern in (_QUOTED_LABEL, _SPACED_LEADING):
        found = pattern.match(text)
        if found and _LABEL.fullmatch(found.group(1).strip()) and _enough(text[found.end() :]):
            return text[found.end() :]
    return text


def _leading_label_end(text: str) -> int | None:
    """Where the title starts after a leading label: the last of the first few parts is a listing label (a
    channel after its platform's name: 学习强国·健康频道｜课名), the longest such path first."""
    separators = [m for m in _SEPARATOR_AT.finditer(text, 0, 48) if m.start() > 0][:_LEADING_PATH]
    for found in reversed(separators):
        head = text[: found.start()]
        label = _SEPARATOR_AT.split(head)[-1].strip()
        if 0 < len(label) <= 32 and _LABEL.fullmatch(label) and _enough(text[found.end() :]):
            return found.end()
    return None


_PATH = re.compile(r"\s*[>»]\s*")
_HOME = frozenset(("首页", "主页", "当前位置"))
_HASHTAG = re.compile(r"#([^#]{1,24})#")
"""A topic tag around a zone's name (课名 #乐龄专区#): dropped when it names a listing label."""


def _path_end(text: str) -> int | None:
    """Where the title starts after a site's path opening with a listing label or the home page (乐龄专区 > 养生保健 >
    课名): the path's last part is the title."""
    steps = list(_PATH.finditer(text))
    first = text[: steps[0].start()].strip() if steps else ""
    if len(steps) < 2 or not (first in _HOME or _LABEL.fullmatch(first)) or not _enough(text[steps[-1].end() :]):
        return None
    return steps[-1].end()


def _enough(rest: str) -> bool:
    return len(re.sub(r"[\s\W_]+", "", strip_markers(rest))) >= MIN_LEFT
