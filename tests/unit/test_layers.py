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


ROOMS_OPEN_TO = {
    "cli": {"cli"},  # the command line is an entry point: nothing below it calls it
    "app": {"cli"},  # the app factory is assembled once, by `edufed serve` (and tests)
    "routes": {"app", "routes", "oai"},  # routers are mounted by the app; services never reach up into them
    "oai": {"app", "routes", "oai"},
}
"""search_api's rooms and the rooms allowed to import them; the other rooms (http, pages, services) are open to all."""


def search_api_rooms(path: Path) -> set[str]:
    """The search_api rooms (`search_api.<room>...`) a module imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    rooms: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            rooms.update(alias.name.split(".")[1] for alias in node.names if alias.name.startswith("search_api."))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] == "search_api":
                rooms.update([parts[1]] if len(parts) > 1 else [alias.name for alias in node.names])
    return rooms


def _room_of(path: Path) -> str:
    parts = path.relative_to(ROOT / "search_api").parts
    return parts[0].removesuffix(".py")


def test_search_api_rooms_import_only_where_allowed():
    violations = {}
    for path in sorted((ROOT / "search_api").rglob("*.py")):
        room = _room_of(path)
        refused = {r for r in search_api_rooms(path) if r in ROOMS_OPEN_TO and room not in ROOMS_OPEN_TO[r]}
        if refused:
            violations[str(path.relative_to(ROOT))] = sorted(refused)
    assert violations == {}


def test_the_room_check_sees_a_service_reaching_a_router(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("from search_api.routes.keys import router\nfrom search_api import cli, pages\n", "utf-8")
    assert search_api_rooms(module) == {"routes", "cli", "pages"}


CRAWLERS_FACES = {"crawlers", "crawlers.state", "crawlers.demo"}
"""What search_api may import of the crawlers layer: its public faces, never the modules behind them."""


def crawlers_modules(path: Path) -> set[str]:
    """The crawlers modules a module imports by name (`from crawlers.x import ...`, `import crawlers.x`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names if alias.name.split(".")[0] == "crawlers")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "crawlers":
            modules.add(str(node.module))
    return modules


def test_search_api_uses_only_the_public_faces_of_crawlers():
    modules = sorted((ROOT / "search_api").rglob("*.py"))
    violations = {str(p.relative_to(ROOT)): sorted(crawlers_modules(p) - CRAWLERS_FACES) for p in modules}
    assert {k: v for k, v in violations.items() if v} == {}


def test_the_face_check_sees_an_internal_import(tmp_path):
    module = tmp_path / "reach.py"
    module.write_text("from crawlers import harvest\nfrom crawlers.state.runs import STATUSES\n", encoding="utf-8")
    assert crawlers_modules(module) - CRAWLERS_FACES == {"crawlers.state.runs"}


def test_every_public_name_of_crawlers_resolves_to_what_it_names_even_after_its_module_is_loaded():
    """A public name equal to a submodule's would answer the module once that submodule is imported."""
    import importlib
    import types

    import crawlers

    submodules = {p.stem for p in (ROOT / "crawlers").iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    assert not set(crawlers.__all__) & submodules
    for name in crawlers.__all__:
        importlib.import_module(crawlers._WHERE[name][0])
        value = getattr(crawlers, name)
        assert value is not None and not isinstance(value, types.ModuleType), name
