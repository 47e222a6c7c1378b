"""ModelBody writes a body in the bytes pydantic writes for its response model, whatever the text holds."""

from __future__ import annotations

from typing import Any

from search_api.http.json_bodies import ModelBody
from search_api.http.schemas import SearchResponse

AWKWARD = '控制\x00\x01\x1f\x7f 引号"反斜杠\\ /斜杠 \u2028\u2029 😀 <mark>&amp;</mark> \ufeff\t\n\r'


def _item(uid: str, text: str, *, also_on: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "id": uid, "title": text, "subtitle": None, "description": text, "url": f"https://x.example.cn/{uid}",
        "platform": "lndx", "platform_name": "国家老年大学", "provider": None, "themes": ["闲暇生活", text],
        "audience": [], "media_type": None, "record_type": "course", "learner_count": 2**40, "lesson_count": 0,
        "is_free": False, "region": {"province": "广东", "city": text}, "highlight": {"title": text, "description": ""},
        "missing": [text], "also_on": also_on,
    }  # fmt: skip


def _body(text: str) -> dict[str, Any]:
    other = {"platform": "le_ouchn", "platform_name": text, "url": "https://le.example.cn/1", "id": "le_ouchn:1"}
    return {
        "total": 2, "items": [_item("lndx:1", text, also_on=[other]), _item("lndx:2", "", also_on=[])],
        "facets": {"theme": {text: 1, "闲暇生活": 2}, "is_free": {}}, "next_cursor": text, "relaxed": True,
        "theme_only": False, "merged": 1, "page": 1, "size": 10,
    }  # fmt: skip


def test_awkward_text_is_escaped_as_pydantic_escapes_it() -> None:
    writer = ModelBody(SearchResponse)
    for text in (AWKWARD, "", "书法入门", "a" * 5000):
        body = _body(text)
        assert writer.response(body).body == writer.pydantic_bytes(body)


def test_a_key_the_model_does_not_declare_makes_the_two_differ() -> None:
    # what the API tests rely on: a shaped body the model would change is caught, not written as it is
    writer = ModelBody(SearchResponse)
    body = _body("书法")
    body["items"][0]["score"] = 1
    assert writer.response(body).body != writer.pydantic_bytes(body)
    reordered = {"items": body["items"], **{k: v for k, v in _body("书法").items() if k != "items"}}
    assert writer.response(reordered).body != writer.pydantic_bytes(reordered)
