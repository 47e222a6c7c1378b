"""A working example per source kind for the operator's registration form: the feed URL and the YAML mapping.

Each example reads the shape its kind publishes (a paged JSON list, a feed, a versioned catalogue, an OAI-PMH
repository, a sitemap of schema.org pages, CMS list pages); an operator picks one, points the URL at their own
platform and changes the paths. The operator tests dry-run every example against a local server of that shape.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceTemplate:
    """One kind's example: what it reads, the URL to replace, and the mapping to start from."""

    kind: str
    summary: str
    url: str
    mapping: str


TEMPLATES: dict[str, SourceTemplate] = {
    t.kind: t
    for t in (
        SourceTemplate(
            "json_api",
            "分页的 JSON 课程列表：每页一组课程，第几页用参数 p 传给接口。",
            "https://learn.example.edu.cn/api/courses",
            "items_path: data.items        # 课程列表在返回内容中的位置\n"
            "id_field: id                  # 每门课在平台上的编号\n"
            "url_template: https://learn.example.edu.cn/course/{id}   # 学员打开课程的网址\n"
            "page_param: p                 # 页码参数；只有一页就删掉这一行和下一行\n"
            "page_count_path: data.pages   # 总页数在返回内容中的位置\n"
            "fields:                       # 课程的各项内容在每个条目里的位置\n"
            "  title: name\n"
            "  # description: summary\n"
            "  # published_at: time\n",
        ),
        SourceTemplate(
            "rss",
            "RSS 或 Atom 订阅：标题、链接、摘要、发布时间直接从订阅里读，一般不需要映射。",
            "https://learn.example.edu.cn/feed.xml",
            "# 订阅列出全部课程（不只是最新几条）时写 true，课程从订阅里消失就会撤下\n"
            "complete_listing: false\n"
            "# encoding: gb18030         # 订阅没有声明编码或声明错了时才填\n",
        ),
        SourceTemplate(
            "static_catalog",
            "静态目录文件：一个版本索引（data_version.json）指向若干分片文件。",
            "https://learn.example.edu.cn/catalogue/data_version.json",
            "url_template: https://learn.example.edu.cn/r/{id}   # 学员打开资源的网址\n"
            "id_field: id\n"
            "fields:\n"
            "  title: title\n"
            "  # description: description\n"
            "# part_hosts: [files.example.edu.cn]   # 分片文件放在别的主机上时填\n",
        ),
        SourceTemplate(
            "oai_pmh",
            "OAI-PMH 元数据接口：按 Dublin Core（oai_dc）读取，自动跟随续传令牌。",
            "https://learn.example.edu.cn/oai",
            "metadata_prefix: oai_dc\n"
            "# set_spec: elder           # 只采集一个集合时填\n"
            "# url_template: https://learn.example.edu.cn/record/{identifier}   # 元数据里没有网址时用\n",
        ),
        SourceTemplate(
            "sitemap",
            "网站地图：从 sitemap.xml 找到课程页，读取页面里 schema.org Course 的 JSON-LD。",
            "https://learn.example.edu.cn/sitemap_index.xml",
            "schema_types: [Course, LearningResource]   # 页面里哪些类型算课程\n"
            "# url_pattern: /course/     # 只读网址里含有这一段的页面\n",
        ),
        SourceTemplate(
            "html",
            "网页列表：从列表页按 CSS 选择器找到详情页链接，再从详情页读标题等内容。",
            "https://learn.example.edu.cn/list_1.htm",
            "item_links: ul.list li a      # 列表页上通向详情页的链接\n"
            "next_page: div.pages a.next   # 列表页上“下一页”的链接\n"
            "fields:                       # 详情页上各项内容的 CSS 选择器\n"
            "  title: h1\n"
            "  # description: div.content\n",
        ),
    )
}
