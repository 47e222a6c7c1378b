"""Run `edufed` commands in-process against a settings file with one json_api course list, as tests need."""

from __future__ import annotations

import io
from pathlib import Path

import yaml

from search_api.cli import Console, main
from tests.support.harvest_state import course_list
from tests.support.http_server import FixtureServer


def write_config(tmp_path: Path, server: FixtureServer) -> Path:
    """settings.yaml (data under tmp_path, loopback allowed) with a sources.yaml holding `course_list`."""
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump({"sources": [course_list(server).model_dump(mode="json")]}), encoding="utf-8")
    settings = tmp_path / "settings.yaml"
    settings.write_text(
        f"data_dir: {tmp_path / 'data'}\nsources_file: {sources}\n"
        "http: {retries: 0, delay_seconds: 0, backoff_seconds: 0, allow_private_hosts: ['127.0.0.1']}\n",
        encoding="utf-8",
    )
    return settings


def no_sources_config(tmp_path: Path, extra: str = "") -> Path:
    """settings.yaml with data under tmp_path/data and an empty sources.yaml, plus `extra` YAML lines."""
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources: []\n", encoding="utf-8")
    settings = tmp_path / "settings.yaml"
    settings.write_text(f"data_dir: {tmp_path / 'data'}\nsources_file: {sources}\n{extra}", encoding="utf-8")
    return settings


def edufed(settings: Path, *args: str) -> tuple[int, str, str]:
    """Exit code, standard output and the command's messages of `edufed ARGS --config SETTINGS`."""
    out, err = io.StringIO(), io.StringIO()
    code = main([*args, "--config", str(settings)], console=Console(out=out, err=err))
    return code, out.getvalue(), err.getvalue()
