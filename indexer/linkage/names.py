"""A teacher's name as linkage compares it: without the label before it and the professional title or rank after it.

Platforms write one teacher as 王秀兰, 王秀兰老师, 主讲：王秀兰副教授, 王秀兰 高级讲师 or 王秀兰（主任医师）. A title
is read as optional ranks (副, 高级, 特级, 国家一级, 主任 …) followed by a role (讲师, 研究员, 医师, 工程师, 演员 …,
or any word ending in 师 / 员 / 家), so titles no list foresaw are stripped too, while the name itself is kept
whole: the shortest name of two to four characters whose remainder reads as a title wins, and a remainder made
of a listed role wins over one that only ends like a role (王建家老师 is 王建家, not 王建).
"""

from __future__ import annotations

import re

from indexer.analysis import fold

_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
_LABEL = re.compile(r"^(?:主讲人|主讲教师|主讲老师|主讲|授课教师|授课老师|授课|讲授|讲师|教师)\s*[:：]?\s*")
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
_LIKE_TITLE = re.compile(rf"{_RANK}*[一-鿿]{{1,4}}(?:师|员|家)")
NAME_LENGTHS = (2, 3, 4)
"""Chinese personal names: a surname and a given name, two to four characters (compound surnames: 欧阳, 司马)."""


def person_name(name: str) -> str:
    """A teacher's name without label, titles and punctuation: 主讲：王秀兰副教授 / 王秀兰 高级讲师 -> 王秀兰."""
    text = _squash(_BRACKETED.sub("", _LABEL.sub("", fold(name).strip())))
    return _without_title(text)


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
