"""Plain-Chinese labels for the codes records carry (media types, record types, free/paid), for the pages."""

from __future__ import annotations

import re

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


# Source config fields as the operator form and its problems name them (the field path stays beside the label).
FIELD_LABELS = {
    "id": "来源编号", "name": "来源名称", "kind": "来源类型", "platform": "平台编号", "platform_name": "平台名称",
    "enabled": "是否启用", "url": "采集地址", "base_url": "采集地址（OAI-PMH 接口）",
    "version_url": "采集地址（版本索引）", "start_urls": "采集地址（列表页）", "detail_urls": "详情页网址",
    "mapping": "字段映射", "request": "请求",
    "schedule": "采集计划", "schedule.interval_minutes": "采集间隔（分钟）", "schedule.cron": "定时表达式",
    "schedule.jitter_seconds": "随机推迟（秒）", "schedule.timeout_minutes": "最长采集时间（分钟）",
    "schedule.stale_after_hours": "多久算数据过期（小时）",
    "defaults": "默认值", "obey_robots": "遵守 robots.txt", "delay_seconds": "请求间隔（秒）",
    "max_records": "最多条数", "items_path": "课程列表的位置", "id_field": "课程编号的位置",
    "url_template": "课程网址模板", "page_param": "页码参数", "page_count_path": "总页数的位置",
    "fields": "内容映射", "fields.title": "标题的位置", "fields.description": "简介的位置",
    "detail": "详情请求", "item_links": "详情页链接的选择器", "next_page": "下一页链接的选择器",
    "metadata_prefix": "元数据格式", "set_spec": "OAI 集合", "schema_types": "课程页的 schema.org 类型",
    "url_pattern": "网址须含的模式", "complete_listing": "订阅列出全部课程", "encoding": "强制编码",
    "part_hosts": "分片文件所在主机", "labels": "标签映射", "rows": "名单行",
    "defaults.record_type": "默认记录类型", "defaults.media_type": "默认媒体类型", "defaults.audience": "默认适用人群",
    "defaults.categories": "默认分类", "defaults.is_free": "默认免费", "defaults.requires_login": "是否要登录",
    "defaults.language": "语言", "defaults.region": "地区", "withdraw_after_missed_runs": "连续几次没列出就撤下",
    "max_withdraw_share": "一次最多撤下的比例", "min_held_reported_deletions": "报删多少条起要审批",
    "method": "请求方法", "params": "固定查询参数", "headers": "附加请求头", "page_start": "第一页的页码",
    "max_pages": "每次最多页数", "lom_prefix": "LOM 元数据格式", "type_map": "类型对照",
    "concurrency": "同时请求数", "run_timeout_seconds": "最长采集时间（秒）", "since": "只读这个时间以后的页面",
    "max_sitemaps": "最多读几个网站地图", "full_crawl_days": "每隔几天全部重读", "link_pattern": "详情页网址模式",
    "max_list_pages": "每个起始页最多翻几页", "id_pattern": "编号在网址中的模式", "date_pattern": "日期在网址中的模式",
    "label_scope": "标签所在的区域", "max_parts": "最多分片文件数", "lesson_fields": "课时内容映射",
    "keep_tags": "只保留这些标签", "keep_statuses": "只保留这些状态",
}  # fmt: skip


def field_label(path: str) -> str:
    """The Chinese name of a config field path (`schedule.interval_minutes` -> 采集间隔（分钟）); a path we have no
    name for is named by its nearest named parent (`fields.tags` -> 内容映射 · tags), else shown as written."""
    if path in FIELD_LABELS:
        return FIELD_LABELS[path]
    head, _, rest = path.rpartition(".")
    while head:
        if head in FIELD_LABELS:
            return f"{FIELD_LABELS[head]} · {path[len(head) + 1 :]}"
        head, _, rest = head.rpartition(".")
    return path


_REJECTION_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^title: no title$|^no title found$"), "没有标题，这一条不会收录"),
    (re.compile(r"^no id at '([^']*)'"), "在 {0} 找不到编号，这一条不会收录"),
    (re.compile(r"^no id, guid or link"), "没有编号、guid 或链接，这一条不会收录"),
    (re.compile(r"has no header identifier"), "没有 OAI 标识符，这一条不会收录"),
    (re.compile(r"^not an object but (\w+)"), "这一条不是一个对象（而是 {0}），无法读取"),
    (re.compile(r"^duplicate id"), "编号和前面的条目重复，只保留第一条"),
    (re.compile(r"^([a-z_]+): "), "{0} 这一项有问题，这一条不会收录"),
)


def rejection_reason_zh(reason: str) -> str:
    """Why an item was rejected, in plain Chinese (a reason we do not know is called a data problem)."""
    for pattern, template in _REJECTION_PATTERNS:
        found = pattern.search(reason)
        if found:
            return template.format(*(field_label(g) for g in found.groups()))
    return "平台数据有问题，这一条不会收录"
