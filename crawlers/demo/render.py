"""How the demo platforms write their catalogue out: API JSON, the GBK RSS feed and small HTML pages."""

from __future__ import annotations

import json
import re
from email.utils import format_datetime
from html import escape
from typing import Any

from crawlers.demo.content import DemoCatalogue, DemoCourse, DemoFeedItem

FEED_ENCODING = "GBK"
DEMO_NOTICE = "这是 edufed 内置的演示页面，内容为虚构，仅用于离线体验，并非真实平台的课程。"
# The demo's article pages drop scripts that the feed's HTML carries (the feed keeps them, as a CMS might).
SCRIPT = re.compile(r"<script\b.*?</script\s*>", re.IGNORECASE | re.DOTALL)
PAGE_STYLE = (
    "body{font:18px/1.7 sans-serif;max-width:46em;margin:1em auto;padding:0 1em;color:#222}"
    ".notice{background:#fff6d5;border:1px solid #e6c200;padding:.5em 1em}"
    "h1{font-size:1.5em}li{margin:.2em 0}.meta{color:#555}"
)


def json_bytes(data: Any) -> bytes:
    """A JSON body as the platform sends it: UTF-8, Chinese left unescaped."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def paging_body(items: list[dict[str, Any]], page_count: int) -> bytes:
    """The Course/Paging response: {"Data": {"PageListInfos": [...], "PageCount": n}}."""
    return json_bytes({"Data": {"PageListInfos": items, "PageCount": page_count}})


def details_body(course: DemoCourse) -> bytes:
    """The MicroCourse/Details response: {"Data": {"Name": ..., "Modules": [{"Id", "Title"}]}}."""
    return json_bytes({"Data": {"Name": course.item.get("Name"), "Modules": course.modules()}})


def error_body(message: str) -> bytes:
    """An API error body in the platform's envelope."""
    return json_bytes({"Data": None, "Message": message})


def _rss_item(item: DemoFeedItem, base_url: str) -> list[str]:
    lines = ["<item>", f"<title>{escape(item.title, quote=False)}</title>"]
    if item.page_path:
        lines.append(f"<link>{escape(base_url + item.page_path, quote=False)}</link>")
    description = item.description
    if item.unit:
        description += f"<p>报送单位：{escape(item.unit, quote=False)}</p>"
    lines += [
        f"<description>{escape(description, quote=False)}</description>",
        f"<category>{escape(item.category, quote=False)}</category>",
        f"<pubDate>{format_datetime(item.published)}</pubDate>",
    ]
    if item.guid:
        lines.append(f'<guid isPermaLink="false">{escape(item.guid, quote=False)}</guid>')
    lines.append("</item>")
    return lines


def rss_body(catalogue: DemoCatalogue, base_url: str) -> bytes:
    """The community-education site's RSS 2.0 feed, newest first, encoded in GBK as such CMSs do.

    Characters GBK lacks become XML character references, so nothing is lost.
    """
    items = sorted(catalogue.items, key=lambda i: i.published, reverse=True)
    lines = [
        f'<?xml version="1.0" encoding="{FEED_ENCODING}"?>',
        '<rss version="2.0">',
        "<channel>",
        f"<title>{escape(catalogue.feed_title, quote=False)}</title>",
        f"<link>{escape(base_url, quote=False)}/shequ/</link>",
        f"<description>{escape(catalogue.feed_description, quote=False)}</description>",
        "<language>zh-cn</language>",
        f"<lastBuildDate>{format_datetime(catalogue.last_updated)}</lastBuildDate>",
    ]
    for item in items:
        lines += _rss_item(item, base_url)
    lines += ["</channel>", "</rss>", ""]
    return "\n".join(lines).encode(FEED_ENCODING, errors="xmlcharrefreplace")


def html_page(title: str, body: str, *, charset: str = "utf-8") -> bytes:
    """A complete small HTML page; `body` must already be escaped."""
    text = (
        f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="{charset}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{PAGE_STYLE}</style></head>\n"
        f'<body><p class="notice">{escape(DEMO_NOTICE)}</p>\n{body}\n</body></html>\n'
    )
    return text.encode(charset, errors="xmlcharrefreplace")


def course_page(course: DemoCourse) -> bytes:
    """The human page of one course ("the course on its own platform")."""
    item = course.item
    meta = [
        ("主讲", item.get("Teacher")),
        ("来源", item.get("SourceName")),
        ("学习人数", item.get("StudentCount")),
        ("标签", item.get("Tag")),
    ]
    rows = "".join(f"<li>{escape(k)}：{escape(str(v))}</li>" for k, v in meta if v not in (None, ""))
    lessons = "".join(f"<li>{escape(title)}</li>" for title in course.lessons)
    body = (
        f"<h1>{escape(course.name or '（无标题）')}</h1>"
        f'<p class="meta">{escape(str(item.get("Subtitle") or ""))}</p>'
        f"<ul>{rows}</ul><h2>课程目录（共 {len(course.lessons)} 讲）</h2><ol>{lessons}</ol>"
        '<p><a href="../home">返回课程列表</a></p>'
    )
    return html_page(f"{course.name or '课程'} | 终身教育平台（演示）", body)


def course_list_page(catalogue: DemoCatalogue) -> bytes:
    """The le.ouchn-style home page: every course with a link to its page."""
    links = "".join(
        f'<li><a href="courseDetails/{escape(c.id)}">{escape(c.name)}</a> '
        f'<span class="meta">{escape(str(c.item.get("SourceName") or ""))}</span></li>'
        for c in catalogue.courses
        if c.id and c.name.strip()
    )
    body = f"<h1>国家开放大学终身教育平台（演示）</h1><ol>{links}</ol>"
    return html_page("首页 | 终身教育平台（演示）", body)


def article_page(item: DemoFeedItem) -> bytes:
    """An article page of the community-education CMS, in GBK like its feed."""
    body = (
        f"<h1>{escape(item.title or '（无标题）')}</h1>"
        f'<p class="meta">{escape(item.category)} · {item.published:%Y-%m-%d %H:%M}'
        f"{' · 报送单位：' + escape(item.unit) if item.unit else ''}</p>"
        f"<div>{SCRIPT.sub('', item.description)}</div>"
        '<p><a href="/shequ/">返回资源推荐</a></p>'
    )
    return html_page(f"{item.title} - 中国社区教育网（演示）", body, charset=FEED_ENCODING)


def article_list_page(catalogue: DemoCatalogue) -> bytes:
    """The community-education site's list of recommended resources, newest first."""
    items = sorted(catalogue.items, key=lambda i: i.published, reverse=True)
    links = "".join(
        f'<li><a href="{escape(i.page_path)}">{escape(i.title)}</a> '
        f'<span class="meta">{i.published:%Y-%m-%d}</span></li>'
        for i in items
        if i.page_path and i.title.strip()
    )
    body = f'<h1>{escape(catalogue.feed_title)}</h1><p><a href="/shequ/rss.xml">RSS 订阅</a></p><ol>{links}</ol>'
    return html_page(catalogue.feed_title, body, charset=FEED_ENCODING)


def index_page() -> bytes:
    """The demo server's front page, pointing at both platforms and the feed."""
    body = (
        "<h1>edufed 演示平台</h1><ul>"
        '<li><a href="/le/home">国家开放大学终身教育平台（演示）</a>：JSON 接口在 /le/api/Course/Paging</li>'
        '<li><a href="/shequ/">中国社区教育网·资源推荐（演示）</a>：RSS 在 /shequ/rss.xml</li></ul>'
    )
    return html_page("edufed 演示平台", body)
