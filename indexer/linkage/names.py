"""A teacher's name as linkage compares it: without the label before it and the professional title or rank after it.

Platforms write one teacher as 王秀兰, 王秀兰老师, 主讲：王秀兰副教授, 王秀兰 高级讲师, 王秀兰（主任医师）,
副教授 王秀兰 or 国家一级演员王秀兰. A title is read as optional ranks (副, 高级, 特级, 国家一级, 主任 …) followed by
a role (讲师, 研究员, 医师, 工程师, 演员, 社长, 传承人 …), or as any words ending like a role (师 / 员 / 家 / 长 /
人 …), so titles no list foresaw are stripped too, while the name itself is kept whole. The name ends where the
segmenter ends a word (何静|中医师, not 何静中|医师 though 医师 is listed; 白玉|琴|中医师 is 白玉琴), and a
listed role wins over words that only end like one (王建家老师 is 王建家, not 王建); only where no such end fits is
the shortest name whose remainder reads as a title taken.
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
    r"(?:副|正|高级|中级|初级|特级|资深|首席|主任|主治|主管|助理|执业|注册|非遗|国家级|省级|市级|原|老|退休|客座|名誉|特聘"
    r"|兼职|教授级|正高级|副高级|国家[一二三四]级|[一二三四]级)"
)
_ROLE = (
    r"(?:讲师|教授|研究馆员|研究员|医师|医生|药师|护师|护士|技师|工程师|教师|老师|名师|演员|演奏员|演奏家|编辑|记者|律师"
    r"|会计师|经济师|馆员|导演|指挥|教练员|教练|专家|博士|硕士|博士后|先生|女士|校长|院长|主任|嘉宾|传承人|大夫"
    r"|美术师|书法家|画家|作家|艺术家|营养师|咨询师|社工师|社工|讲解员|同志|导师|博导|硕导|院士|大师|名家|主持人"
    r"|播音员|教研员|会员|理事|主席|秘书长|书记|委员|社长|团长|队长|站长|所长|馆长|法官|检察官|警官|民警|编剧|编审"
    r"|艺人|匠人|手艺人|传人|工作者|志愿者|高工)"
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
_ENDS_LIKE_TITLE = re.compile(
    r"(?!.*(?:大学|学院|学校|医院|中心|研究院|研究所|剧院|公司))[一-鿿]{0,12}?(?:师|员|家|长|官|人|者|士|导|工|授|练)"
)
"""Any words ending like a title or a role, no institution among them (中医师, 研究馆员, 社会体育指导员,
非物质文化遗产代表性传承人): read as a title only after a name the segmenter cuts off (`_without_title`)."""
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


_PARTS = re.compile(r"[\s,，、/／;；|｜]+")


def person_name(name: str) -> str:
    """A teacher's name without label, titles and punctuation: 主讲：王秀兰副教授 / 王秀兰 高级讲师 / 副教授 王秀兰 /
    国家一级演员王秀兰 -> 王秀兰."""
    text = _BRACKETED.sub("", _LABEL.sub("", fold(name).strip()))
    parts = [_squash(part) for part in _PARTS.split(text) if _squash(part)]
    if len(parts) > 1:  # 王秀兰 一级演员 / 一级演员，王秀兰: the one part that is a name
        names = [part for part in parts if _is_cjk(part) and _has_surname(part) and _without_title(part) == part
                 and len(part) in NAME_LENGTHS and not _title_alone(part)]  # fmt: skip
        if len(names) == 1:
            return names[0]
    text = _squash(text)
    named = _without_title(text)
    return named if named != text else _after_title(text)


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
    """The name before a title (王秀兰副教授 -> 王秀兰). Where the segmenter ends a word two to four characters in,
    only such an end may close the name (张伟|中医师, not 张伟中|医师; 王秀兰|中医师, not 王秀|兰中医师); a listed
    title wins over a word that only ends like one (王建家|老师, not 王建|家老师)."""
    if not _is_cjk(text) or len(text) <= min(NAME_LENGTHS):
        return text
    words = rjieba.cut(text, False)
    ends = _word_ends(words)
    cut = [n for n in _LIKELY_LENGTHS if n in ends and _name_like(text[:n], words)]
    tries = ((sorted(cut), _LISTED_TITLE), (cut, _ENDS_LIKE_TITLE), (NAME_LENGTHS, _LISTED_TITLE),
             (NAME_LENGTHS, _LIKE_TITLE))  # fmt: skip
    for lengths, title in tries:
        for length in lengths:
            if len(text) > length and title.fullmatch(text[length:]):
                return text[:length]
    return text


_LIKELY_LENGTHS = (3, 2, 4)
"""Name lengths by how common they are: where the segmenter allows two and only a word ending like a title
follows (白玉|琴|中医师), the three characters; a listed title takes its ranks with it, so it is tried after the
shortest name first (张伟|副主任医师, not 张伟副|主任医师)."""


def _after_title(text: str) -> str:
    """The name after a title opening the text (副教授王秀兰, 国家一级演员王秀兰), or the text as it was."""
    if not _is_cjk(text):
        return text
    for length in NAME_LENGTHS:
        name = text[-length:]
        if len(text) > length and _has_surname(name) and _title_alone(text[:-length]):
            if length == 4 and name[:2] not in COMPOUND_SURNAMES:
                continue
            return name
    return text


def _title_alone(text: str) -> bool:
    """Whether words are a title and nothing else (副教授, 国家一级演员)."""
    return bool(_LISTED_TITLE.fullmatch(text) or _ENDS_LIKE_TITLE.fullmatch(text))


def _word_ends(words: list[str]) -> set[int]:
    """Where the segmenter's words end in the text they cut."""
    ends, at = set(), 0
    for word in words:
        at += len(word)
        ends.add(at)
    return ends


def _name_like(name: str, words: list[str]) -> bool:
    """Whether the opening `name` of a text cut into `words` may be a person's name: one word (王秀兰), or single
    characters (张|伟, 王|建|家), never a word of its own after them (张伟|烹饪 of 张伟烹饪大师, 王秀兰|老 of
    王秀兰老艺术家); four characters only with a compound surname or as one word."""
    compound = name[:2] in COMPOUND_SURNAMES
    if words[0] == name and not _may_be_person(name):  # 南京 of 南京老年大学王丽萍副教授
        return False
    if compound and len(name) == 2 or len(name) == max(NAME_LENGTHS) and not compound and words[0] != name:
        return False
    at = 0
    for word in words:
        if at >= len(name):
            break
        opening = at == 0 and len(word) <= len(name)
        after_surname = at == 2 and compound
        if not (opening or len(word) == 1 or after_surname):
            return False
        at += len(word)
    return True


def _is_cjk(text: str) -> bool:
    return bool(text) and all("\u4e00" <= ch <= "\u9fff" for ch in text)


def _squash(text: str) -> str:
    return _NOISE.sub("", text)
