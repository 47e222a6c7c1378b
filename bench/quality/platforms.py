"""The quality corpus written out in the payload shapes of the real platforms, and the sources that harvest it.

Five platforms (shared/PLATFORMS.md §1): le.ouchn.cn's JSON API (Course/Paging, then MicroCourse/Details per
course), the 国家老年大学 legacy paged API (teacher written with a title, a summary, a lesson count), smartedu's
static NDR catalogue (data_version.json -> part files), a community-education RSS feed (courses and local
stories; the teacher only in the text, as 主讲：…), and a provincial repository's OAI-PMH oai_dc (creators
written 主讲：王秀兰教授, subjects as category paths).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from typing import Any

from bench.quality.corpus import Corpus, Listing
from config.loader import load_sources
from config.source_models import SourceBase, SourcesFile

PAGE_SIZE = 20
OAI_PAGE = 100
EPOCH = datetime(2023, 1, 1, tzinfo=UTC)
Routes = dict[str, tuple[bytes, str]]
JSON = "application/json; charset=utf-8"


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def _of(corpus: Corpus, platform: str) -> list[Listing]:
    return [listing for listing in corpus.listings if listing.platform == platform]


def _date(listing: Listing) -> datetime:
    return EPOCH + timedelta(days=int(listing.source_id.rsplit("-", 1)[1]) % 700, hours=9)


def _pages(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def routes(corpus: Corpus) -> Routes:
    """`path` or `path?page` -> (body, content type) for every platform of the corpus."""
    found: Routes = {}
    found.update(_le_ouchn(_of(corpus, "le_ouchn")))
    found.update(_lndx(_of(corpus, "lndx")))
    found.update(_smartedu(_of(corpus, "smartedu")))
    found.update(_shequ(_of(corpus, "shequ")))
    found.update(_oai(_of(corpus, "oai")))
    return found


def _le_ouchn(listings: list[Listing]) -> Routes:
    found: Routes = {}
    pages = _pages(listings, PAGE_SIZE)
    for n, page in enumerate(pages, start=1):
        items = [{"Id": x.source_id, "Name": x.title, "Teacher": x.teacher, "SourceName": x.course.institution,
                  "Subtitle": x.description, "StudentCount": x.learners, "Tag": "，".join(x.course.subject.tags)}
                 for x in page]  # fmt: skip
        found[f"/le/api/Course/Paging?{n}"] = (_json({"Data": {"PageListInfos": items, "PageCount": len(pages)}}), JSON)
    for x in listings:
        modules = [{"Id": f"{x.source_id}-m{i}", "Title": t} for i, t in enumerate(x.lesson_titles, start=1)]
        found[f"/le/api/Course/{x.source_id}/MicroCourse/Details"] = (
            _json({"Data": {"Name": x.title, "Modules": modules}}),
            JSON,
        )
    return found


def _lndx(listings: list[Listing]) -> Routes:
    found: Routes = {}
    pages = _pages(listings, 10)
    for n, page in enumerate(pages, start=1):
        items = [{"Id": x.source_id, "Name": x.title, "Teacher": x.teacher, "SourceName": x.course.institution,
                  "Summary": x.description, "LessonCount": len(x.lesson_titles),
                  "CategoryName": "/".join(x.course.subject.category), "CreateDate": _date(x).isoformat()}
                 for x in page]  # fmt: skip
        found[f"/lndx/Course/Paging?{n}"] = (_json({"Data": {"PageListInfos": items, "PageCount": len(pages)}}), JSON)
    return found


def _smartedu(listings: list[Listing]) -> Routes:
    found: Routes = {}
    parts = _pages(listings, 100)
    urls = [f"BASE_URL/zxx/ndrs/special_edu/resources/part_{100 + n}.json" for n in range(len(parts))]
    found["/zxx/ndrs/special_edu/resources/version/data_version.json"] = (
        _json({"module": "special_edu", "module_version": 1, "urls": ",".join(urls)}),
        JSON,
    )
    for n, part in enumerate(parts):
        found[f"/zxx/ndrs/special_edu/resources/part_{100 + n}.json"] = (_json([_ndr(x) for x in part]), JSON)
    return found


def _ndr(x: Listing) -> dict[str, Any]:
    subject = x.course.subject
    tags = [{"tag_id": f"t-{subject.key}-{i}", "tag_name": name, "tag_dimension_id": "zxxlm" if i == 0 else "zxxzt"}
            for i, name in enumerate((*subject.category, *subject.tags))]  # fmt: skip
    return {
        "id": x.source_id, "title": x.title, "description": x.description, "language": "zh-CN",
        "resource_type_code": "assets_video", "status": "ONLINE",
        "online_time": _date(x).strftime("%Y-%m-%dT%H:%M:%S.000+0800"), "tag_list": tags,
        "provider_list": [{"id": "p-1", "name": x.course.institution, "type": "provider"}],
        "teacher_list": [{"id": "t-1", "name": x.teacher}] if x.teacher else [],
        "relations": {"course_resource": [{"id": f"{x.source_id}-{i}", "title": t}
                                          for i, t in enumerate(x.lesson_titles, start=1)]},
    }  # fmt: skip


def _shequ(listings: list[Listing]) -> Routes:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0"><channel>',
        "<title>社区教育资源推荐</title><link>https://shequ.example.cn/</link><description>推荐</description>",
    ]
    for x in listings:
        body = f"<p>{escape(x.description, quote=False)}</p>"
        if x.kind != "story":
            teacher = f"主讲：{escape(x.teacher)}　" if x.teacher else ""  # else named only in the description
            body += f"<p>{teacher}单位：{escape(x.course.institution)}</p>"
            body += "<ol>" + "".join(f"<li>{escape(t)}</li>" for t in x.lesson_titles) + "</ol>"
        lines += ["<item>", f"<title>{escape(x.title, quote=False)}</title>",
                  f"<link>https://shequ.example.cn/Pages/Recomend/{x.source_id}.htm</link>",
                  f"<description>{escape(body, quote=False)}</description>",
                  f"<category>{escape(x.course.subject.category[-1])}</category>",
                  f"<pubDate>{format_datetime(_date(x))}</pubDate>",
                  f'<guid isPermaLink="false">{x.source_id}</guid>', "</item>"]  # fmt: skip
    lines.append("</channel></rss>")
    return {"/shequ/rss.xml": ("\n".join(lines).encode("utf-8"), "application/rss+xml; charset=utf-8")}


def _oai(listings: list[Listing]) -> Routes:
    head = (
        '<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        "<responseDate>2026-12-01T00:00:00Z</responseDate>"
    )
    xml = "text/xml; charset=utf-8"
    found: Routes = {"/oai?Identify": ((
        f'{head}<request verb="Identify">BASE_URL/oai</request><Identify><repositoryName>省学习网资源库'
        "</repositoryName><baseURL>BASE_URL/oai</baseURL><protocolVersion>2.0</protocolVersion><adminEmail>"
        "oai@xuexi.example.cn</adminEmail><earliestDatestamp>2020-01-01T00:00:00Z</earliestDatestamp>"
        "<deletedRecord>persistent</deletedRecord><granularity>YYYY-MM-DDThh:mm:ssZ</granularity></Identify>"
        "</OAI-PMH>").encode(), xml)}  # fmt: skip
    pages = _pages(listings, OAI_PAGE)
    for n, page in enumerate(pages):
        records = "".join(_dc_record(x) for x in page)
        token = (
            f'<resumptionToken completeListSize="{len(listings)}">p{n + 1}</resumptionToken>'
            if n + 1 < len(pages)
            else "<resumptionToken/>"
        )
        key = "/oai?ListRecords" if n == 0 else f"/oai?p{n}"
        found[key] = (f'{head}<request verb="ListRecords">BASE_URL/oai</request><ListRecords>{records}{token}'
                      "</ListRecords></OAI-PMH>").encode(), xml  # fmt: skip
    return found


def _dc_record(x: Listing) -> str:
    subject = x.course.subject
    e = escape
    parts = [f"<dc:title>{e(x.title)}</dc:title>", *([f"<dc:creator>{e(x.teacher)}</dc:creator>"] if x.teacher else []),
             f"<dc:subject>{e(' > '.join(subject.category))}</dc:subject>",
             *(f"<dc:subject>{e(tag)}</dc:subject>" for tag in subject.tags),
             f"<dc:description>{e(x.description)}</dc:description>",
             f"<dc:description>课程目录：{e('；'.join(x.lesson_titles))}</dc:description>",
             f"<dc:publisher>{e(x.course.institution)}</dc:publisher>", "<dc:type>课程</dc:type>",
             f"<dc:identifier>https://xuexi.example.cn/course/{x.source_id}</dc:identifier>",
             "<dc:language>zh-CN</dc:language>"]  # fmt: skip
    stamp = _date(x).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"<record><header><identifier>oai:xuexi.example.cn:{x.source_id}</identifier><datestamp>{stamp}"
        '</datestamp></header><metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
        f'xmlns:dc="http://purl.org/dc/elements/1.1/">{"".join(parts)}</oai_dc:dc></metadata></record>'
    )


def sources(base_url: str) -> list[SourceBase]:
    """The five sources as an operator would register them, fetching from `base_url`."""
    return list(SourcesFile.model_validate({"sources": list(_blocks(base_url))}).sources)


def _ndr_maps() -> dict[str, Any]:
    """smartedu's field and type maps as config/sources.yaml gives them (the kind's defaults know no site)."""
    (block,) = (s for s in load_sources() if s.id == "smartedu_special_edu")
    return block.model_dump(mode="json", include={"fields", "lesson_fields", "type_map"})


def _blocks(base: str) -> Iterable[dict[str, Any]]:
    common: dict[str, Any] = {"delay_seconds": 0, "obey_robots": False}
    yield {**common, "id": "qa_le_ouchn", "name": "终身教育平台课程库（质量集）", "platform": "le_ouchn",
           "platform_name": "国家开放大学终身教育平台", "kind": "json_api", "url": f"{base}/le/api/Course/Paging",
           "params": {"ChannelId": "education", "PageSize": PAGE_SIZE}, "page_param": "PageNum",
           "items_path": "Data.PageListInfos", "page_count_path": "Data.PageCount", "id_field": "Id",
           "url_template": "https://le.ouchn.cn/courseDetails/{Id}",
           "fields": {"title": "Name", "subtitle": "Subtitle", "instructors": "Teacher", "provider": "SourceName",
                      "learner_count": "StudentCount", "tags": "Tag"},
           "detail": {"url_template": f"{base}/le/api/Course/{{Id}}/MicroCourse/Details",
                      "lessons_path": "Data.Modules", "lesson_fields": {"id": "Id", "title": "Title"}},
           "defaults": {"record_type": "micro_course", "media_type": "video"}}  # fmt: skip
    yield {**common, "id": "qa_lndx", "name": "国家老年大学 微课（质量集）", "platform": "lndx",
           "platform_name": "国家老年大学", "kind": "json_api", "url": f"{base}/lndx/Course/Paging",
           "params": {"CourseType": "MVC", "PageSize": 10}, "page_param": "Page",
           "items_path": "Data.PageListInfos", "page_count_path": "Data.PageCount", "id_field": "Id",
           "url_template": "https://study.lndx.edu.cn/ui/home/?currentOrgId=50#/course/CourseInfo?postsId={Id}",
           "fields": {"title": "Name", "instructors": "Teacher", "provider": "SourceName", "description": "Summary",
                      "lesson_count": "LessonCount", "categories": "CategoryName", "published_at": "CreateDate"},
           "defaults": {"record_type": "micro_course", "media_type": "video", "audience": ["老年人"]}}  # fmt: skip
    yield {**common, "id": "qa_smartedu", "name": "国家智慧教育平台 专题资源（质量集）", "kind": "static_catalog",
           "platform": "smartedu_basic", "platform_name": "国家中小学智慧教育平台",
           "version_url": f"{base}/zxx/ndrs/special_edu/resources/version/data_version.json",
           "url_template": "https://basic.smartedu.cn/sedu/detail?contentType={resource_type_code}&contentId={id}",
           "category_dimensions": ["zxxlm", "zxxzt"], **_ndr_maps()}  # fmt: skip
    yield {**common, "id": "qa_shequ", "name": "社区教育资源推荐 RSS（质量集）", "platform": "shequ",
           "platform_name": "中国社区教育网", "kind": "rss", "url": f"{base}/shequ/rss.xml",
           "defaults": {"record_type": "course", "media_type": "mixed", "audience": ["社区居民"]}}  # fmt: skip
    yield {**common, "id": "qa_oai", "name": "省学习网资源库（质量集）", "platform": "xuexi_oai",
           "platform_name": "省学习网资源库", "kind": "oai_pmh", "base_url": f"{base}/oai",
           "type_map": {"课程": {"record_type": "course", "media_type": "video"}}}  # fmt: skip
