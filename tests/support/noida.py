"""An Elasticsearch engine for tests: noida-db (ES 8.15 REST-compatible) on a free loopback port.

`elasticsearch_engine` is a context manager yielding the base URL. With ELASTICSEARCH_URL set it yields that
cluster; otherwise it starts `noida-db start --only elasticsearch` in a temporary data directory, polls
`GET /` until the engine answers, and stops the process at the end. Tests give every backend its own alias
(`test_alias`) and drop it afterwards, so a shared cluster keeps nothing of theirs.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

URL_ENV = "ELASTICSEARCH_URL"
START_TIMEOUT_SECONDS = 60.0
TEST_ALIAS_PREFIX = "edufed-test-"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def noida_command() -> str:
    """The noida-db executable installed beside this Python (the dev extra), or on PATH."""
    beside = Path(sys.executable).with_name("noida-db")
    found = str(beside) if beside.exists() else shutil.which("noida-db")
    if found is None:
        raise RuntimeError("noida-db is not installed: pip install 'edufed[dev]'")
    return found


def answers(url: str) -> bool:
    """True when an Elasticsearch-compatible engine answers GET / at `url`."""
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            body = json.load(response)
    except (OSError, ValueError):
        return False
    return isinstance(body, dict) and "version" in body


@contextmanager
def elasticsearch_engine() -> Iterator[str]:
    """The URL of ELASTICSEARCH_URL's cluster, or of a noida-db engine started (and stopped) here."""
    given = os.environ.get(URL_ENV)
    if given:
        yield given.rstrip("/")
        return
    with tempfile.TemporaryDirectory(prefix="edufed-noida-") as data_dir:
        yield from _run_noida(Path(data_dir))


def _run_noida(data_dir: Path) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        noida_command(),
        "start",
        "--only",
        "elasticsearch",
        "--host",
        "127.0.0.1",
        "--elasticsearch-port",
        str(port),
        "--data-dir",
        str(data_dir / "data"),
    ]
    with open(data_dir / "noida.log", "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            _wait_until_answers(url, process=process, log=data_dir / "noida.log")
            yield url
        finally:
            _stop(process)


def _wait_until_answers(url: str, *, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not answers(url):
        if process.poll() is not None:
            output = log.read_text(errors="replace")
            raise RuntimeError(f"noida-db exited with {process.returncode}: {output}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"noida-db did not answer at {url}: {log.read_text(errors='replace')}")
        time.sleep(0.05)  # the interval between polls, not a wait for the engine


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)


def test_alias() -> str:
    """A fresh alias for one test's index, under the prefix tests own."""
    return f"{TEST_ALIAS_PREFIX}{uuid.uuid4().hex[:12]}"


test_alias.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test
