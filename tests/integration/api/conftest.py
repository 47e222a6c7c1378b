"""Fixtures of the API and page tests: the sample catalogue behind a real server, and an HTTP client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.integration.api.catalogue import LiveServer, catalogue_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with catalogue_server(tmp_path_factory.mktemp("catalogue")) as running:
        yield running


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http
