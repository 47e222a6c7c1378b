"""A small hand-written catalogue and a real uvicorn server for the API, page and browser tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from config.loader import load_settings
from config.settings import Settings
from indexer.backends.sqlite import SqliteBackend
from indexer.record import Lesson, Person, Provider, Record
from search_api.app import create_app
from search_api.cli.serve import HTTP_PARSER

NOW = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
XSS_TITLE = "<script>alert(1)</script>"
PLATFORM_NAMES = {
    "le_ouchn": "国家开放大学终身教育平台",
    "lndx": "国家老年大学",
    "shequ": "中国社区教育网",
    "goschool": "全民终身学习公共服务平台",
}
# (source id, title, themes, audience, media type, learners, extra fields)
_COURSES: list[tuple[str, str, list[str], list[str], str, int, dict[str, Any]]] = [
    (
        "le_ouchn:1",
        "书法入门：楷书基本笔画",
        ["闲暇生活"],
        ["老年人"],
        "video",
        12000,
        {
            "description": "从握笔姿势讲起，学习书法楷书的基本笔画。",
            "instructors": [Person(name="王老师")],
            "provider": Provider(name="国家开放大学"),
            "lessons": [Lesson(id="a", title="握笔与坐姿", order=1), Lesson(id="b", title="横与竖", order=2)],
            "lesson_count": 2,
            "tags": ["书法", "楷书"],
        },
    ),
    (
        "lndx:1",
        "书法入门：楷书基本笔画",
        ["闲暇生活"],
        ["老年人"],
        "video",
        3000,
        {"description": "老年大学书法课程，适合零基础学员。", "instructors": [Person(name="王老师")]},
    ),
    ("lndx:2", "硬笔书法练习", ["闲暇生活"], ["老年人"], "video", 800, {}),
    (
        "shequ:1",
        "老年人智能手机使用技巧",
        ["科学文化"],
        ["老年人"],
        "video",
        25000,
        {"description": "教您用智能手机视频通话、扫码付款和防范诈骗。"},
    ),
    (
        "lndx:3",
        "太极拳二十四式",
        ["养生保健"],
        ["老年人"],
        "video",
        9000,
        {"region": {"province": "广东", "city": "广州市"}},
    ),  # fmt: skip
    ("le_ouchn:2", "中医养生保健常识", ["养生保健"], ["社区居民"], "video", 4000, {}),
    ("le_ouchn:3", "心理健康与情绪调节", ["心理健康"], ["社区居民"], "audio", 1500, {}),
    ("shequ:2", "家庭理财入门", ["家庭理财"], ["社区居民"], "document", 700, {"region": {"province": "浙江"}}),
    ("shequ:3", "防范电信网络诈骗", ["法律法规"], ["老年人"], "html", 30000, {}),
    ("le_ouchn:4", "民法典与老年人权益保护", ["法律法规"], ["老年人"], "video", 2200, {}),
    ("goschool:1", "隔代教育：如何与孙辈沟通", ["代际沟通"], ["家长"], "video", 600, {}),
    ("goschool:2", "安宁疗护与生命教育", ["生命尊严"], ["社区居民"], "document", 300, {}),
    ("le_ouchn:5", "社会主义核心价值观学习", ["思想道德"], ["通用"], "video", 5000, {}),
    ("le_ouchn:6", "电工职业技能培训", ["职业技能"], ["在职人员"], "video", 1100, {"is_free": False}),
    ("lndx:4", "国画花鸟技法", ["闲暇生活"], ["老年人"], "video", 2600, {"region": {"province": "广东"}}),
    (
        "shequ:4",
        XSS_TITLE,
        ["闲暇生活"],
        ["老年人"],
        "html",
        10,
        {
            "description": "</script><script>alert(2)</script> 书法 <img src=x onerror=alert(3)>",
            "provider": Provider(name="<b>提供方</b>"),
            "instructors": [Person(name="</script>老师")],
            "tags": ["书法"],
        },
    ),
]
PAGING_THEME = "心理健康"
PAGING_COUNT = 23


def _record(uid: str, title: str, *, themes: list[str], audience: list[str], media: str, learners: int,
            extra: dict[str, Any], age_days: int) -> Record:  # fmt: skip
    source, source_id = uid.split(":", 1)
    fields: dict[str, Any] = {
        "uid": uid,
        "source": source,
        "source_id": source_id,
        "url": f"https://{source}.example.cn/course/{source_id}",
        "title": title,
        "platform": source,
        "platform_name": PLATFORM_NAMES[source],
        "themes": themes,
        "audience": audience,
        "media_type": media,
        "learner_count": learners,
        "fetched_at": NOW,
        "updated_at": NOW - timedelta(days=age_days),
        "raw": {"fields": {"title": title}, "payload": {"Id": source_id}},
    }
    fields.update(extra)
    return Record(**fields)


def sample_records() -> list[Record]:
    """The hand-written courses plus a run of 摄影 courses (one theme) long enough to page through."""
    records = [
        _record(uid, title, themes=t, audience=a, media=m, learners=n, extra=x, age_days=i)
        for i, (uid, title, t, a, m, n, x) in enumerate(_COURSES)
    ]
    for i in range(PAGING_COUNT):
        records.append(
            _record(
                f"goschool:photo{i:02d}",
                f"手机摄影第{i + 1}讲",
                themes=[PAGING_THEME],
                audience=["老年人"],
                media="video",
                learners=100 + i,
                extra={},
                age_days=100 + i,
            )  # fmt: skip
        )
    return records


def settings_for(data_dir: Path, **search: int) -> Settings:
    """Default settings with the data dir in tmp and optional search limits."""
    environ = {"EDUFED_DATA_DIR": str(data_dir)}
    environ |= {f"EDUFED_SEARCH__{key.upper()}": str(value) for key, value in search.items()}
    return load_settings(environ=environ)


@dataclass
class LiveServer:
    """A running uvicorn server on 127.0.0.1 and its base URL (no trailing slash)."""

    url: str
    server: uvicorn.Server


@contextmanager
def live_server(app: FastAPI, *, start_timeout: float = 20.0) -> Iterator[LiveServer]:
    """Serve `app` on a free loopback port in a thread; stop and release the port afterwards."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, http=HTTP_PARSER, log_level="warning", lifespan="off", ws="none", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + start_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        yield LiveServer(f"http://127.0.0.1:{port}", server)
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


@contextmanager
def catalogue_server(tmp: Path, *, records: list[Record] | None = None, **search: int) -> Iterator[LiveServer]:
    """A server over a fresh SQLite index in `tmp` holding `records` (default: the sample catalogue)."""
    settings = settings_for(tmp, **search)
    backend = SqliteBackend(tmp / "index.sqlite3")
    try:
        backend.upsert(sample_records() if records is None else records)
        with live_server(create_app(settings=settings, backend=backend)) as server:
            yield server
    finally:
        backend.close()
