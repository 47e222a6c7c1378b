"""Entry point of the crawl child: `python -m crawlers.scrapy_engine` reads one job (JSON) on stdin."""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import TextIO

logger = logging.getLogger("crawlers.scrapy_engine")


def _private_stdout() -> TextIO:
    """Keep the real stdout for events only; anything else printed goes to stderr (and so to the log)."""
    events = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return events


def _worth_relaying(record: logging.LogRecord) -> bool:
    """Our own INFO lines and anyone's warnings; Scrapy's start-up chatter stays out of the service log."""
    return record.levelno >= logging.WARNING or record.name.startswith("crawlers")


def main() -> int:
    out = _private_stdout()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_worth_relaying)
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    try:
        job = json.loads(sys.stdin.read())
    except ValueError as exc:
        logger.error("the crawl job on stdin is not JSON: %s", exc)
        return 2
    from crawlers.scrapy_engine.runner import run_job  # Scrapy is imported only in the child

    try:
        run_job(job, out)
    finally:
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
