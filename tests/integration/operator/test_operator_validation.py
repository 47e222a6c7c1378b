"""Invalid source configs answer 422 naming each field, in English and Chinese, and nothing is saved."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.operator.site import COURSES, OperatorSite, course_source


def _details(answer: httpx.Response) -> dict[str, dict[str, str]]:
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert set(body) == {"error"} and body["error"]["code"] == "validation_error"
    return {d["field"]: d for d in body["error"]["details"]}


@pytest.mark.parametrize(
    ("change", "field", "zh"),
    [
        ({"id": "Bad-Id"}, "id", "格式不对"),
        ({"schedule": {"interval_minutes": 0}}, "schedule.interval_minutes", "数值太小"),
        ({"url": "ftp://example.edu.cn/list"}, "url", "网址"),
        ({"fields": {"description": "summary"}}, "fields.title", "标题"),
        ({"items_path": None}, "items_path", "缺少"),
        ({"surprise": 1}, "surprise", "不认识"),
        ({"kind": "gopher"}, "kind", "kind"),
    ],
)
def test_an_invalid_config_names_the_field_in_english_and_chinese(
    site: OperatorSite, operator: httpx.Client, change: dict[str, object], field: str, zh: str
) -> None:
    body = course_source(site.serve_courses("/courses", COURSES))
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    details = _details(operator.post("/api/v1/sources", json=body))
    assert field in details, details
    assert details[field]["reason"] and zh in details[field]["reason_zh"]
    assert site.store.sources.ids() == []
    assert site.store.audit.find() == []


def test_every_problem_is_reported_at_once(site: OperatorSite, operator: httpx.Client) -> None:
    body = course_source(site.serve_courses("/courses", COURSES), id="X", name="", max_records=0)
    assert {"id", "name", "max_records"} <= set(_details(operator.post("/api/v1/sources", json=body)))


def test_a_body_that_is_not_json_is_a_clear_422(operator: httpx.Client) -> None:
    answer = operator.post("/api/v1/sources", content=b"{not json", headers={"Content-Type": "application/json"})
    assert "request" in _details(answer)


def test_an_invalid_change_leaves_the_saved_config_as_it_was(site: OperatorSite, operator: httpx.Client) -> None:
    operator.post("/api/v1/sources", json=course_source(site.serve_courses("/courses", COURSES)))
    before = site.store.sources.get("my_courses")
    details = _details(operator.patch("/api/v1/sources/my_courses", json={"name": "新名字", "max_pages": -1}))
    assert "max_pages" in details
    after = site.store.sources.get("my_courses")
    assert after.config == before.config and after.updated_at == before.updated_at
    assert [e.action for e in site.store.audit.find()] == ["source.create"]


def test_the_id_and_platform_of_a_source_cannot_change(site: OperatorSite, operator: httpx.Client) -> None:
    operator.post("/api/v1/sources", json=course_source(site.serve_courses("/courses", COURSES)))
    assert "id" in _details(operator.patch("/api/v1/sources/my_courses", json={"id": "other_id"}))
    assert "platform" in _details(operator.patch("/api/v1/sources/my_courses", json={"platform": "test_platform2"}))
