"""Plain-Chinese labels for the codes records carry (media types, record types, free/paid), for the pages."""

from __future__ import annotations

MEDIA_TYPE_LABELS = {
    "video": "视频",
    "audio": "音频",
    "document": "文档",
    "ebook": "电子书",
    "live": "直播",
    "mixed": "多种形式",
    "html": "图文",
}

RECORD_TYPE_LABELS = {
    "course": "课程",
    "micro_course": "微课",
    "lesson": "单节课",
    "video": "视频",
    "document": "文档",
    "ebook": "电子书",
    "live": "直播",
    "article": "文章",
    "case": "案例",
    "programme_entry": "项目介绍",
}

FREE_LABELS = {"true": "免费", "false": "收费"}

SORT_LABELS = {"relevance": "最相关", "newest": "最新", "popular": "学的人最多"}


def media_type_label(code: str | None) -> str:
    """The Chinese word for a media type code (the code itself when unknown)."""
    return MEDIA_TYPE_LABELS.get(code or "", code or "")


def record_type_label(code: str | None) -> str:
    """The Chinese word for a record type code (the code itself when unknown)."""
    return RECORD_TYPE_LABELS.get(code or "", code or "")
