"""The parent side of a crawl: start the engine child, stream its events, stop it whatever happens."""

from __future__ import annotations

import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from crawlers.scrapy_engine.errors import EngineCrashedError, EngineProtocolError, EngineTimeoutError
from crawlers.scrapy_engine.events import Event, decode

logger = logging.getLogger(__name__)
child_logger = logging.getLogger("crawlers.scrapy_engine.child")

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ENGINE_COMMAND = (sys.executable, "-m", "crawlers.scrapy_engine")
STOP_GRACE_SECONDS = 5.0
STDERR_TAIL_LINES = 20
_EOF = None
_LEVELS = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
    "CRITICAL": logging.CRITICAL,
}


@dataclass(frozen=True)
class CrawlJob:
    """What the child needs: the source config and HTTP settings as JSON data, robots and delay choices,
    the cursor of the last complete crawl (empty: crawl in full), and the `plan` the parent made from what only
    it knows, the catalogue and the date (the html kind's: today's day number and the detail pages that may
    stand unfetched)."""

    source: dict[str, Any]
    http: dict[str, Any]
    obey_robots: bool
    delay_seconds: float
    cursor: dict[str, Any] = field(default_factory=dict)
    plan: dict[str, Any] = field(default_factory=dict)

    @property
    def source_id(self) -> str:
        return str(self.source.get("id", "?"))

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, default=str)


class EngineProcess:
    """One crawl child process. `events()` yields its events lazily; closing the iterator kills the child."""

    def __init__(self, job: CrawlJob, *, timeout_seconds: float, command: Sequence[str] = ENGINE_COMMAND) -> None:
        self.job = job
        self.timeout_seconds = timeout_seconds
        self.command = list(command)
        self.stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._proc: subprocess.Popen[str] | None = None
        self._threads: list[threading.Thread] = []
        self._finished = False

    @property
    def pid(self) -> int | None:
        """The child's process id once started."""
        return self._proc.pid if self._proc is not None else None

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode if self._proc is not None else None

    def events(self) -> Generator[Event, None, None]:
        """Start the child and yield each event it writes, until its `done` line; raises EngineError."""
        self._start()
        try:
            yield from self._read()
        finally:
            self.stop()

    def _start(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH")) if p)
        env["PYTHONIOENCODING"] = "utf-8"
        self._proc = subprocess.Popen(
            self.command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,  # a Ctrl-C meant for the service does not hit the crawl half-way
        )
        logger.debug("crawl engine for %s started as pid %s", self.job.source_id, self._proc.pid)
        assert self._proc.stdout is not None and self._proc.stderr is not None
        self._threads = [
            threading.Thread(target=self._pump_stdout, args=(self._proc.stdout,), daemon=True),
            threading.Thread(target=self._pump_stderr, args=(self._proc.stderr,), daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        self._send_job()

    def _send_job(self) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        try:
            self._proc.stdin.write(self.job.to_json())
            self._proc.stdin.close()
        except (BrokenPipeError, OSError) as exc:  # the child died at once; _read reports how
            logger.debug("could not hand the job to the crawl engine: %s", exc)

    def _read(self) -> Iterator[Event]:
        deadline = time.monotonic() + self.timeout_seconds
        source_id = self.job.source_id
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self._lines.get(timeout=max(remaining, 0.0)) if remaining > 0 else self._lines.get_nowait()
            except queue.Empty:
                raise EngineTimeoutError(source_id, limit_seconds=self.timeout_seconds) from None
            if line is _EOF:
                raise self._ended_early()
            if not line.strip():
                continue
            try:
                event = decode(line)
            except ValueError as exc:
                raise EngineProtocolError(source_id, line=line, reason=str(exc)) from exc
            yield event
            if event["type"] == "done":
                self._finished = True
                return

    def _ended_early(self) -> EngineCrashedError:
        assert self._proc is not None
        try:
            code: int | None = self._proc.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            code = None
        self._join_threads()
        return EngineCrashedError(self.job.source_id, exit_code=code, stderr_tail=list(self.stderr_tail))

    def stop(self) -> None:
        """Stop the child if it still runs, reap it and close its pipes (safe to call twice)."""
        proc = self._proc
        if proc is None:
            return
        if self._finished:  # the child is on its way out after its last line
            try:
                proc.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                logger.warning("crawl engine for %s lingers after its last line", self.job.source_id)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            logger.info("crawl engine for %s stopped before its end", self.job.source_id)
        self._join_threads()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()

    def _join_threads(self) -> None:
        for thread in self._threads:
            thread.join(timeout=STOP_GRACE_SECONDS)

    def _pump_stdout(self, stream: IO[str]) -> None:
        try:
            for line in stream:
                self._lines.put(line)
        except (OSError, ValueError):  # the pipe was closed under us while stopping
            pass
        finally:
            self._lines.put(_EOF)

    def _pump_stderr(self, stream: IO[str]) -> None:
        level = logging.INFO
        try:
            for line in stream:
                text = line.rstrip("\n")
                if not text:
                    continue
                level = _LEVELS.get(text.split(" ", 1)[0], level)
                self.stderr_tail.append(text)
                child_logger.log(level, "[%s] %s", self.job.source_id, text)
        except (OSError, ValueError):
            pass
