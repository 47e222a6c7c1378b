"""Level, sequence and kind markers in a course title (入门 / 进阶, 第一季, 上 / 下, 理论篇 / 实操篇, 2023版, 第3讲,
直播答疑, 春季班 / 秋季班): different ones veto a merge.

Most markers veto only when both titles carry them and they differ (书法入门 vs 书法 may be one course). Two do
even when one title alone carries them: a session kind (直播答疑, 导学, 预告 …: a Q&A session or a trailer is never
the course it belongs to) and a lecture number (第3讲: a single lecture is not its whole course).

Platforms number the courses of a line every way: 第2期 / 二期 / （第二期）, 第一单元 / 单元一, 一年级, 二级, 卷二,
2024学年, 第2版, and name its parts (理论篇 / 实操篇, 上篇 / 下篇, 之一 / 之二); Arabic and Chinese numerals are
one number, so 第1期 and 第一期 are the same issue.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_NUMERALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_LEVELS = (
    ("入门", 1), ("初级", 1), ("初阶", 1), ("基础", 1), ("零基础", 1), ("启蒙", 1),
    ("中级", 2), ("中阶", 2),
    ("进阶", 3), ("提高", 3), ("高级", 3), ("高阶", 3), ("精通", 3), ("研修", 3),
)  # fmt: skip
_LEVEL = re.compile("|".join(sorted((w for w, _ in _LEVELS), key=len, reverse=True)))
_LEVEL_RANK = dict(_LEVELS)
_NUMBER = r"([0-9]{1,3}|[一二两三四五六七八九十]{1,3})"
_UNITS = "季|期|部|册|辑|卷|年级|级|阶段|学期|学年|单元|模块|专题|篇|版"
_SEQUENCE = re.compile(rf"第\s*{_NUMBER}\s*({_UNITS})")
_SEQUENCE_AFTER = re.compile(rf"(阶段|单元|模块|专题|卷)\s*{_NUMBER}(?![0-9一二两三四五六七八九十]|\s*[讲课集节回话])")
"""单元一 / 模块2 / 卷二: the unit before its number (not 专题1讲, a lecture)."""
_SEQUENCE_BARE = re.compile(
    r"(?<![第0-9一二两三四五六七八九十百.])([0-9]{1,2}|[一二两三四五六七八九十]{1,3})\s*(期|年级|级)(?![间刊末中限货])"
)
"""二期, 一年级, 三级 without 第 (not 期间 or 期末)."""
_SCHOOL_YEAR = re.compile(r"((?:19|20)[0-9]{2})(?:\s*[-—~至]\s*(?:19|20)?[0-9]{2})?\s*学年度?")
_PIECE = re.compile(r"([一-鿿]{1,2})篇(?=$|[\s·・|｜丨:：—\-)）】\]_,，;；])")
"""理论篇 / 实操篇 / 楷书篇: a named part of a course line, at the end of the title or of one of its parts."""
_FACET = re.compile(r"(理论|实操|实践|实训|操作)(?:课|部分|环节)?(?=$|[\s·・|｜丨:：—\-)）】\]_,，;；])")
"""理论 / 实操 at the end of a title or one of its parts, without 篇: the halves of a course line all the same."""
_NOT_PIECES = frozenset("名长短诗全本每单巨")
"""名篇, 长篇, 诗篇 …: a kind of text, not a part of the course."""
_SINGLE_PIECES = frozenset("上中下前后首续终")
"""上篇 / 续篇: the part is the one character before 篇 (书法上篇 and 书法（上篇） are one part)."""
_EDITION = re.compile(r"((?:19|20)[0-9]{2})\s*(?:年)?\s*(?:版|修订版|新版)")
_PART_BRACKETED = re.compile(rf"[（(【\[]\s*{_NUMBER}\s*[）)】\]]|[（(【\[]\s*([上中下])\s*[）)】\]]")
_PART_TRAILING = re.compile(
    r"(?:[·・\-—\s]|之)?([上中下])(?:册|篇|部|集|卷)?$|(?:之|part\s*|vol\.?\s*)?([0-9]{1,2}|[ⅠⅡⅢⅣ])$"
    r"|之([一二三四五六七八九十]{1,2})$"
)
_LECTURE = re.compile(rf"第\s*{_NUMBER}\s*(?:讲|课|集|节|回|话)")
_VOLUME = re.compile(r"([上下])\s*(?:册|篇|卷)|(中)\s*(?:册|卷)")
_SESSIONS = (
    ("答疑", "答疑"), ("答问", "答疑"), ("导学", "导学"), ("导读课", "导学"), ("开班仪式", "导学"), ("见面会", "导学"),
    ("预告", "预告"), ("宣传片", "预告"), ("花絮", "预告"), ("复习课", "复习"), ("测验", "测验"), ("作业讲评", "测验"),
)  # fmt: skip
_SESSION = re.compile("|".join(sorted((w for w, _ in _SESSIONS), key=len, reverse=True)))
_SESSION_KIND = dict(_SESSIONS)
_SESSION_WORDS = re.compile(
    rf"(?:直播|线上|现场|课后|期末|期中|阶段)?(?:{_SESSION.pattern})(?:课|会|直播|专场|环节|视频)?"
)
_TERM = re.compile(r"([春夏秋冬])季|([寒暑])假")
"""春季班 / 秋季班, 春季学期, 暑假班, 春季养生: the term or season a class is given in, or a season's course."""
_ROMAN = {"Ⅰ": 1, "Ⅱ": 2, "Ⅲ": 3, "Ⅳ": 4}
_UPPER_LOWER = {"上": 1, "中": 2, "下": 3}


def number(text: str) -> int:
    """A small Arabic or Chinese numeral (1-999) as an int."""
    if text.isdigit():
        return int(text)
    if text in _ROMAN:
        return _ROMAN[text]
    if len(text) == 1:
        return _NUMERALS.get(text, 0)
    if text.startswith("十"):  # 十二 -> 12
        return 10 + _NUMERALS.get(text[1:], 0)
    tens, _, ones = text.partition("十")
    return _NUMERALS.get(tens, 0) * 10 + _NUMERALS.get(ones, 0)


@dataclass(frozen=True)
class TitleMarkers:
    """What a title says about which course of a series it is; None where it says nothing."""

    level: int | None = None
    """1 beginner (入门/初级/基础), 2 intermediate (中级), 3 advanced (进阶/提高/高级)."""
    sequence: tuple[str, int] | None = None
    """(unit, n) of 第n季 / 第n期 / 二期 / 单元一 / 一年级 / 2024学年 ..."""
    part: int | None = None
    """(一)/(二), 上/中/下, a trailing 1/2."""
    edition: int | None = None
    """The year of a 2023版."""
    lecture: int | None = None
    """n of 第n讲 / 第n课 / 第n集: the record is one lecture of a course."""
    session: str | None = None
    """The kind of session the record is rather than the course (答疑, 导学, 预告, 复习, 测验)."""
    piece: str | None = None
    """The named part of a course line: 理论 of 理论篇, 上 of 上篇."""
    term: str | None = None
    """The season a class is given in or a course is about: 春 of 2024春季班 or 春季养生, 暑 of 暑假班."""

    def conflict(self, other: TitleMarkers) -> str | None:
        """Why two titles name different courses of one series (both carry the marker and it differs)."""
        if self.level is not None and other.level is not None and self.level != other.level:
            return "级别不同"
        if self.sequence is not None and other.sequence is not None and self.sequence != other.sequence:
            return "季/期不同"
        if self.part is not None and other.part is not None and self.part != other.part:
            return "上下册/分册不同"
        if self.edition is not None and other.edition is not None and self.edition != other.edition:
            return "版本不同"
        if self.piece is not None and other.piece is not None and self.piece != other.piece:
            return "分篇不同"
        if self.term is not None and other.term is not None and self.term != other.term:
            return "学期/季节不同"
        if self.session != other.session:
            return "课程与答疑/导学等场次不同"
        if self.lecture != other.lecture and not (self._numbered_as(other) or other._numbered_as(self)):
            return "单讲与整门课/讲次不同"
        return None

    def _numbered_as(self, other: TitleMarkers) -> bool:
        """第2讲 on one platform is （二） on another: a lecture number written as a bracketed part."""
        return self.lecture is not None and other.lecture is None and other.part == self.lecture and self.part is None


@functools.lru_cache(maxsize=8192)
def title_markers(folded_title: str) -> TitleMarkers:
    """The markers of a folded title (indexer.analysis.fold); cached, as a title's remarks (（第二季）, （上）) and
    the titles of a course's listings repeat."""
    levels = {_LEVEL_RANK[m] for m in _LEVEL.findall(folded_title)}
    level = levels.pop() if len(levels) == 1 else (max(levels) if levels else None)
    edition = _EDITION.search(folded_title)
    return TitleMarkers(
        level=level,
        sequence=_sequence(folded_title),
        part=_part(folded_title),
        edition=int(edition.group(1)) if edition else None,
        lecture=number(lecture.group(1)) if (lecture := _LECTURE.search(folded_title)) else None,
        session=_SESSION_KIND[session.group(0)] if (session := _SESSION.search(folded_title)) else None,
        piece=_piece(_SEQUENCE.sub("", folded_title)),
        term=next((m.group(1) or m.group(2) for m in _TERM.finditer(folded_title)), None),
    )


def _sequence(title: str) -> tuple[str, int] | None:
    if found := _SEQUENCE.search(title):
        return found.group(2), number(found.group(1))
    if found := _SEQUENCE_AFTER.search(title):
        return found.group(1), number(found.group(2))
    if found := _SEQUENCE_BARE.search(title):
        return found.group(2), number(found.group(1))
    if found := _SCHOOL_YEAR.search(title):
        return "学年", int(found.group(1))
    return None


def _piece(title: str) -> str | None:
    found = _PIECE.search(title)
    if found is None or found.group(1)[-1] in _NOT_PIECES:
        facet = _FACET.search(title)
        return facet.group(1) if facet else None
    named = found.group(1)
    return named[-1] if named[-1] in _SINGLE_PIECES else named


def _part(title: str) -> int | None:
    volume = _VOLUME.search(title)
    if volume:
        return _UPPER_LOWER[volume.group(1) or volume.group(2)]
    bracketed = _PART_BRACKETED.search(title)
    if bracketed:
        if bracketed.group(1):
            return number(bracketed.group(1))
        return _UPPER_LOWER[bracketed.group(2)]
    trailing = _PART_TRAILING.search(title.rstrip("）)】] "))
    if trailing is None:
        return None
    if trailing.group(1):
        return _UPPER_LOWER[trailing.group(1)]
    return number(trailing.group(2) or trailing.group(3))


def strip_markers(folded_title: str) -> str:
    """The title without its markers, so the courses of one series share a blocking key (and then meet a veto)."""
    text = _SEQUENCE.sub("", folded_title)
    text = _SEQUENCE_AFTER.sub("", text)
    text = _SEQUENCE_BARE.sub("", text)
    text = _SCHOOL_YEAR.sub("", text)
    text = _FACET.sub("", _PIECE.sub(_unpieced, text))
    text = _LECTURE.sub("", text)
    text = _SESSION_WORDS.sub("", text)
    text = _VOLUME.sub("", text)
    text = _EDITION.sub("", text)
    text = _PART_BRACKETED.sub("", text)
    return _LEVEL.sub("", text)


def _unpieced(found: re.Match[str]) -> str:
    """理论篇 out of a title; 名篇 and 长篇 stay (they are what the course reads, not a part of it)."""
    named = found.group(1)
    if named[-1] in _NOT_PIECES:
        return found.group(0)
    return named[:-1] if named[-1] in _SINGLE_PIECES else ""
