"""`edufed serve`: the web service under uvicorn, with an optional background harvest right after start."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from types import FrameType

import uvicorn

from config.settings import Settings
from config.sources import SourceBase
from crawlers.run import harvest
from crawlers.state import StateStore
from indexer.backends.base import IndexBackend
from indexer.pipeline import RecordBuilder
from search_api.app import create_app

logger = logging.getLogger(__name__)

_POLL_SECONDS = 0.05
_HARVEST_JOIN_SECONDS = 30.0


@dataclass
class ServeOptions:
    """Where to listen and what to harvest once the server is up."""

    host: str
    port: int
    harvest_sources: Sequence[SourceBase] = ()


class StartupHarvest:
    """Harvests sources in turn, in a daemon thread, once the server answers; stops between sources."""

    def __init__(
        self,
        sources: Sequence[SourceBase],
        *,
        settings: Settings,
        backend: IndexBackend,
        builder: RecordBuilder,
    ) -> None:
        self.sources = [s for s in sources if s.enabled]
        self.settings = settings
        self.backend = backend
        self.builder = builder
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self, server: uvicorn.Server) -> None:
        self.thread = threading.Thread(target=self._run, args=(server,), name="edufed-harvest", daemon=True)
        self.thread.start()

    def _run(self, server: uvicorn.Server) -> None:
        while not server.started:
            if self.stopping.wait(_POLL_SECONDS):
                return
        logger.info("edufed is serving on %s (open it in a browser)", open_url(server))
        if self.sources:
            logger.info("harvesting %d source(s) in the background", len(self.sources))
        for source in self.sources:
            if self.stopping.is_set():
                return
            # crawlers.run logs the one line per report (and the reason of a failure)
            harvest(source, settings=self.settings, backend=self.backend, builder=self.builder)
        if self.sources:
            logger.info("background harvest finished: %d records in the catalogue", self.backend.count())

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=_HARVEST_JOIN_SECONDS)
            if self.thread.is_alive():
                logger.warning("a harvest is still running at shutdown; it will be cut off")


def open_url(server: uvicorn.Server) -> str:
    """The URL a person on this machine opens: the bound port; loopback when listening on every address."""
    host, port = server.config.host, server.config.port
    for running in getattr(server, "servers", []):
        for sock in running.sockets:
            port = sock.getsockname()[1]
            break
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(
    options: ServeOptions,
    *,
    settings: Settings,
    backend: IndexBackend,
    builder: RecordBuilder,
    sources: Sequence[SourceBase],
    store: StateStore | None = None,
) -> None:
    """Serve until Ctrl-C or SIGTERM; harvest `options.harvest_sources` once the server is up."""
    app = create_app(settings=settings, backend=backend, sources=sources, store=store)
    config = uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        log_config=None,
        access_log=False,
        lifespan="off",
        ws="none",
    )
    server = uvicorn.Server(config)
    background = StartupHarvest(options.harvest_sources, settings=settings, backend=backend, builder=builder)
    background.start(server)
    previous = _catch_sigterm()
    try:
        server.run()
    except (KeyboardInterrupt, ServiceStopped):
        pass  # uvicorn has already shut down gracefully and re-raised the signal it caught
    finally:
        background.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    logger.info("edufed stopped")


class ServiceStopped(Exception):
    """SIGTERM arrived: the service stops as it does for Ctrl-C."""


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    raise ServiceStopped(signum)


def _catch_sigterm() -> signal._HANDLER | None:
    """Turn SIGTERM into ServiceStopped, so cleanup runs after uvicorn re-raises it; main thread only."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_stopped)
