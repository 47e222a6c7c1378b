"""The suite's one rule for its parallel run (tests/README.md, "Parallel"): a module whose tests share a
module-scoped fixture runs on one worker, so the fixture is built once, as in a serial run, not once per worker
that happens to draw one of its tests."""

from __future__ import annotations

import pytest


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the xdist_group marks (--dist loadgroup)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None or any(True for _ in item.iter_markers("xdist_group")):
            continue
        scopes = {definition.scope for definitions in info.name2fixturedefs.values() for definition in definitions}
        if "module" in scopes:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
