"""A course title without the packaging a platform wraps around it: who lists it, when, and in what form.

Platforms re-title one course as 「XX市老年大学2024春季班 · 课名」, 「直播课回放｜课名」, 「XX社区学院精品课：课名」,
「课名·系列微课」, 「课名 全套教程」 or 「课名（共6讲）」. The wrapper is a label of the listing: an organisation (a
name ending in 大学 / 学院 / 中心 …) with an optional term or class label, a broadcast remark (回放, 重播, 精品课), or
a form of packaging (系列讲座, 全套教程, 共N讲), set off by a separator (· | ： ——) or written straight onto the
title's end. A name ending in 课堂 / 讲堂 is left alone: 民族舞课堂 and 情绪管理课堂 are courses, not their
listers. Bracketed remarks are handled by the profile (they are dropped unless they carry a marker).
"""

from __future__ import annotations

import re

from indexer.linkage.markers import strip_markers

_SEPARATOR = r"\s*(?:[·・|｜:：]|——|—|--|\s-\s)\s*"
_ORGANISATION = r"(?:大学|学院|学校|中心|协会|学会|研究会|图书馆|文化馆|博物馆|纪念馆|电视台|广播电台|频道|平台|书院)"
_TERM = r"(?:(?:19|20)[0-9]{2}\s*年?\s*)?(?:[春夏秋冬]季?|上半年|下半年)?\s*(?:班|学期|季|期)?"
_PROGRAMME = r"(?:精品课程?|精品|推荐课程?|推荐|好课|公开课程|课程|专栏|栏目|系列)?"
_BROADCAST = (
    r"(?:直播课?|录播课?|视频课?|线上课?|网课)?(?:回放|重播|回看|录像)(?:版|视频)?|精品课程?|精品推荐|好课推荐|新课上线|新课"
    r"|热门推荐|推荐课程|专栏"
)
_LABEL = re.compile(
    rf"(?:[^\s·・|｜:：—]{{0,20}}{_ORGANISATION}\s*{_TERM}\s*{_PROGRAMME}|(?:19|20)[0-9]{{2}}\s*年?\s*[春夏秋冬]季?\s*(?:班|学期)"
    rf"|{_BROADCAST})"
)
_LEADING = re.compile(rf"^\s*([^·・|｜:：—]{{1,32}}?){_SEPARATOR}")
_TRAILING = re.compile(rf"{_SEPARATOR}([^·・|｜:：—]{{1,32}})\s*$")
_PACKAGING = re.compile(
    r"(?:\s*[·・|｜:：—\-]*\s*)"
    r"(?:系列微课|系列讲座|系列课程|系列课|全套教程|全套课程|完整版|完整课程|全集|合集|精讲|共\s*[0-9一二三四五六七八九十]{1,3}\s*[讲课集节期])"
    r"\s*$"
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


def _strip_once(text: str) -> str:
    # packaging first: what a leading label leaves must name a course without it (XX课堂·下册·系列微课)
    packaging = _PACKAGING.search(text)
    if packaging and _enough(text[: packaging.start()]):
        return text[: packaging.start()]
    leading = _LEADING.match(text)
    if leading and _LABEL.fullmatch(leading.group(1).strip()) and _enough(text[leading.end() :]):
        return text[leading.end() :]
    trailing = _TRAILING.search(text)
    if trailing and _LABEL.fullmatch(trailing.group(1).strip()) and _enough(text[: trailing.start()]):
        return text[: trailing.start()]
    return text


def _enough(rest: str) -> bool:
    return len(re.sub(r"[\s\W_]+", "", strip_markers(rest))) >= MIN_LEFT
