"""Build the FastAPI application: JSON API, learner pages, static files, one error body everywhere."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from config.loader import load_sources, load_themes
from config.settings import Settings
from config.source_models import SourceBase
from config.themes import THEMES, ThemeTable
from crawlers.state import StateStore
from indexer.backends.base import IndexBackend
from indexer.errors import IndexBackendError, QueryError
from search_api import oai
from search_api.http import openapi, ratelimit
from search_api.http.body_limits import BodyLimitMiddleware
from search_api.http.cors import SharedApiCorsMiddleware
from search_api.http.errors import ApiError, ProblemDetail
from search_api.http.methods import OptionsMiddleware, allow_header
from search_api.http.middleware import GuardMiddleware
from search_api.http.responses import error_for
from search_api.pages.labels import media_type_label, record_type_label
from search_api.pages.views import record_url
from search_api.routes import admin, admin_pages, docs, health, keys, metrics, operator, pages, records, runs, search
from search_api.routes import data as data_routes
from search_api.routes import embed as embed_routes
from search_api.routes import feeds as feed_routes
from search_api.routes import sitemaps as sitemap_routes
from search_api.routes import sources as source_routes
from search_api.services.catalogue import Catalogue
from search_api.services.metrics import AppMetrics, ErrorCountingMiddleware

logger = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


def edufed_version() -> str:
    """The installed edufed version."""
    try:
        return metadata.version("edufed")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def create_app(
    *,
    settings: Settings,
    backend: IndexBackend,
    sources: Sequence[SourceBase] = (),
    store: StateStore | None = None,
    version: str | None = None,
    themes: ThemeTable | None = None,
    file_source_ids: Collection[str] | None = None,
) -> FastAPI:
    """The web service over `backend`; the caller owns the backend and the store (opens and closes them).

    `sources` gives display names of platforms before any of their records has been seen. `store` is the
    state database (sources, runs, keys); without it only the public search endpoints work. `themes` (the
    table dry-runs classify by) and `file_source_ids` (the sources settings' sources.yaml defines, which the
    API does not delete) are what the caller loaded at start; the ones not given are loaded here, once.
    """
    app = FastAPI(
        title="edufed",
        version=version or edufed_version(),
        summary="One search over China's lifelong-learning platforms.",
        docs_url=None,  # search_api.routes.docs serves /docs and /redoc from installed files, not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.themes = themes if themes is not None else load_themes(settings.themes_file)
    if file_source_ids is None:
        file_source_ids = [source.id for source in load_sources(settings.sources_file)]
    app.state.file_source_ids = frozenset(file_source_ids)
    app.state.store = store
    app.state.version = version or edufed_version()
    app.state.backend_name = settings.index.backend
    app.state.catalogue = Catalogue(
        backend, limits=settings.search, platforms={s.platform: s.platform_name for s in sources}
    )
    app.state.templates = _templates(settings)
    app.state.scheduler = None  # `edufed serve` sets its HarvestScheduler here
    app.state.metrics = AppMetrics(store=store, backend=backend)
    for router in (search.router, records.router, health.router, pages.router, admin.router, runs.router,
                   metrics.router, admin_pages.router, source_routes.router, keys.router,
                   operator.router, oai.router, feed_routes.router, sitemap_routes.router, data_routes.router,
                   embed_routes.router):  # fmt: skip
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=PACKAGE_DIR / "static"), name="static")
    docs.install(app)
    _add_error_handlers(app)
    openapi.install(app)  # the source bodies' schema, which FastAPI cannot see
    ratelimit.install(app)  # 429 with Retry-After
    app.add_middleware(BodyLimitMiddleware)  # before any parser recurses into a hostile body
    app.add_middleware(OptionsMiddleware)  # the methods of every route of a path, not only the first one's
    app.add_middleware(GuardMiddleware)
    if settings.embed.allowed_origins:  # member platforms' pages calling search and records (nothing by default)
        app.add_middleware(SharedApiCorsMiddleware, origins=settings.embed.allowed_origins)
    app.add_middleware(ErrorCountingMiddleware, metrics=app.state.metrics)  # outermost: counts the 500s too
    return app


def _templates(settings: Settings) -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(PACKAGE_DIR / "templates"),
        autoescape=True,  # every third-party string is escaped; only highlight snippets are marked safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["themes"] = THEMES
    env.globals["max_query_chars"] = settings.search.max_query_chars
    env.filters["media_type_label"] = media_type_label
    env.filters["record_type_label"] = record_type_label
    env.filters["record_url"] = record_url
    env.filters["count"] = _count
    env.tests["web_url"] = is_web_url
    return Jinja2Templates(env=env)


def is_web_url(value: object) -> bool:
    """True for an absolute http(s) URL: the only kind of third-party link a page may carry."""
    if not isinstance(value, str):
        return False
    parts = urlsplit(value.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _count(value: int | None) -> str:
    """A count the Chinese way: 12,345 below ten thousand, 1.2万 above."""
    if value is None:
        return ""
    if value >= 10_000:
        return f"{value / 10_000:.1f}".rstrip("0").rstrip(".") + "万"
    return f"{value:,}"


def _add_error_handlers(app: FastAPI) -> None:
    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_for(request.scope, exc)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = {404: "no such resource", 405: "method not allowed"}.get(exc.status_code, str(exc.detail))
        error = ApiError(exc.status_code, code, message)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # Starlette names the methods of the first route matching the path only
            headers["Allow"] = allow_header(request.app, request.url.path)
        return error_for(request.scope, error, headers=headers)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        details = [ProblemDetail(_field(err.get("loc", ())), str(err.get("msg", "invalid"))) for err in exc.errors()]
        return error_for(request.scope, ApiError(422, "validation_error", "invalid request parameters", details))

    async def query_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, QueryError)
        status, code = (400, "bad_cursor") if exc.field == "cursor" else (422, "validation_error")
        message = "cursor is not valid" if code == "bad_cursor" else "invalid search parameters"
        return error_for(request.scope, ApiError(status, code, message, [ProblemDetail(exc.field, str(exc))]))

    async def backend_error(request: Request, exc: Exception) -> Response:
        logger.error("index error answering %s: %s", request.url.path, exc)
        error = ApiError(503, "index_unavailable", "the catalogue index cannot be read right now; try again later")
        return error_for(request.scope, error, headers={"Retry-After": "30"})

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(QueryError, query_error)
    app.add_exception_handler(IndexBackendError, backend_error)


def _field(loc: Sequence[object]) -> str:
    """`("query", "size")` -> `size`: the parameter a client sent."""
    parts = [str(p) for p in loc if p not in ("query", "path", "body", "header")]
    return ".".join(parts) or "request"
