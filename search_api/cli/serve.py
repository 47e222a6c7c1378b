"""`edufed serve`: the web service under uvicorn, with the harvest scheduler started once the server answers."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from types import FrameType

import uvicorn
from fastapi import FastAPI

from config.loader import load_themes
from config.settings import Settings
from config.source_models import SourceBase
from config.themes import ThemeTable
from crawlers import HarvestScheduler, allow_source_hosts, freeze_started, serving_collections
from crawlers.state import StateStore
from indexer.analysis_catch_up import AnalysisCatchUp
from indexer.backends.base import IndexBackend
from indexer.linkage.version import log_linkage
from indexer.themes_version import log_themes, themes_version
from search_api.app import create_app
from search_api.cli.console import EXIT_OK, Console
from search_api.cli.context import file_source_ids, open_index, open_state, seed, sources_for

logger = logging.getLogger(__name__)

_POLL_SECONDS = 0.05
_START_JOIN_SECONDS = 30.0


def run(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """`edufed serve`: seed the configured sources, then serve until stopped."""
    themes = load_themes(settings.themes_file)  # loaded once: the index, the dry-runs and every run classify by it
    host = args.host or settings.server.host
    port = settings.server.port if args.port is None else args.port
    with (
        sources_for(settings, demo=args.demo, server_port=port) as sources,
        open_state(settings) as store,
        open_index(settings, store, themes=themes) as backend,
    ):
        seed(store, sources)
        first_runs = args.demo or settings.scheduler.harvest_on_start
        options = ServeOptions(host=host, port=port, first_runs=first_runs)
        in_file = file_source_ids(settings) if args.demo else frozenset(s.id for s in sources)
        if args.demo:  # the demo platforms serve on loopback, which the SSRF guard refuses unless allowed
            settings = allow_source_hosts(settings, sources)
        loaded = Loaded(sources=sources, themes=themes, file_source_ids=in_file)
        serve(options, settings=settings, backend=backend, loaded=loaded, store=store)
    return EXIT_OK


@dataclass(frozen=True)
class Loaded:
    """What `serve` loaded from the configuration files at start, passed to the app and the scheduler."""

    sources: Sequence[SourceBase]
    themes: ThemeTable
    file_source_ids: frozenset[str]


@dataclass
class ServeOptions:
    """Where to listen, and whether every source runs once as soon as the server is up."""

    host: str
    port: int
    first_runs: bool = False


class SchedulerStart:
    """Starts the harvest scheduler in a daemon thread once the server answers, and stops it at the end."""

    def __init__(self, scheduler: HarvestScheduler | None, *, first_runs: bool) -> None:
        self.scheduler = scheduler
        self.first_runs = first_runs
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self, server: uvicorn.Server) -> None:
        self.thread = threading.Thread(target=self._run, args=(server,), name="edufed-scheduler-start", daemon=True)
        self.thread.start()

    def _run(self, server: uvicorn.Server) -> None:
        while not server.started:
            if self.stopping.wait(_POLL_SECONDS):
                return
        logger.info("edufed is serving on %s (open it in a browser)", open_url(server))
        if self.scheduler is None:
            logger.info("the harvest scheduler is switched off (scheduler.enabled: false)")
            return
        self.scheduler.start(first_runs=self.first_runs)
        if self.first_runs:
            logger.info("harvesting every enabled source once now, in the background")

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=_START_JOIN_SECONDS)
        if self.scheduler is not None:
            self.scheduler.shutdown()


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
    loaded: Loaded,
    store: StateStore,
) -> None:
    """Serve until Ctrl-C or SIGTERM, with the harvest scheduler (unless settings switch it off)."""
    serving_collections()
    app = create_app(settings=settings, backend=backend, sources=loaded.sources, store=store, themes=loaded.themes,
                     file_source_ids=loaded.file_source_ids)  # fmt: skip
    scheduler = None
    if settings.scheduler.enabled:
        scheduler = HarvestScheduler(settings=settings, store=store, themes=loaded.themes)
    app.state.scheduler = scheduler
    server = uvicorn.Server(server_config(app, host=options.host, port=options.port))
    background = SchedulerStart(scheduler, first_runs=options.first_runs)
    background.start(server)
    catch_up = AnalysisCatchUp.for_serving(settings, backend)  # an index of an older text analysis
    log_linkage(backend)  # an index linked by older rules: the command and its cost
    log_themes(backend, ours=themes_version(loaded.themes))  # records classified by other theme rules: the same
    freeze_started()  # what the process holds now lives as long as it: out of the full collections' walks
    previous = _catch_sigterm()
    try:
        server.run()
    except (KeyboardInterrupt, ServiceStopped):
        pass  # uvicorn has already shut down gracefully and re-raised the signal it caught
    finally:
        background.stop()
        if catch_up is not None:
            catch_up.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    logger.info("edufed stopped")


HTTP_PARSER = "httptools"
"""uvicorn's HTTP/1.1 parser: httptools (llhttp, in C) rather than h11 (pure Python), which cost the API ~0.3 ms
more CPU a request (bench/RESULTS.md, "Issue 17: 8 clients through HTTP")."""


def server_config(app: FastAPI, *, host: str, port: int) -> uvicorn.Config:
    """How `edufed serve` runs the app under uvicorn: the C HTTP parser, no lifespan events, no websockets, no
    access log (the app logs what it needs)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=HTTP_PARSER,
        log_config=None,
        access_log=False,
        lifespan="off",
        ws="none",
    )


class ServiceStopped(Exception):
    """SIGTERM arrived: the service stops as it does for Ctrl-C."""


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    raise ServiceStopped(signum)


def _catch_sigterm() -> signal._HANDLER | None:
    """Turn SIGTERM into ServiceStopped, so cleanup runs after uvicorn re-raises it; main thread only."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_stopped)
