"""`edufed serve` as a real process for end-to-end tests: started, its log lines read, stopped."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

EDUFED = str(Path(sys.executable).parent / "edufed")
URL_LINE = re.compile(r"edufed is serving on (http://127\.0\.0\.1:\d+)/")


@dataclass
class ServeProcess:
    """A running `edufed serve` and every stderr line it has written so far."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str]
    seen: list[str] = field(default_factory=list)
    url: str = ""

    def wait_for_line(self, pattern: re.Pattern[str], *, timeout: float) -> re.Match[str]:
        """The first stderr line matching `pattern`, read as the process writes them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                assert self.process.poll() is None, "edufed serve exited early:\n" + "".join(self.seen)
                continue
            self.seen.append(line)
            found = pattern.search(line)
            if found:
                return found
        raise AssertionError(f"edufed serve never logged {pattern.pattern!r}:\n" + "".join(self.seen))


@contextmanager
def serve_process(env_extra: dict[str, str], *args: str) -> Iterator[ServeProcess]:
    """Start `edufed serve --port 0` with these EDUFED_* variables; stop it (if still alive) afterwards."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDUFED_")} | env_extra
    process = subprocess.Popen([EDUFED, "serve", "--port", "0", *args], env=env, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    stderr = process.stderr
    assert stderr is not None
    reader = threading.Thread(target=lambda: [lines.put(line) for line in stderr], daemon=True)
    reader.start()
    try:
        running = ServeProcess(process, lines)
        running.url = running.wait_for_line(URL_LINE, timeout=60).group(1)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reader.join(timeout=10)
        stderr.close()
