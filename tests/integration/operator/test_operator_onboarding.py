"""The operator's first hour: a working example per kind, the field docs, every problem at once with Chinese
names, the warning for a feed already harvested, and a dry-run summary above the table."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from lxml import html as lxml_html

from config.source_models import JsonApiSourceConfig
from search_api.pages.operator_forms import URL_FIELD, SourceForm
from search_api.services.field_docs import field_docs
from search_api.services.source_templates import TEMPLATES
from tests.integration.operator.site import COURSES, MAPPING, PLATFORM, OperatorSite, course_source
from tests.support.faults import SITES, TITLES

KINDS = ("json_api", "rss", "static_catalog", "oai_pmh", "sitemap", "html")


@pytest.fixture
def signed_in(site: OperatorSite) -> Iterator[tuple[httpx.Client, str]]:
    """A browser-like client signed in with the operator key, and the CSRF token of its forms."""
    with httpx.Client(base_url=site.url, timeout=60) as browser:
        assert browser.post("/operator/login", data={"key": site.operator_key}).status_code == 303
        found = re.search(r'name="csrf" value="([^"]+)"', browser.get("/operator").text)
        assert found is not None
        yield browser, found.group(1)


def _form(csrf: str, url: str, mapping: str, **changes: str) -> dict[str, str]:
    form = {"csrf": csrf, "id": "new_courses", "name": "新课程", "platform_name": "测试平台", "kind": "json_api",
            "url": url, "interval_minutes": "60", "mapping": mapping, "action": "preview"}  # fmt: skip
    form.update(changes)
    return form


def _fixture_url(kind: str, site: OperatorSite) -> str:
    """Where the fixture server serves `kind`'s catalogue of six courses (served whole)."""
    fixture = SITES[kind](site.platform)
    fixture.heal()
    value = getattr(fixture.config(), URL_FIELD[kind])
    return str(value[0] if isinstance(value, list) else value)


@pytest.mark.parametrize("kind", KINDS)
def test_each_kinds_example_dry_runs_to_records_from_a_server_of_that_kind(
    kind: str, site: OperatorSite, operator: httpx.Client
) -> None:
    template = TEMPLATES[kind]
    form = SourceForm(id=f"example_{kind}", name="示例", kind=kind, url=_fixture_url(kind, site), platform=PLATFORM,
                      platform_name="测试平台", mapping=template.mapping)  # fmt: skip
    answer = operator.post("/api/v1/sources/dry-run", json=form.to_data())
    assert answer.status_code == 200, answer.text
    preview = answer.json()
    assert preview["status"] == "ok", preview["error"]
    assert len(preview["items"]) == 6 and preview["rejected"] == []
    assert {i["record"]["title"] for i in preview["items"]} == set(TITLES)


def test_the_form_offers_each_kinds_example_and_links_the_field_docs(
    site: OperatorSite, signed_in: tuple[httpx.Client, str]
) -> None:
    browser, _ = signed_in
    page = browser.get("/operator/new").text
    assert all(f'data-kind="{kind}"' in page for kind in KINDS)
    assert 'href="/operator/fields#kind-json_api"' in page
    chosen = browser.get("/operator/new", params={"kind": "oai_pmh"}).text
    assert '<option value="oai_pmh" selected>' in chosen
    assert TEMPLATES["oai_pmh"].url in chosen and "metadata_prefix: oai_dc" in chosen


def test_the_field_docs_list_every_kinds_fields_with_the_models_descriptions(site: OperatorSite) -> None:
    page = httpx.get(site.url + "/operator/fields", timeout=30).text
    for kind in KINDS:
        assert f'id="kind-{kind}"' in page
    items_path = JsonApiSourceConfig.model_fields["items_path"].description or ""
    assert items_path and items_path in page
    assert 'data-path="schedule.interval_minutes"' in page and "采集间隔（分钟）" in page
    assert 'data-path="detail.url_template"' in page  # nested models are spelt out


def test_the_field_docs_say_every_field_in_chinese_first_keeping_its_path(site: OperatorSite) -> None:
    doc = lxml_html.fromstring(httpx.get(site.url + "/operator/fields", timeout=30).text)
    for kind in KINDS:
        rows = doc.cssselect(f"#kind-{kind} tr.field-row")
        assert {r.get("data-path") for r in rows} == {f.path for f in field_docs(kind)}
        for row in rows:
            path = row.get("data-path")
            assert row.cssselect("code.field-path")[0].text == path
            help_zh = row.cssselect(".field-help")[0].text_content()
            assert re.search(r"[\u4e00-\u9fff]", help_zh), (kind, path)  # a Chinese sentence, not a dash
            english = row.cssselect(".field-help-en")
            if english:  # the model's own words stay, after the Chinese
                described = row.cssselect("td")[3]
                assert described.index(english[0]) > described.index(row.cssselect(".field-help")[0])
    api_url = doc.cssselect('#kind-json_api tr[data-path="url"] .field-help')[0].text_content()
    assert api_url == "列表接口的地址。"  # a kind's own wording where kinds differ


def test_a_broken_mapping_does_not_hide_the_forms_other_problems(
    site: OperatorSite, signed_in: tuple[httpx.Client, str]
) -> None:
    browser, csrf = signed_in
    form = _form(csrf, "not a url", "items_path: [data\n", interval_minutes="每天")
    answer = browser.post("/operator/new", data=form)
    assert answer.status_code == 422
    problems = re.findall(r'<strong class="problem-label">([^<]+)</strong>', answer.text)
    assert set(problems) == {"字段映射", "采集地址", "采集间隔（分钟）"}
    assert site.store.sources.ids() == []


def test_a_feed_another_source_already_harvests_is_flagged_before_and_after_saving(
    site: OperatorSite, operator: httpx.Client, signed_in: tuple[httpx.Client, str]
) -> None:
    url = site.serve_courses("/courses", COURSES)
    assert operator.post("/api/v1/sources", json=course_source(url, source_id="first_courses")).status_code == 201
    browser, csrf = signed_in
    preview = browser.post("/operator/new", data=_form(csrf, url.replace("http://", "HTTP://") + "/", MAPPING))
    assert preview.status_code == 200
    assert "same-url-warning" in preview.text and 'href="/operator/sources/first_courses"' in preview.text
    saved = browser.post("/operator/new", data={**_form(csrf, url, MAPPING), "action": "save"}, follow_redirects=True)
    assert saved.status_code == 200 and str(saved.url).endswith("/operator/sources/new_courses?done=created")
    assert "same-url-warning" in saved.text  # registering is allowed; the warning stays on the source page
    alone = browser.post("/operator/new", data=_form(csrf, site.serve_courses("/other", COURSES), MAPPING,
                                                      id="third_courses"))  # fmt: skip
    assert "same-url-warning" not in alone.text


def test_the_sources_api_warns_of_a_feed_another_source_harvests_as_the_form_does(
    site: OperatorSite, operator: httpx.Client, other: httpx.Client
) -> None:
    url = site.serve_courses("/courses", COURSES)
    first = operator.post("/api/v1/sources", json=course_source(url, source_id="first_courses"))
    assert first.status_code == 201 and first.json()["warnings"] == []
    same = course_source(url.replace("http://", "HTTP://") + "/#top", source_id="second_courses")
    preview = operator.post("/api/v1/sources/dry-run", json=same)
    assert [w["source_id"] for w in preview.json()["same_url"]] == ["first_courses"]
    second = operator.post("/api/v1/sources", json=same)
    assert second.status_code == 201 and site.store.sources.get("second_courses")  # a warning, not a refusal
    [warning] = second.json()["warnings"]
    assert (warning["code"], warning["source_id"], warning["field"], warning["url"]) == (
        "same_url",
        "first_courses",
        "url",
        url,
    )
    assert "first_courses" in warning["message"] and "出现两次" in warning["message_zh"]
    foreign = other.post("/api/v1/sources", json={**course_source(url, source_id="their_courses"),
                                                   "platform": "other_platform"})  # fmt: skip
    assert foreign.status_code == 201
    assert {w["source_id"] for w in foreign.json()["warnings"]} == {None}  # another platform's ids stay hidden
    assert "first_courses" not in foreign.text.replace('"id": "their_courses"', "")


def test_the_dry_run_summary_says_each_warning_once_above_the_table_and_the_form(
    site: OperatorSite, signed_in: tuple[httpx.Client, str]
) -> None:
    items = [{"id": f"c{n}", "name": name, "summary": f"<p>{name}的介绍</p>", "time": "2024-03-01T00:00:00+00:00"}
             for n, name in enumerate(("书法入门", "太极拳养生", "第七单元"), start=1)]  # fmt: skip
    items.append({"id": "c9", "summary": "没有标题"})
    browser, csrf = signed_in
    page = browser.post("/operator/new", data=_form(csrf, site.serve_courses("/html", items), MAPPING)).text
    digest = re.findall(r'<li class="digest-(?:warning|rejection)"[^>]*>(.*?)</li>', page, re.S)
    flat = [re.sub(r"<[^>]+>|\s+", "", line) for line in digest]
    assert "拒收：没有标题，这一条不会收录——1条" in flat
    assert "简介：含有HTML标记，已去掉标记只保留文字——所有3条（下表不再逐条列出）" in flat
    assert "主题：没有归入任何一个主题，请补充分类或标签——1条" in flat
    table = page.split('preview-table"')[1].split("</table>")[0]
    assert 'data-field="description"' not in table  # not repeated on each row
    assert page.index("preview-overview") < page.index("preview-table") < page.index('id="source-form"')
    assert page.count("2024年3月1日") == 3 and "2024-03-01T" not in page
