"""The API documentation pages, /docs (Swagger UI) and /redoc, and the site icon, all served from this machine.

Swagger UI and ReDoc come from the files the fastapi-offline package installs, so the pages work on intranets
without internet access (FastAPI's defaults load them from a CDN).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_PATH = "/docs-assets"
ICON = Path(__file__).resolve().parents[1] / "static" / "favicon.svg"
ICON_URL = "/static/favicon.svg"
LOCAL_IMAGES = {"Content-Security-Policy": "img-src 'self' data:"}
"""ReDoc's side menu shows its maker's logo from the maker's site: images stay on this server."""

router = APIRouter(include_in_schema=False)


def assets_dir() -> Path:
    """The folder holding swagger-ui-bundle.js, swagger-ui.css and redoc.standalone.js."""
    return Path(str(files("fastapi_offline") / "static"))


def install(app: FastAPI) -> None:
    """Add the documentation pages, their assets and the icon to `app` (created with docs_url=None)."""
    app.include_router(router)
    app.mount(ASSETS_PATH, StaticFiles(directory=assets_dir()), name="docs-assets")


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI over /openapi.json: try the API from the browser."""
    page = get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} API",
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=ICON_URL,
    )
    page.headers.update(LOCAL_IMAGES)
    return page


@router.get("/redoc", response_class=HTMLResponse)
def redoc(request: Request) -> HTMLResponse:
    """ReDoc over /openapi.json: the API reference on one page."""
    page = get_redoc_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} API",
        redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
        redoc_favicon_url=ICON_URL,
        with_google_fonts=False,
    )
    page.headers.update(LOCAL_IMAGES)
    return page


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    """The site icon, for browsers that ask for it at the conventional address."""
    return FileResponse(ICON, media_type="image/svg+xml")
