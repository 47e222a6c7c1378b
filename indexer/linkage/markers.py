"""Level, sequence and kind markers in a course title (入门 / 进阶, 第一季, 上 / 下, 2023版, 第3讲, 直播答疑): different
ones veto a merge.

Most markers veto only when both titles carry them and they differ (书法入门 vs 书法 may be one course). Two do
even when one title alone carries them: a session kind (直播答疑, 导学, 预告 …: a Q&A session or a trailer is never
the course it belongs to) and a lecture number (第3讲: a single lecture is not its whole course).
"""

from __future__ import annotations

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
_SEQUENCE = re.compile(rf"第{_NUMBER}\s*(季|期|部|册|辑|卷|级|阶段|学期|单元)")
_EDITION = re.compile(r"((?:19|20)[0-9]{2})\s*(?:年)?\s*(?:版|修订版|新版)")
_PART_BRACKETED = re.compile(rf"[（(【\[]\s*{_NUMBER}\s*[）)】\]]|[（(【\[]\s*([上中下])\s*[）)】\]]")
_PART_TRAILING = re.compile(r"(?:[·・\-—\s]|之)?([上中下])(?:册|篇|部|集)?$|([0-9]{1,2}|[ⅠⅡⅢⅣ])$")
_LECTURE = re.compile(rf"第\s*{_NUMBER}\s*(?:讲|课|集|节|回|话)")
_VOLUME = re.compile(r"([上下])\s*(?:册|篇|卷)|(中)\s*册")
_SESSIONS = (
    ("答疑", "答疑"), ("答问", "答疑"), ("导学", "导学"), ("导读课", "导学"), ("开班仪式", "导学"), ("见面会", "导学"),
    ("预告", "预告"), ("宣传片", "预告"), ("花絮", "预告"), ("复习课", "复习"), ("测验", "测验"), ("作业讲评", "测验"),
)  # fmt: skip
_SESSION = re.compile("|".join(sorted((w for w, _ in _SESSIONS), key=len, reverse=True)))
_SESSION_KIND = dict(_SESSIONS)
_SESSION_WORDS = re.compile(
    rf"(?:直播|线上|现场|课后|期末|期中|阶段)?(?:{_SESSION.pattern})(?:课|会|直播|专场|环节|视频)?"
)
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
    """(unit, n) of 第n季 / 第n期 / 第n册 ..."""
    part: int | None = None
    """(一)/(二), 上/中/下, a trailing 1/2."""
    edition: int | None = None
    """The year of a 2023版."""
    lecture: int | None = None
    """n of 第n讲 / 第n课 / 第n集: the record is one lecture of a course."""
    session: str | None = None
    """The kind of session the record is rather than the course (答疑, 导学, 预告, 复习, 测验)."""

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
        if self.session != other.session:
            return "课程与答疑/导学等场次不同"
        if self.lecture != other.lecture and not (self._numbered_as(other) or other._numbered_as(self)):
            return "单讲与整门课/讲次不同"
        return None

    def _numbered_as(self, other: TitleMarkers) -> bool:
        """第2讲 on one platform is （二） on another: a lecture number written as a bracketed part."""
        return self.lecture is not None and other.lecture is None and other.part == self.lecture and self.part is None


def title_markers(folded_title: str) -> TitleMarkers:
    """The markers of a folded title (indexer.analysis.fold)."""
    levels = {_LEVEL_RANK[m] for m in _LEVEL.findall(folded_title)}
    level = levels.pop() if len(levels) == 1 else (max(levels) if levels else None)
    seq = _SEQUENCE.search(folded_title)
    edition = _EDITION.search(folded_title)
    return TitleMarkers(
        level=level,
        sequence=(seq.group(2), number(seq.group(1))) if seq else None,
        part=_part(folded_title),
        edition=int(edition.group(1)) if edition else None,
        lecture=number(lecture.group(1)) if (lecture := _LECTURE.search(folded_title)) else None,
        session=_SESSION_KIND[session.group(0)] if (session := _SESSION.search(folded_title)) else None,
    )


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
    return number(trailing.group(2))


def strip_markers(folded_title: str) -> str:
    """The title without its markers, so the courses of one series share a blocking key (and then meet a veto)."""
    text = _SEQUENCE.sub("", folded_title)
    text = _LECTURE.sub("", text)
    text = _SESSION_WORDS.sub("", text)
    text = _VOLUME.sub("", text)
    text = _EDITION.sub("", text)
    text = _PART_BRACKETED.sub("", text)
    return _LEVEL.sub("", text)
