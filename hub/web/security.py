"""What protects the pages in a browser: security headers on every answer, a refusal of
state-changing requests sent from another origin, and the sign-in form's CSRF token.

* Headers (``SecurityHeaders``, installed by ``hub.api.app.create_app``): no page may be framed
  (``X-Frame-Options: DENY`` and CSP ``frame-ancestors 'none'`` — a page on another port of the
  same host once replayed every dead letter through an invisible frame), a strict CSP (only the
  hub's own scripts, styles and images; the pages have no inline script or style — keep it so,
  put CSS in ``static/``), ``nosniff``, ``Referrer-Policy: same-origin`` and
  ``Cache-Control: no-store`` on everything but ``/static`` (pages and API answers carry
  customer data; a shared or back-button cache must not keep them). FastAPI's ``/docs`` and
  ``/redoc`` (Swagger UI/ReDoc from the hub's own assets, hub.api.docs) run an inline start
  script: they get a CSP that allows just that.
* Origin check: a POST (any unsafe method) whose ``Origin`` — or, without one, ``Referer`` —
  names another scheme-less host:port than the ``Host`` it was sent to is refused 403. Cookies
  do not isolate ports and SameSite counts another port of the host as the same site, so this
  is what stops a page served on another port. Only host and port are compared: behind a TLS
  proxy the hub may see http for https.
* CSRF tokens: each page session has its own (``PageSession.csrf_secret``), sent back in a
  hidden ``csrf`` field of every form and checked by ``hub.web.auth.page_user`` on every unsafe
  request; the sign-in form, before there is a session, uses a signed double-submit cookie
  (``login_csrf``/``login_csrf_ok``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from functools import lru_cache
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.settings import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

PAGE_CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
#: Swagger UI and ReDoc (hub.api.docs): the hub's own copies of their scripts and styles, and
#: FastAPI's inline start script; ReDoc runs a worker from a blob.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")

COMMON_HEADERS = [
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
]


def foreign_origin(headers: Headers) -> str | None:
    """The other origin an unsafe request came from, or None if it came from this hub (or
    says nothing: a script or curl, which carries no victim's cookie to abuse)."""
    claimed = headers.get("origin") or headers.get("referer")
    if claimed is None:
        return None
    if urlsplit(claimed).netloc != headers.get("host"):
        return claimed
    return None


class SecurityHeaders:
    """ASGI middleware (not ``BaseHTTPMiddleware``: no extra task per request)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        added = [*COMMON_HEADERS, ("content-security-policy", DOCS_CSP if path.startswith(DOCS_PATHS) else PAGE_CSP)]
        if not path.startswith("/static/"):
            added.append(("cache-control", "no-store"))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in added:
                    if name not in headers:
                        headers[name] = value
            await send(message)

        if scope["method"] not in SAFE_METHODS:
            other = foreign_origin(Headers(scope=scope))
            if other is not None:
                refusal = PlainTextResponse(f"a request from {other} may not act on this hub", status_code=403)
                await refusal(scope, receive, with_headers)
                return
        await self.app(scope, receive, with_headers)


def install_security(app: FastAPI) -> None:
    app.add_middleware(SecurityHeaders)


# --- the sign-in form's CSRF token: a signed double-submit cookie ------------------------------

LOGIN_COOKIE = "concord_login_csrf"
LOGIN_CSRF_MAX_AGE = 2 * 3600
#: Without ``HUB_SECRET_KEY`` each process signs with its own random key: with several uvicorn
#: workers a sign-in form shown by one and posted to another is refused ("reload the form").
_PROCESS_KEY = secrets.token_bytes(32)


@lru_cache(maxsize=4)
def _login_key(secret_key: str | None) -> bytes:
    if not secret_key:
        return _PROCESS_KEY
    return hmac.new(secret_key.encode(), b"concord page login csrf", hashlib.sha256).digest()


def _sign(settings: Settings, payload: str) -> str:
    return hmac.new(_login_key(settings.secret_key), payload.encode(), hashlib.sha256).hexdigest()


def login_csrf(settings: Settings) -> str:
    """A fresh token for the sign-in form: put in its cookie and its hidden field alike."""
    payload = f"{secrets.token_urlsafe(16)}.{int(time.time())}"
    return f"{payload}.{_sign(settings, payload)}"


def login_csrf_ok(settings: Settings, cookie: str | None, field: str) -> bool:
    """The form's field matches its cookie, which this hub signed less than two hours ago."""
    if not cookie or not field or not hmac.compare_digest(cookie.encode(), field.encode()):
        return False
    payload, _, signature = cookie.rpartition(".")
    issued = payload.rpartition(".")[2]
    if not issued.isdigit() or not hmac.compare_digest(signature, _sign(settings, payload)):
        return False
    return time.time() - int(issued) < LOGIN_CSRF_MAX_AGE


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
