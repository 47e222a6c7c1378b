"""`edufed keys`: known platforms only, `--demo` for the catalogue `make run` serves, and a key that signs in there."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
import yaml

from search_api.cli import Console, main
from tests.support.serve_process import serve_process


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "settings.yaml"
    path.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data")}), encoding="utf-8")
    return path


def keys(config: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["keys", *args, "--config", str(config)], console=Console(out=out, err=err))
    return code, out.getvalue(), err.getvalue()


def test_a_key_for_a_platform_no_source_has_is_refused_naming_the_known_ones(config: Path) -> None:
    code, out, err = keys(config, "create", "--role", "operator", "--platform", "no_such_platform")
    assert code == 2 and out == ""
    assert "no_such_platform" in err and "le_ouchn (国家开放大学终身教育平台)" in err and "--new-platform" in err
    assert keys(config, "list")[1].strip() == "no keys"


def test_a_demo_platform_without_demo_is_refused_with_the_hint_to_add_it(config: Path) -> None:
    code, _, err = keys(config, "create", "--role", "operator", "--platform", "demo_shequ")
    assert code == 2 and "add --demo" in err
    code, key, note = keys(config, "create", "--demo", "--role", "operator", "--platform", "demo_shequ")
    assert code == 0 and key.startswith("efk_")
    assert str(config.parent / "data" / "demo" / "state.sqlite3") in note and "make run" in note
    key_id = key.split("_")[1]
    assert key_id in keys(config, "list", "--demo")[1] and key_id not in keys(config, "list")[1]


def test_new_platform_accepts_a_platform_about_to_register_its_first_source(config: Path) -> None:
    code, key, note = keys(config, "create", "--role", "operator", "--platform", "xicheng_shequ", "--new-platform")
    assert code == 0 and key.startswith("efk_") and "xicheng_shequ" in note
    assert "use --demo for its keys" in note


def test_a_key_made_with_demo_signs_in_to_the_demo_server_at_once(config: Path) -> None:
    def create(*args: str) -> str:
        code, key, note = keys(config, "create", "--role", "operator", "--platform", "demo_shequ", *args)
        assert code == 0, note
        return key.strip()

    with (
        serve_process({"EDUFED_DATA_DIR": str(config.parent / "data")}, "--demo") as served,
        httpx.Client(base_url=served.url, timeout=30) as http,
    ):
        real = create("--new-platform")  # the real catalogue's state: not what the demo server reads
        refused = http.post("/operator/login", data={"key": real})
        assert refused.status_code == 401 and "--demo" in refused.text and "密钥从哪里来" in refused.text
        signed_in = http.post("/operator/login", data={"key": create("--demo")}, follow_redirects=False)
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/operator"
        console = http.get("/operator")  # the client keeps the sign-in cookie
        assert console.status_code == 200 and "demo_shequ" in console.text
