"""Error responses in the form the client needs: the JSON error body, or a plain-Chinese page for browsers."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from search_api.http.errors import ApiError, error_response
from search_api.pages.views import back_url

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
CONSOLE_MESSAGES = {
    "not_found": "地址可能抄错了，或者它已经被删除。",
    "method_not_allowed": "这个网址不支持这样访问，请从页面上的按钮操作。",
    "state_unavailable": "这个服务没有连上状态数据库（来源、采集记录和密钥都存在那里），请检查配置后重启。",
    "internal_error": "服务出了点问题，已经记录在日志里。请过几分钟再试，仍然不行请查看服务日志。",
}
"""What an admin or operator page says when it cannot be shown; the learner's words speak of courses."""
_CONSOLES = (("/admin", "admin_error.html"), ("/operator", "operator_error.html"))


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
    request = Request(scope)
    name, context = _page_for(request, error)
    response: Response = templates.TemplateResponse(request, name, context, status_code=error.status, headers=headers)
    return response


def _page_for(request: Request, error: ApiError) -> tuple[str, dict[str, Any]]:
    """The error page of the part of the site the address belongs to: the admin or operator console in its own
    frame with the way back to it, else the learner's page with the way back to the search (its words kept)."""
    path = request.url.path
    for prefix, template in _CONSOLES:
        if path == prefix or path.startswith(prefix + "/"):
            message = CONSOLE_MESSAGES.get(error.code, CONSOLE_MESSAGES["internal_error"])
            if error.code == "cross_site":
                message = PAGE_MESSAGES["cross_site"]
            return template, {"status": error.status, "message": message, "session": None,
                              "notice": {"done": None, "error": None}}  # fmt: skip
    message = PAGE_MESSAGES.get(error.code, PAGE_MESSAGES["internal_error"])
    return "error.html", {"status": error.status, "message": message,
                          "back": back_url(request.query_params.multi_items())}  # fmt: skip
