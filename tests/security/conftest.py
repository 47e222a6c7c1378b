"""Fixtures of the security tests: the live service with keys, and clients for each key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.operator.site import OperatorSite, operator_site
from tests.support.http_server import FixtureServer, http_server_fixture  # noqa: F401


@pytest.fixture
def site(tmp_path: Path, http_server: FixtureServer) -> Iterator[OperatorSite]:
    with operator_site(tmp_path, http_server) as running:
        yield running


@pytest.fixture
def operator(site: OperatorSite) -> Iterator[httpx.Client]:
    """A client with the test_platform operator key."""
    with site.client(site.operator_key) as client:
        yield client


@pytest.fixture
def admin(site: OperatorSite) -> Iterator[httpx.Client]:
    with site.client(site.admin_key) as client:
        yield client


@pytest.fixture
def other(site: OperatorSite) -> Iterator[httpx.Client]:
    """A client with another platform's operator key."""
    with site.client(site.other_key) as client:
        yield client
