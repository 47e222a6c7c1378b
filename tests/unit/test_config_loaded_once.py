"""Configuration files are read at the entry points, once per process start, and passed down from there."""

from __future__ import annotations

import ast
import io
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import yaml

from config.loader import BUNDLED_DIR
from search_api.cli import Console, main
from tests.support.serve_process import URL_LINE, ServeProcess

ROOT = Path(__file__).resolve().parents[2]
LOADERS = {"load_settings", "load_sources", "load_themes", "load_query_words"}
ENTRY_POINTS = {"search_api/app.py", "crawlers/schedule.py"}
"""The app factory and the scheduler load what their caller did not give them; every `search_api/cli/` module
(the CLI) loads too."""
BUNDLED_DEFAULTS = {"indexer/query_vocabulary.py", "indexer/themes_version.py"}
"""Defaults of a backend opened without what an entry point loaded (tests, benchmarks), read from the bundled files
only: the query vocabulary, and the themes version a new index records."""


def loader_imports(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        named = {alias.name for alias in node.names} if isinstance(node, ast.ImportFrom) else set()
        if isinstance(node, ast.ImportFrom) and node.module in ("config", "config.loader") and LOADERS & named:
            return True  # a reading function, not the loader's validate / problems_from helpers
        if isinstance(node, ast.Import) and any(alias.name == "config.loader" for alias in node.names):
            return True
    return False


def test_only_entry_points_import_the_loader() -> None:
    modules = [p for layer in ("crawlers", "indexer", "search_api") for p in sorted((ROOT / layer).rglob("*.py"))]
    importers = {str(p.relative_to(ROOT)) for p in modules if loader_imports(p)}
    cli = {m for m in importers if m.startswith("search_api/cli/")}
    assert importers - cli == ENTRY_POINTS | BUNDLED_DEFAULTS
    assert cli, "the CLI loads the configuration of its commands"


def test_the_check_sees_a_loader_import(tmp_path: Path) -> None:
    module = tmp_path / "library.py"
    module.write_text("from config import ThemeTable, load_themes\n", encoding="utf-8")
    assert loader_imports(module)
    module.write_text("from config.themes import ThemeTable\nfrom config.loader import validate\n", encoding="utf-8")
    assert not loader_imports(module)


# Runs `edufed serve` with an audit hook counting the opens of the watched files; prints them when it exits.
COUNTING_SERVE = """
import atexit, json, os, sys
watched = {os.path.realpath(p): 0 for p in json.loads(sys.argv[1])}
def hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.path.realpath(os.fsdecode(args[0]))
        if path in watched:
            watched[path] += 1
sys.addaudithook(hook)
atexit.register(lambda: print("CONFIG READS " + json.dumps(watched), file=sys.stderr, flush=True))
from search_api.cli import main
sys.exit(main(sys.argv[2:]))
"""


def test_a_serving_process_reads_each_configuration_file_once(tmp_path: Path) -> None:
    themes, words = tmp_path / "themes.yaml", tmp_path / "query_words.yaml"
    shutil.copy(BUNDLED_DIR / "themes.yaml", themes)
    shutil.copy(BUNDLED_DIR / "query_words.yaml", words)
    sources = tmp_path / "sources.yaml"
    block = {"id": "file_feed", "name": "配置文件里的来源", "platform": "file_platform", "platform_name": "某平台",
             "kind": "rss", "url": "https://feeds.example.cn/rss.xml", "enabled": False}  # fmt: skip
    sources.write_text(yaml.safe_dump({"sources": [block]}, allow_unicode=True), encoding="utf-8")
    settings = tmp_path / "settings.yaml"
    settings.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data"), "sources_file": str(sources),
                                        "themes_file": str(themes), "query_words_file": str(words)}))  # fmt: skip
    out = io.StringIO()
    assert main(["keys", "create", "--role", "admin", "--config", str(settings)], console=Console(out=out)) == 0
    key = out.getvalue().strip()
    watched = [settings, sources, themes, words, BUNDLED_DIR / "themes.yaml", BUNDLED_DIR / "query_words.yaml",
               BUNDLED_DIR / "sources.yaml"]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDUFED_")}
    command = [sys.executable, "-c", COUNTING_SERVE, json.dumps([str(p) for p in watched]),
               "serve", "--port", "0", "--config", str(settings)]  # fmt: skip
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    assert process.stderr is not None
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stderr or []], daemon=True)
    reader.start()
    try:
        served = ServeProcess(process, lines)
        url = served.wait_for_line(URL_LINE, timeout=60).group(1)
        with httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {key}"}) as http:
            for q in ("书法", "我想学跳舞"):
                assert http.get("/api/v1/search", params={"q": q}).status_code == 200
            for _ in range(2):  # the configuration file is asked each time, and not read again
                refused = http.delete("/api/v1/sources/file_feed")
                assert refused.status_code == 409 and refused.json()["error"]["code"] == "defined_in_config"
        process.send_signal(signal.SIGINT)
        reads = json.loads(served.wait_for_line(re.compile(r"CONFIG READS (.*)"), timeout=60).group(1))
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        reader.join(timeout=10)
        process.stderr.close()
    by_name = {str(Path(path).relative_to(tmp_path if path.startswith(str(tmp_path)) else ROOT)): n
               for path, n in reads.items()}  # fmt: skip
    assert by_name == {
        "settings.yaml": 1, "sources.yaml": 1, "themes.yaml": 1, "query_words.yaml": 1,
        "config/themes.yaml": 0, "config/query_words.yaml": 0, "config/sources.yaml": 0,
    }  # fmt: skip
