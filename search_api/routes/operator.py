"""The operator pages at /operator: sign in with the key, list and register sources, dry-run, switch on, history.

No JavaScript: the key is entered once and kept in an HttpOnly, SameSite=Strict cookie scoped to /operator;
every POST form carries a CSRF token derived from the key. An operator sees only their platform's sources.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from crawlers.state import StateStore
from search_api.http.auth import ADMIN, OPERATOR, Principal, state_store
from search_api.http.errors import ApiError
from search_api.http.ratelimit import DRY_RUN, REGISTER
from search_api.pages.admin_format import AdminFormat
from search_api.pages.key_cookies import KeyCookie, PageSession, form_reader
from search_api.pages.labels import field_label, rejection_reason_zh
from search_api.pages.operator_forms import KIND_LABELS, FormProblems, SourceForm
from search_api.routes.sources import rate_limits, record_builder
from search_api.services import admin_actions
from search_api.services import source_actions as actions
from search_api.services.dry_run import display_rows, summarize
from search_api.services.field_docs import MODELS, field_docs
from search_api.services.source_checks import LocalizedProblem
from search_api.services.source_templates import TEMPLATES

router = APIRouter(prefix="/operator", include_in_schema=False)

COOKIE = KeyCookie("edufed_operator", "/operator", frozenset({ADMIN, OPERATOR}), b"edufed-operator-form")
DONE = {"created": "已登记。请先试采集，确认无误后再启用。", "enabled": "已启用，将按计划定时采集。",
        "disabled": "已停用，不再定时采集。", "deleted": "已删除这个来源，它的课程已从目录中撤下。",
        "saved": "已保存修改。",
        "deletion_held": "已申请删除：这个来源已停用，管理员批准后它的课程从目录中撤下。"}  # fmt: skip
ERRORS = {"csrf": "表单已过期，请重新操作一次。", "forbidden": "这个密钥不能管理这个来源。",
          "not_found": "没有找到这个来源。", "run_in_progress": "这个来源正在采集，请等采集结束后再试。",
          "rate_limited": "操作太频繁了，请过一会儿再试。", "validation_error": "填写的内容有误。",
          "failed": "操作没有成功，请稍后再试。", "deletion_pending": "删除申请正在等待管理员审批。",
          "source_deleted": "这个来源已经删除。",
          "defined_in_config": "这个来源写在配置文件（sources.yaml）里，请管理员在配置文件中删除它。"}  # fmt: skip


def _session(request: Request, store: StateStore) -> PageSession | None:
    return COOKIE.session(request, store)


Store = Annotated[StateStore, Depends(state_store)]
Form = Annotated[dict[str, str], Depends(form_reader(max_bytes=64 * 1024, max_fields=40))]


def _page(request: Request, name: str, context: dict[str, Any], *, status: int = 200) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    notice = {"done": DONE.get(request.query_params.get("done", "")),
              "error": ERRORS.get(request.query_params.get("error", ""))}  # fmt: skip
    full = {"fmt": AdminFormat(), "notice": notice, "kinds": KIND_LABELS, "session": None, "label": field_label,
            "reason_zh": rejection_reason_zh, "templates": TEMPLATES, "summarize": summarize,
            "display_rows": display_rows, "platform_label": _platform_label(request, context.get("session")),
            "same_url": [],
            **context}  # fmt: skip
    response: HTMLResponse = templates.TemplateResponse(request, name, full, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _platform_label(request: Request, session: PageSession | None) -> str:
    """How the header names the signed-in operator's platform: its name (the id only when it has no source)."""
    store: StateStore | None = getattr(request.app.state, "store", None)
    if session is None or store is None or not session.principal.platform:
        return ""
    return _platform_name(store, session) or session.principal.platform


def _same_url(store: StateStore, session: PageSession, config: Any) -> list[dict[str, Any]]:
    """Other sources already harvesting this config's feed: the sources API's check (source_actions)."""
    return actions.same_url_warnings(store, session.principal, config)


def _redirect(target: str, *, done: str | None = None, error: str | None = None) -> RedirectResponse:
    mark = f"done={quote(done)}" if done else f"error={quote(error or 'failed')}"
    return RedirectResponse(f"{target}?{mark}", status_code=303)


def _checked(request: Request, store: StateStore, form: dict[str, str]) -> PageSession | Response:
    """The session of a POST whose CSRF token matches; else the answer to give instead."""
    session = _session(request, store)
    if session is None:
        return RedirectResponse("/operator", status_code=303)
    if not hmac.compare_digest(form.get("csrf", ""), session.csrf):
        return _redirect("/operator", error="csrf")
    return session


@router.get("", response_class=HTMLResponse)
def home(request: Request, store: Store) -> Response:
    """The caller's sources with status and freshness, or the sign-in form."""
    session = _session(request, store)
    if session is None:
        return _page(request, "operator_login.html", {"login_error": None})
    return _page(request, "operator.html", {"session": session, "rows": _rows(request, store, session.principal)})


def _rows(request: Request, store: StateStore, principal: Principal) -> list[admin_actions.SourceRow]:
    visible = {s.id for s in actions.visible_sources(store, principal)}
    rows = admin_actions.source_rows(store, scheduler=getattr(request.app.state, "scheduler", None),
                                     settings=request.app.state.settings.scheduler)  # fmt: skip
    return [row for row in rows if row.source.id in visible]


@router.post("/login", response_model=None)
def login(request: Request, store: Store, form: Form) -> Response:
    """Check the key once and keep it in the cookie."""
    key = form.get("key", "").strip()
    if COOKIE.verify(store, key) is None:
        return _page(request, "operator_login.html", {"login_error": "这个密钥不对，或者已经作废。"}, status=401)
    response = RedirectResponse("/operator", status_code=303)
    COOKIE.sign_in(request, response, key)
    return response


@router.post("/logout", response_model=None)
def logout(request: Request, store: Store, form: Form) -> Response:
    """Forget the key."""
    checked = _checked(request, store, form)
    if isinstance(checked, Response):
        return checked
    response = RedirectResponse("/operator", status_code=303)
    COOKIE.sign_out(response)
    return response


@router.get("/new", response_class=HTMLResponse)
def new_form(request: Request, store: Store) -> Response:
    """The empty registration form."""
    session = _session(request, store)
    if session is None:
        return RedirectResponse("/operator", status_code=303)
    form = SourceForm(platform=session.principal.platform or "", platform_name=_platform_name(store, session))
    template = TEMPLATES.get(request.query_params.get("kind", ""))
    if template is not None:
        form.kind, form.url, form.mapping = template.kind, template.url, template.mapping
    return _page(request, "operator_form.html", {"session": session, "form": form, "problems": [], "preview": None,
                                                 "action": "/operator/new", "editing": False})  # fmt: skip


@router.get("/fields", response_class=HTMLResponse)
def fields_page(request: Request, store: Store) -> Response:
    """The field documentation of every kind, from the config models' descriptions (no key needed to read it)."""
    docs = {kind: field_docs(kind) for kind in MODELS}
    return _page(request, "operator_fields.html", {"session": _session(request, store), "docs": docs})


def _platform_name(store: StateStore, session: PageSession) -> str:
    own = actions.visible_sources(store, session.principal) if session.principal.platform else []
    return own[0].config.platform_name if own else ""


@router.post("/new", response_model=None)
def register(request: Request, store: Store, form: Form) -> Response:
    """Preview the form's config (button 试采集) or register it (button 登记)."""
    checked = _checked(request, store, form)
    if isinstance(checked, Response):
        return checked
    source_form = SourceForm.from_fields(form, platform=checked.principal.platform)

    def save(data: dict[str, Any]) -> Response:
        rate_limits(request).check(REGISTER, checked.principal.key_id)
        source = actions.create_source(store, checked.principal, data, settings=request.app.state.settings)
        return _redirect(f"/operator/sources/{source.id}", done="created")

    return _submit(request, checked, source_form, form.get("action", "preview"), save, target="/operator/new")


def _submit(request: Request, session: PageSession, source_form: SourceForm, action: str,
            save: Callable[[dict[str, Any]], Response], *, target: str) -> Response:  # fmt: skip
    """Preview or save a posted source form; the form again with the problems when it is wrong."""
    context: dict[str, Any] = {"session": session, "form": source_form, "problems": [], "preview": None,
                               "action": target, "editing": target != "/operator/new"}  # fmt: skip
    try:
        data = source_form.to_data()
        if action == "save":
            return save(data)
        rate_limits(request).check(DRY_RUN, session.principal.key_id)
        config = actions.config_for(session.principal, data)
        context["same_url"] = _same_url(request.app.state.store, session, config)
        context["preview"] = actions.preview(config, settings=request.app.state.settings,
                                             builder=record_builder(request)).to_dict()  # fmt: skip
    except FormProblems as exc:
        return _page(request, "operator_form.html", {**context, "problems": exc.problems}, status=422)
    except ApiError as exc:
        problems = exc.details or [LocalizedProblem("request", exc.message, ERRORS.get(exc.code, ERRORS["failed"]))]
        return _page(request, "operator_form.html", {**context, "problems": problems}, status=exc.status)
    return _page(request, "operator_form.html", context)


@router.get("/sources/{source_id}", response_class=HTMLResponse)
def source_page(request: Request, source_id: str, store: Store) -> Response:
    """One source: status, switches, edit form, run history and rejected records."""
    session = _session(request, store)
    if session is None:
        return RedirectResponse("/operator", status_code=303)
    try:
        return _source_page(request, store, session, source_id[:64], preview=None)
    except ApiError as exc:
        return _page(request, "operator_error.html", {"session": session, "message": ERRORS.get(
            exc.code, ERRORS["failed"])}, status=exc.status)  # fmt: skip


def _source_page(request: Request, store: StateStore, session: PageSession, source_id: str, *,
                 preview: dict[str, Any] | None) -> HTMLResponse:  # fmt: skip
    source = actions.owned_source(store, session.principal, source_id)
    row = next(r for r in _rows(request, store, session.principal) if r.source.id == source.id)
    context = {"session": session, "row": row, "form": SourceForm.from_config(source.config), "problems": [],
               "runs": store.runs.find(source_id=source.id, limit=30), "preview": preview,
               "rejected": store.quarantine.page(source_id=source.id, limit=50),
               "action": f"/operator/sources/{source.id}/edit", "editing": True,
               "same_url": _same_url(store, session, source.config)}  # fmt: skip
    return _page(request, "operator_source.html", context)


@router.post("/sources/{source_id}/dry-run", response_model=None)
def dry_run_button(request: Request, source_id: str, store: Store, form: Form) -> Response:
    """Preview the saved source; the source page with the preview table."""
    checked = _checked(request, store, form)
    if isinstance(checked, Response):
        return checked
    back = f"/operator/sources/{source_id[:64]}"
    try:
        source = actions.owned_source(store, checked.principal, source_id[:64])
        rate_limits(request).check(DRY_RUN, checked.principal.key_id)
        report = actions.preview(source.config, settings=request.app.state.settings, builder=record_builder(request))
        return _source_page(request, store, checked, source.id, preview=report.to_dict())
    except ApiError as exc:
        return _redirect(back, error=exc.code)


@router.post("/sources/{source_id}/edit", response_model=None)
def edit(request: Request, source_id: str, store: Store, form: Form) -> Response:
    """Preview or save the edited config of a source."""
    checked = _checked(request, store, form)
    if isinstance(checked, Response):
        return checked
    try:
        current = actions.owned_source(store, checked.principal, source_id[:64])
    except ApiError as exc:
        return _redirect("/operator", error=exc.code)
    source_form = SourceForm.from_fields({**form, "id": current.id}, platform=current.platform)
    source_form.enabled = current.enabled

    def save(data: dict[str, Any]) -> Response:
        rate_limits(request).check(REGISTER, checked.principal.key_id)
        actions.update_source(store, checked.principal, current.id, data, settings=request.app.state.settings,
                              replace=True)  # fmt: skip
        return _redirect(f"/operator/sources/{current.id}", done="saved")

    return _submit(request, checked, source_form, form.get("action", "preview"), save,
                   target=f"/operator/sources/{current.id}/edit")  # fmt: skip


@router.post("/sources/{source_id}/{switch}", response_model=None)
def switch_button(request: Request, source_id: str, switch: str, store: Store, form: Form) -> Response:
    """The enable, disable and delete buttons."""
    checked = _checked(request, store, form)
    if isinstance(checked, Response):
        return checked
    source_id = source_id[:64]
    back = f"/operator/sources/{source_id}"
    settings = request.app.state.settings
    try:
        if switch in ("enable", "disable"):
            actions.update_source(store, checked.principal, source_id, {"enabled": switch == "enable"},
                                  settings=settings)  # fmt: skip
        elif switch == "delete":
            actions.ensure_deletable(settings, source_id, request.app.state.file_source_ids)
            deletion = actions.delete_source(store, request.app.state.catalogue.backend, checked.principal, source_id)
            back, switch = "/operator", "delete" if deletion.hold is None else "deletion_held"
        else:
            return _redirect(back, error="not_found")
    except ApiError as exc:
        return _redirect(back, error=exc.code)
    scheduler = getattr(request.app.state, "scheduler", None)
    if scheduler is not None:
        scheduler.sync()
    done = {"enable": "enabled", "disable": "disabled", "delete": "deleted"}.get(switch, switch)
    return _redirect(back, done=done)
