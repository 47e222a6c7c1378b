"""The engine's own Scrapy signal: components hand events (warnings, problems, request log) to the emitter."""

from __future__ import annotations

from typing import Any

from crawlers.scrapy_engine.events import Event

engine_event = object()


def send_event(crawler: Any, event: Event) -> None:
    """Hand one event to whoever listens (the child's emitter writes it to stdout)."""
    crawler.signals.send_catch_log(signal=engine_event, event=event)
