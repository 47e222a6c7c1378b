"""Fixtures of the browser tests: the sample catalogue behind a real server, Debian's headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.integration.api.catalogue import LiveServer, catalogue_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with catalogue_server(tmp_path_factory.mktemp("browser-catalogue")) as running:
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (run `make browser-deps`)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A page in a 360 x 740 viewport, the size of a small Android phone."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, locale="zh-CN")
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        yield context.new_page()
    finally:
        context.close()
