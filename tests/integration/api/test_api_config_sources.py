"""A source the configuration file defines is removed there: the sources API, the operator pages and
`edufed sources remove` all refuse to delete it, with one message saying how."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from config.loader import load_settings, load_sources
from search_api.routes.operator import COOKIE as OPERATOR_COOKIE
from tests.support.cli import edufed, write_config
from tests.support.http_server import FixtureServer, http_server_fixture  # noqa: F401 (a fixture)
from tests.support.live_service import LiveService, live_service

SOURCE = "course_list"  # the block tests.support.cli writes into the configuration file


@pytest.fixture
def configured(tmp_path: Path, http_server: FixtureServer) -> Iterator[tuple[Path, LiveService]]:
    """The settings file, and the service over its state with the file's sources seeded (as `edufed serve`)."""
    settings_file = write_config(tmp_path, http_server)
    settings = load_settings(settings_file, environ={})
    with live_service(settings, name=f"config-sources-{tmp_path.name}") as service:
        service.store.sources.seed(list(load_sources(settings.sources_file)))  # type: ignore[arg-type]
        yield settings_file, service


def _refusal(answer: httpx.Response) -> str:
    assert answer.status_code == 409, answer.text
    error = answer.json()["error"]
    assert error["code"] == "defined_in_config"
    message: str = error["message"]
    return message


def test_the_api_refuses_to_delete_a_source_the_configuration_file_defines(
    configured: tuple[Path, LiveService],
) -> None:
    _, service = configured
    with httpx.Client(
        base_url=service.url, headers={"Authorization": f"Bearer {service.admin_key}"}, timeout=30
    ) as admin:
        message = _refusal(admin.delete(f"/api/v1/sources/{SOURCE}"))
    assert message.startswith(f"{SOURCE} is defined in the configuration file sources.yaml: remove its block there")
    source = service.store.sources.get(SOURCE)
    assert source.enabled and service.store.holds.find(source_id=SOURCE) == []


def test_the_command_line_refuses_with_the_same_message(configured: tuple[Path, LiveService]) -> None:
    settings_file, service = configured
    with httpx.Client(
        base_url=service.url, headers={"Authorization": f"Bearer {service.admin_key}"}, timeout=30
    ) as admin:
        message = _refusal(admin.delete(f"/api/v1/sources/{SOURCE}"))
    code, _, err = edufed(settings_file, "sources", "remove", SOURCE)
    assert code == 2 and f"edufed: {message}\n" in err
    assert SOURCE in service.store.sources.ids()


def test_the_delete_button_of_the_operator_pages_refuses_it_too(configured: tuple[Path, LiveService]) -> None:
    _, service = configured
    with httpx.Client(base_url=service.url, timeout=30) as browser:
        assert browser.post("/operator/login", data={"key": service.admin_key}).status_code == 303
        form = {"csrf": OPERATOR_COOKIE.csrf_token(service.admin_key)}
        answer = browser.post(f"/operator/sources/{SOURCE}/delete", data=form)
    assert answer.status_code == 303 and answer.headers["location"].endswith("?error=defined_in_config")
    assert service.store.sources.get(SOURCE).enabled
