"""The admin pages at /admin: sources with traffic lights, run history, run details, a record's cluster, and the
buttons to act.

No JavaScript: the admin key is entered once in a form and kept in an HttpOnly, SameSite=Strict cookie;
every button is a POST form carrying a CSRF token derived from that key, answered by a 303 back to the page.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from crawlers import HarvestScheduler
from crawlers.state import RUN_STATUSES as STATUSES
from crawlers.state import StateStore, utcnow
from indexer.analysis_version import AnalysisState, index_analysis
from indexer.errors import IndexBackendError
from indexer.linkage.version import LinkageState, index_linkage
from indexer.themes_version import ThemesState, index_themes, themes_version
from search_api.http.auth import ADMIN, state_store
from search_api.http.errors import ApiError
from search_api.http.params import RowId
from search_api.pages.admin_format import DONE_MESSAGES, ERROR_MESSAGES, AdminFormat
from search_api.pages.key_cookies import KeyCookie, PageSession, form_reader
from search_api.routes.admin import scheduler_of
from search_api.services import admin_actions as actions
from search_api.services import admin_links as links

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/admin", include_in_schema=False)

COOKIE = KeyCookie("edufed_admin", "/admin", frozenset({ADMIN}), b"edufed-admin-form")
SORTS = ("health", "freshness", "id")
WINDOWS = {"1h": ("最近 1 小时", timedelta(hours=1)), "24h": ("最近 24 小时", timedelta(days=1)),
           "7d": ("最近 7 天", timedelta(days=7)), "all": ("全部时间", None)}  # fmt: skip
RUNS_PAGE = 100


def _session(request: Request, store: StateStore) -> PageSession | None:
    return COOKIE.session(request, store)


Store = Annotated[StateStore, Depends(state_store)]
Form = Annotated[dict[str, str], Depends(form_reader(max_bytes=4096, max_fields=20))]
Scheduler = Annotated[HarvestScheduler | None, Depends(scheduler_of)]


def _page(request: Request, name: str, context: dict[str, Any], *, status: int = 200) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    notice = {"done": DONE_MESSAGES.get(request.query_params.get("done", "")),
              "error": ERROR_MESSAGES.get(request.query_params.get("error", ""))}  # fmt: skip
    full = {"fmt": AdminFormat(), "notice": notice, **context}
    response: HTMLResponse = templates.TemplateResponse(request, name, full, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _not_found(request: Request, session: PageSession, what: str) -> HTMLResponse:
    """The admin's own 404 page (not the learner's), with the way back."""
    return _page(request, "admin_404.html", {"session": session, "what": what}, status=404)


def _login_page(request: Request, *, error: str | None = None, status: int = 200) -> HTMLResponse:
    return _page(request, "admin_login.html", {"login_error": error}, status=status)


@router.get("", response_class=HTMLResponse)
def sources_page(request: Request, store: Store, scheduler: Scheduler, sort: str = "health") -> Response:
    """The sources table, sortable by health and freshness, and the held deletions waiting for a decision."""
    session = _session(request, store)
    if session is None:
        return _login_page(request)
    rows = actions.source_rows(store, scheduler=scheduler, settings=request.app.state.settings.scheduler)
    sort = sort if sort in SORTS else "health"
    holds = store.holds.find(status="pending", limit=50)
    context = {"session": session, "rows": actions.sort_rows(rows, key=sort), "sort": sort, "holds": holds,
               "actors": actions.key_names(store), "analysis": _analysis_notice(request),
               "linkage": _linkage_notice(request), "themes": _themes_notice(request),
               "scheduler_running": scheduler is not None}  # fmt: skip
    return _page(request, "admin.html", context)


def _analysis_notice(request: Request) -> AnalysisState | None:
    """The index's text analysis when it asks for something (older, being caught up, newer), else None."""
    return _asking(index_analysis, request, "which text analysis the index holds")


def _linkage_notice(request: Request) -> LinkageState | None:
    """The index's record linkage when it asks for something (linked by older or newer rules), else None."""
    return _asking(index_linkage, request, "which record linkage linked the index")


def _themes_notice(request: Request) -> ThemesState | None:
    """The index's theme rules when they ask for something (records classified by other rules), else None."""
    ours = themes_version(request.app.state.themes)
    return _asking(lambda backend: index_themes(backend, ours=ours), request, "which theme rules classified the index")


_State = TypeVar("_State", AnalysisState, LinkageState, ThemesState)


def _asking(read: Callable[[object], _State | None], request: Request, what: str) -> _State | None:
    """What `read` says of the serving index when it is not current; None when current, unrecorded or unreadable
    (logged: a console page never fails on it)."""
    try:
        state = read(request.app.state.catalogue.backend)
    except IndexBackendError as exc:
        logger.warning("cannot read %s: %s", what, exc)
        return None
    return state if state is not None and not state.current else None


@router.post("/login", response_model=None)
def login(request: Request, store: Store, form: Form) -> Response:
    """Check the key once and keep it in the cookie."""
    key = form.get("key", "").strip()
    if COOKIE.verify(store, key) is None:
        return _login_page(request, error="这个密钥不对，或者不是管理员密钥。", status=401)
    response = RedirectResponse("/admin", status_code=303)
    COOKIE.sign_in(request, response, key)
    return response


@router.post("/logout", response_model=None)
def logout(request: Request, store: Store, form: Form) -> Response:
    """Forget the key."""
    session = _session(request, store)
    if session is not None and not hmac.compare_digest(form.get("csrf", ""), session.csrf):
        return _redirect("/admin", error="csrf")
    response = RedirectResponse("/admin", status_code=303)
    COOKIE.sign_out(response)
    return response


@router.get("/sources/{source_id}", response_class=HTMLResponse)
def source_page(request: Request, source_id: str, store: Store, scheduler: Scheduler) -> Response:
    """One source: health, buttons and its run history."""
    session = _session(request, store)
    if session is None:
        return _login_page(request)
    rows = actions.source_rows(store, scheduler=scheduler, settings=request.app.state.settings.scheduler)
    row = next((r for r in rows if r.source.id == source_id), None)
    if row is None:
        return _not_found(request, session, "这个采集来源")
    source = row.source
    runs = store.runs.find(source_id=source.id, limit=50)
    holds = store.holds.find(source_id=source.id, limit=20)
    context = {"session": session, "row": row, "runs": runs, "holds": holds, "actors": actions.key_names(store),
               "scheduler_running": scheduler is not None}  # fmt: skip
    return _page(request, "admin_source.html", context)


@router.get("/runs", response_class=HTMLResponse)
def runs_page(request: Request, store: Store, status: str = "", source: str = "", since: str = "24h") -> Response:
    """Every source's runs, newest first, filtered by status, source and time; the failures of the same filter
    are listed above, so an admin on call sees them first."""
    session = _session(request, store)
    if session is None:
        return _login_page(request)
    status = status if status in STATUSES else ""
    since = since if since in WINDOWS else "24h"
    sources = {s.id: s for s in store.sources.find()}
    source = source if source in sources else ""
    window = WINDOWS[since][1]
    start = utcnow() - window if window is not None else None
    runs = store.runs.find(source_id=source or None, status=status or None, since=start, limit=RUNS_PAGE)
    failed = [] if status else store.runs.find(source_id=source or None, status="failed", since=start, limit=20)
    context = {"session": session, "runs": runs, "failed": failed, "filters": {"status": status, "source": source,
               "since": since}, "statuses": STATUSES, "windows": WINDOWS, "sources": sources,
               "limit": RUNS_PAGE}  # fmt: skip
    return _page(request, "admin_runs.html", context)


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: str, store: Store) -> Response:
    """One run: timing, counts, HTTP figures, its error and the records it rejected."""
    session = _session(request, store)
    if session is None:
        return _login_page(request)
    try:
        run = actions.get_run(store, run_id[:64])
    except ApiError:
        return _not_found(request, session, "这次采集")
    rejected = store.quarantine.page(run_id=run.id, limit=100)
    holds = [hold for hold in store.holds.find(source_id=run.source_id, limit=50) if hold.run_id == run.id]
    context = {"session": session, "run": run, "rejected": rejected, "holds": holds, "actors": actions.key_names(store)}
    return _page(request, "admin_run.html", context)


def _redirect(back: str, *, done: str | None = None, error: str | None = None) -> RedirectResponse:
    target = back if back.startswith("/admin") and "//" not in back and "\\" not in back else "/admin"
    mark = f"done={quote(done)}" if done else f"error={quote(error or 'failed')}"
    target = target.split("?", 1)[0]
    return RedirectResponse(f"{target}?{mark}", status_code=303)


def _act(
    request: Request, store: Store, form: dict[str, str], action: Callable[[str], object], *, done: str
) -> Response:
    session = _session(request, store)
    back = form.get("next", "/admin")
    if session is None:
        return RedirectResponse("/admin", status_code=303)
    if not hmac.compare_digest(form.get("csrf", ""), session.csrf):
        return _redirect(back, error="csrf")
    try:
        action(actions.actor_of(session.principal))
    except ApiError as exc:
        return _redirect(back, error=exc.code)
    return _redirect(back, done=done)


@router.post("/sources/{source_id}/run", response_model=None)
def run_button(request: Request, source_id: str, store: Store, scheduler: Scheduler, form: Form) -> Response:
    """The run-now button."""

    def act(actor: str) -> object:
        live_ok = form.get("confirm_live") == "yes"
        return actions.start_run(store, scheduler, source_id, actor=actor, live_ok=live_ok)

    return _act(request, store, form, act, done="run")


@router.post("/sources/{source_id}/enabled", response_model=None)
def enable_button(request: Request, source_id: str, store: Store, scheduler: Scheduler, form: Form) -> Response:
    """The enable and disable buttons (form field `enabled`: yes or no)."""
    enabled = form.get("enabled") == "yes"

    def act(actor: str) -> object:
        return actions.set_enabled(store, scheduler, source_id, enabled=enabled, actor=actor)

    return _act(request, store, form, act, done="enabled" if enabled else "disabled")


@router.post("/sources/{source_id}/{switch}", response_model=None)
def pause_button(
    request: Request, source_id: str, switch: str, store: Store, scheduler: Scheduler, form: Form
) -> Response:
    """The pause and resume buttons."""
    if switch not in ("pause", "resume"):
        return _redirect(form.get("next", "/admin"), error="not_found")

    def act(actor: str) -> object:
        return actions.set_paused(store, scheduler, source_id, paused=switch == "pause", actor=actor)

    return _act(request, store, form, act, done="paused" if switch == "pause" else "resumed")


@router.post("/holds/{hold_id}/{decision}", response_model=None)
def hold_button(request: Request, hold_id: RowId, decision: str, store: Store, form: Form) -> Response:
    """The approve and reject buttons of a held deletion."""
    if decision not in ("approve", "reject"):
        return _redirect(form.get("next", "/admin"), error="not_found")
    backend = request.app.state.catalogue.backend

    def act(actor: str) -> object:
        return actions.decide_hold(store, backend, hold_id, approve=decision == "approve", actor=actor)

    return _act(request, store, form, act, done="approved" if decision == "approve" else "rejected")


@router.get("/records", response_model=None)
def find_record(request: Request, store: Store, uid: str = "") -> Response:
    """The record look-up box: to the record's page."""
    if _session(request, store) is None:
        return _login_page(request)
    return RedirectResponse(f"/admin/records/{quote(uid.strip()[:300], safe='')}", status_code=303)


@router.get("/records/{uid}", response_class=HTMLResponse)
def record_page(request: Request, uid: str, store: Store) -> Response:
    """A record's cluster: the same course on every platform, the evidence, the admins' decisions, and the
    split / join / undo buttons."""
    session = _session(request, store)
    if session is None:
        return _login_page(request)
    try:
        view = links.record_links(store, request.app.state.catalogue.backend, uid[:300])
    except ApiError:
        return _redirect("/admin", error="record_not_found")
    return _page(request, "admin_record.html", {"session": session, "view": view})


@router.post("/records/{uid}/links", response_model=None)
def link_button(request: Request, uid: str, store: Store, form: Form) -> Response:
    """The split buttons and the join form."""
    kind = form.get("kind", "")
    if kind not in ("split", "join"):
        return _redirect(form.get("next", "/admin"), error="validation_error")
    backend = request.app.state.catalogue.backend

    def act(actor: str) -> object:
        other = form.get("other", "").strip()
        return links.decide_link(store, backend, uid, other=other, kind="split" if kind == "split" else "join",
                                 actor=actor, note=form.get("note", "").strip() or None)  # fmt: skip

    return _act(request, store, form, act, done=kind)


@router.post("/records/{uid}/links/undo", response_model=None)
def undo_button(request: Request, uid: str, store: Store, form: Form) -> Response:
    """The undo button of a decision."""
    backend = request.app.state.catalogue.backend

    def act(actor: str) -> object:
        return links.undo_link(store, backend, uid, other=form.get("other", "").strip(), actor=actor)

    return _act(request, store, form, act, done="undone")


@router.get("/{path:path}", response_class=HTMLResponse)
def unknown_page(request: Request, path: str, store: Store) -> Response:
    """Any other admin address: the admin's 404 page (or the sign-in form)."""
    session = _session(request, store)
    if session is None:
        return _login_page(request, status=404)
    return _not_found(request, session, "这个页面")
