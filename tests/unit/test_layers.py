"""The layers import one way only: search_api -> crawlers -> indexer -> config."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["config", "indexer", "crawlers", "search_api"]


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & set(LAYERS)


@pytest.mark.parametrize("layer", LAYERS)
def test_no_module_imports_a_higher_layer(layer):
    allowed = set(LAYERS[: LAYERS.index(layer) + 1])
    modules = sorted((ROOT / layer).rglob("*.py"))
    assert modules, f"no modules found in {layer}/"
    violations = {str(path.relative_to(ROOT)): sorted(imported_packages(path) - allowed) for path in modules}
    assert {k: v for k, v in violations.items() if v} == {}


def test_the_check_sees_an_upward_import(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("from search_api.app import create_app\nimport crawlers.run\n", encoding="utf-8")
    assert imported_packages(module) == {"search_api", "crawlers"}
