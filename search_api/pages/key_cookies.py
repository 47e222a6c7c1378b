"""Signing in to the server-rendered pages with a key: the cookie that keeps it, CSRF tokens, small forms.

The admin pages and the operator pages work the same way without JavaScript: the key is entered once in a
form and kept in an HttpOnly, SameSite=Strict cookie scoped to the pages' path; every POST form carries a
CSRF token derived from the key (and from the pages' purpose, so one set of pages' token is useless on the
other), and forms are read only when small and urlencoded.

Forms posted from another site are refused before they are read (403), the sign-in form too: a browser
names the page a form was posted from in `Origin` (or, failing that, `Referer`), and that must be this
service's own host (the request's Host, or the host of `server.public_url`). Scheme and port are compared
through the host as the browser sends it, so a TLS-terminating proxy in front changes nothing. A post
naming neither header (some privacy settings strip both) is let through: the CSRF token still decides.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from fastapi import Request, Response

from crawlers.state import StateStore
from search_api.http.auth import Principal, verified
from search_api.http.errors import CrossSiteError

MAX_KEY_CHARS = 200


@dataclass(frozen=True)
class PageSession:
    """The key holder signed in through the cookie, and the CSRF token their forms carry."""

    principal: Principal
    csrf: str


@dataclass(frozen=True)
class KeyCookie:
    """How one set of pages keeps a signed-in key: cookie name and path, the roles admitted, the CSRF purpose."""

    name: str
    path: str
    roles: frozenset[str]
    purpose: bytes
    max_age_seconds: int = 8 * 3600

    def csrf_token(self, key: str) -> str:
        """The CSRF token of a key: only someone who holds the key (or was shown a page) knows it."""
        return hmac.new(key.encode("utf-8"), self.purpose, hashlib.sha256).hexdigest()

    def verify(self, store: StateStore, key: str) -> Principal | None:
        """The key's principal when the key is live and its role may use these pages; else None."""
        principal = verified(store, key) if key and len(key) <= MAX_KEY_CHARS else None
        if principal is None or principal.role not in self.roles:
            return None
        return principal

    def session(self, request: Request, store: StateStore) -> PageSession | None:
        """The signed-in session of this request, or None (no cookie, a revoked key, a role not admitted)."""
        key = request.cookies.get(self.name, "")
        principal = self.verify(store, key)
        return None if principal is None else PageSession(principal, self.csrf_token(key))

    def sign_in(self, request: Request, response: Response, key: str) -> None:
        response.set_cookie(self.name, key, max_age=self.max_age_seconds, path=self.path, httponly=True,
                            samesite="strict", secure=request.url.scheme == "https")  # fmt: skip

    def sign_out(self, response: Response) -> None:
        response.delete_cookie(self.name, path=self.path, httponly=True, samesite="strict")


def form_reader(*, max_bytes: int, max_fields: int) -> Callable[[Request], Awaitable[dict[str, str]]]:
    """A dependency reading a small urlencoded form (first value of each field); anything else reads as empty."""

    async def form_fields(request: Request) -> dict[str, str]:
        if not from_this_site(request):
            raise CrossSiteError()
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return {}
        body = await request.body()
        if len(body) > max_bytes:
            return {}
        parsed = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=max_fields)
        return {name: values[0] for name, values in parsed.items()}

    return form_fields


def from_this_site(request: Request) -> bool:
    """Whether a form post's Origin (else its Referer) names this service's host; True when it names neither."""
    named = request.headers.get("origin") or request.headers.get("referer")
    if named is None:
        return True
    host = urlsplit(named).netloc.lower() if named != "null" else ""
    return bool(host) and host in _own_hosts(request)


def _own_hosts(request: Request) -> set[str]:
    hosts = {request.headers.get("host", "").lower()}
    public_url = request.app.state.settings.server.public_url
    if public_url:
        hosts.add(urlsplit(public_url).netloc.lower())
    return hosts - {""}
