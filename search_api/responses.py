"""Error responses in the form the client needs: the JSON error body, or a plain-Chinese page for browsers."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from search_api.errors import ApiError, error_response

PAGE_MESSAGES = {
    "not_found": "没有找到这个页面。这门课程可能已经从原平台下架了。",
    "validation_error": "搜索条件有误，请回到首页重新搜索。",
    "bad_cursor": "这个翻页链接已经失效了，请回到第一页重新翻页。",
    "method_not_allowed": "这个网址不支持这样访问。",
    "index_unavailable": "课程目录暂时打不开，请过几分钟再试。",
    "internal_error": "网站出了点问题，请过几分钟再试。",
    "cross_site": "这个表单是从别的网站提交过来的，已拒绝。请回到本站页面重新操作。",
}
_PAGE_PATHS = ("/records/",)


def wants_page(scope: Scope) -> bool:
    """True when the answer should be an HTML page: a page URL, or a browser asking for a non-API URL."""
    path = str(scope.get("path", ""))
    if path.startswith("/api/") or path in ("/openapi.json", "/docs", "/redoc"):
        return False
    if path == "/" or path.startswith(_PAGE_PATHS):
        return True
    accept = dict(scope.get("headers") or []).get(b"accept", b"")
    return b"text/html" in accept


def error_for(scope: Scope, error: ApiError, *, headers: dict[str, str] | None = None) -> Response:
    """The response for an error: an HTML page for browsers on page URLs, the JSON body everywhere else."""
    if not wants_page(scope):
        return error_response(error, headers=headers)
    app: Any = scope.get("app")
    templates = getattr(getattr(app, "state", None), "templates", None)
    if templates is None:
        return error_response(error, headers=headers)
    message = PAGE_MESSAGES.get(error.code, PAGE_MESSAGES["internal_error"])
    context = {"status": error.status, "message": message}
    response: Response = templates.TemplateResponse(
        Request(scope), "error.html", context, status_code=error.status, headers=headers
    )
    return response
