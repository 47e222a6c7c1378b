"""A teacher's name as linkage compares it: without the label before it and the professional title or rank after it.

Platforms write one teacher as 王秀兰, 王秀兰老师, 主讲：王秀兰副教授, 王秀兰 高级讲师 or 王秀兰（主任医师）. A title
is read as optional ranks (副, 高级, 特级, 国家一级, 主任 …) followed by a role (讲师, 研究员, 医师, 工程师, 演员 …,
or any word ending in 师 / 员 / 家), so titles no list foresaw are stripped too, while the name itself is kept
whole: the shortest name of two to four characters whose remainder reads as a title wins, and a remainder made
of a listed role wins over one that only ends like a role (王建家老师 is 王建家, not 王建).
"""

from __future__ import annotations

import re

import rjieba

from indexer.analysis import fold

_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
_LABEL = re.compile(
    r"^(?:主讲人|主讲教师|主讲老师|主讲嘉宾|主讲专家|主讲|授课教师|授课老师|授课专家|授课人|授课|讲授人|讲授|讲师|教师"
    r"|任课教师|任课老师|指导教师|指导老师|讲解人|讲解|讲者)\s*[:：]?\s*"
)
_BRACKETED = re.compile(r"[（(【\[][^）)】\]]*[）)】\]]")
_RANK = (
    r"(?:副|正|高级|中级|初级|特级|资深|首席|主任|主治|主管|助理|执业|注册|非遗|国家级|省级|市级"
    r"|国家[一二三四]级|[一二三四]级)"
)
_ROLE = (
    r"(?:讲师|教授|研究员|医师|医生|药师|护师|护士|技师|工程师|教师|老师|名师|演员|演奏员|演奏家|编辑|记者|律师"
    r"|会计师|经济师|馆员|导演|指挥|教练员|教练|专家|博士|硕士|博士后|先生|女士|校长|院长|主任|嘉宾|传承人|大夫"
    r"|美术师|书法家|画家|作家|艺术家|营养师|咨询师|社工师|社工|讲解员|同志)"
)
_LISTED_TITLE = re.compile(rf"{_RANK}*{_ROLE}")
_TITLE_IN_TEXT = _LISTED_TITLE
_ROLE_IN_TEXT = re.compile(_ROLE)
"""A role alone, for scanning a whole text (a rank before it is read with the name): ranks before every
character cost a scan ~4x."""
_BEFORE_A_NAME = frozenset("由的着著随请邀是为和与及跟向在学院校心所会团台馆司局委部处站")
"""Characters a name may follow in a text: 由 / 的 / 跟着 / 邀请 …, or the end of an institution (大学, 医院, 中心):
课程是由 holds no name 程是由."""
_GENERIC_TITLES = frozenset(("老师", "教师", "名师", "专家", "嘉宾", "先生", "女士", "同志", "主任"))
_AFTER_INSTITUTION = re.compile(
    r"^.*(?:大学|学院|学校|医院|中心|研究院|研究所|协会|学会|剧院|剧团|乐团|电视台|图书馆|文化馆|博物馆|委员会|公司)"
    r"的?([一-鿿]{2,4})$"
)
"""A name after its institution, no title given (南京老年大学王秀兰)."""
_LIKE_TITLE = re.compile(rf"{_RANK}*[一-鿿]{{1,4}}(?:师|员|家)")
NAME_LENGTHS = (2, 3, 4)
"""Chinese personal names: a surname and a given name, two to four characters (compound surnames: 欧阳, 司马)."""
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆"
    "汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍"
    "庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华"
    "喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和"
    "仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉"
    "伊仝区郜海阎帅钮揭卿晋辜伏萧傅洪赖元平凤花廉昌云宣杭禹贝祖茅强湛狄裘荀芮汲井富巴牧山秋戎束幸印宿怀鄂索屠双贡扶"
    "濮寿浦慕茹习鱼容慎戈庾居衡步弘禄阙东越隆晁融阚那丰巢相权逯盖益桓郦雍邰诸嵇邴羊於"
)
"""Common single-character surnames (about 400 of them cover nearly every Chinese person): a name read out of
free text must open with one, so that 由浅入深讲授 names nobody."""
COMPOUND_SURNAMES = frozenset(
    ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "令狐",
     "端木", "独孤", "南宫", "西门", "申屠", "轩辕", "呼延", "澹台", "百里", "东郭", "万俟", "闻人", "司空")
)  # fmt: skip
_BEFORE_NAME = re.compile(
    r"^.*(?:大学|学院|学校|医院|中心|研究院|研究所|协会|学会|剧院|剧团|乐团|电视台|图书馆|文化馆|博物馆|委员会|公司"
    rf"|{_RANK}*{_ROLE})"
)
_TRAILING_TITLE = re.compile(rf"(?:{_RANK}*{_ROLE})+$")
"""What may stand before a name in a line of text: the teacher's institution or title (南京老年大学王秀兰,
副教授王秀兰)."""


def person_name(name: str) -> str:
    """A teacher's name without label, titles and punctuation: 主讲：王秀兰副教授 / 王秀兰 高级讲师 -> 王秀兰."""
    text = _squash(_BRACKETED.sub("", _LABEL.sub("", fold(name).strip())))
    return _without_title(text)


def name_in_text(text: str, *, labelled: bool = False, prose: bool = False) -> str | None:
    """A teacher's name read out of words of a text (主讲：南京老年大学王秀兰副教授 / 本课由王秀兰老师 /
    王秀兰适合…), or None when no two-to-four-character name opening with a common surname is there. A name stands
    right before a title (王秀兰副教授), right after one (副教授王秀兰) or an institution (南京老年大学王秀兰); what
    precedes it (本课由) is not part of it. A `labelled` value (what follows 主讲：) may also be a name alone,
    titles aside, whatever its surname, or a name run into the words after it (王秀兰适合初学者). In `prose`, a
    word the segmenter knows as something other than a person (全国名师, 南京名师, 金牌讲师) is no name."""
    found = _name_in(text, labelled=labelled)
    if found is None or _TITLE_IN_TEXT.search(found) or (prose and not _may_be_person(found)):
        return None  # 高级讲师, 全国 (of 全国名师) are no one's name
    return found


def _name_in(text: str, *, labelled: bool) -> str | None:
    name = _squash(_BRACKETED.sub("", _LABEL.sub("", fold(text).strip())))
    for whole in (_without_title(name),):
        named = labelled or _has_surname(whole)
        if named and min(NAME_LENGTHS) <= len(whole) <= max(NAME_LENGTHS) and _is_cjk(whole):
            return whole
    for title in _TITLE_IN_TEXT.finditer(name):
        found = _name_ending(name[: title.start()]) or _opening_name(name[title.end() :])
        if found:
            return found
    after = _AFTER_INSTITUTION.match(name)
    if after and _has_surname(after.group(1)):
        return after.group(1)
    return _opening_name(name) if labelled else None


def has_teacher_title(text: str, *, professional: bool = False) -> bool:
    """Whether words name a title or rank (老师, 副教授, 主任医师) anywhere in them; `professional`: a rank or a
    profession, not a word any sentence may hold (老师, 专家, 嘉宾)."""
    return any(not professional or t.group(0) not in _GENERIC_TITLES for t in _TITLE_IN_TEXT.finditer(text))


def teacher_titles(text: str) -> list[re.Match[str]]:
    """Where words of a text name a title's role (王秀兰老师带你 -> 老师, 王秀兰副教授 -> 教授)."""
    return list(_ROLE_IN_TEXT.finditer(text))


def _may_be_person(name: str) -> bool:
    """Whether the segmenter reads a name as a person's, or as no single word it knows (全国 is a noun, 南京 a
    place, 王秀兰 a person)."""
    tags = rjieba.tag(name, False)
    return len(tags) > 1 or tags[0][1].startswith("nr")


def _name_ending(text: str) -> str | None:
    """The name at the end of `text` (南京老年大学王秀兰 -> 王秀兰, 本课由王秀兰 -> 王秀兰): a compound surname's four
    characters, else the three or two characters opening with a surname, where what stands before them may end
    before a name (由, 的, an institution, nothing)."""
    for length in (4, 3, 2):
        name = text[-length:]
        if len(text) < length or not _is_cjk(name) or not _has_surname(name):
            continue
        if (length == 4) != (name[:2] in COMPOUND_SURNAMES):
            continue
        if length == len(text) or text[-length - 1] in _BEFORE_A_NAME:
            return name
    return None


def _opening_name(text: str) -> str | None:
    """The name opening `text` (王秀兰适合初学者 -> 王秀兰): a compound surname's four characters or three."""
    if text[:2] in COMPOUND_SURNAMES:
        return text[:4]
    return text[:3] if len(text) >= 2 and text[0] in SURNAMES and _is_cjk(text[:3]) else None


def _has_surname(name: str) -> bool:
    return bool(name) and name[0] in SURNAMES or name[:2] in COMPOUND_SURNAMES


def _without_title(text: str) -> str:
    if not _is_cjk(text) or len(text) <= min(NAME_LENGTHS):
        return text
    for title in (_LISTED_TITLE, _LIKE_TITLE):
        for length in NAME_LENGTHS:
            if len(text) > length and title.fullmatch(text[length:]):
                return text[:length]
    return text


def _is_cjk(text: str) -> bool:
    return bool(text) and all("\u4e00" <= ch <= "\u9fff" for ch in text)


def _squash(text: str) -> str:
    return _NOISE.sub("", text)
