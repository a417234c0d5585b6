"""``httpx.Auth`` flows for connectors: a session log-in, OAuth2 client credentials, a refresh token.

Each flow logs in (or fetches a token) before the first request, adds its credential to every
request and, when the system answers 401 (an expired session, a revoked token), logs in again
**once** inside ``auth_flow`` and sends the same request again. A second 401 is handed back to
the caller, whose status classifier (``connectors.http``) makes it an :class:`AuthError`: never
a loop, and nothing is retried that the system never did (a 401 means it did nothing).

The flows do no I/O of their own (httpx sends what they yield), so they work with any
``httpx.Client``; a login or token answer that fails is raised from inside the flow: 429/5xx or
a transport failure as :class:`~connectors.retry.Retryable` (the caller's retry policy repeats
the whole call), anything else as :class:`AuthError`.

How to use one::

    class MyLogin(SessionAuth):
        def login_request(self) -> httpx.Request: ...      # POST /login with the password
        def read_login(self, response) -> None: ...         # keep the session from the answer
        def apply(self, request) -> None: ...               # put it on a request

    client = httpx.Client(auth=MyLogin())
"""

from __future__ import annotations

import abc
import base64
import json
import threading
import time
from collections.abc import Generator
from typing import Any

import httpx

from connectors.errors import AuthError
from connectors.retry import Retryable, parse_retry_after


class SessionAuth(httpx.Auth, abc.ABC):
    """A log-in that yields a session (a cookie, a token) kept until the system refuses it.

    Subclasses say how to log in (:meth:`login_request`), what to keep from the answer
    (:meth:`read_login`, raising :class:`AuthError` when the system refused) and how a request
    carries it (:meth:`apply`). ``logins`` counts the log-ins, so a test (or a log line) can
    tell a fresh log-in from a kept session."""

    requires_response_body = True  # the log-in's answer is read by ``read_login``

    def __init__(self) -> None:
        self.logins = 0
        # one log-in at a time: threads sharing a client (a delivery lane's workers) that all
        # meet the expired session log in once and go on with the session the first one got
        self._lock = threading.Lock()

    @abc.abstractmethod
    def login_request(self) -> httpx.Request:
        """The request that logs in."""

    @abc.abstractmethod
    def read_login(self, response: httpx.Response) -> None:
        """Keep the session from the log-in's answer; :class:`AuthError` if it was refused."""

    @abc.abstractmethod
    def apply(self, request: httpx.Request) -> None:
        """Put the session on ``request``."""

    @property
    @abc.abstractmethod
    def logged_in(self) -> bool:
        """Whether a session is held (it may still have expired on the system's side)."""

    @abc.abstractmethod
    def forget(self) -> None:
        """Drop the session (the system refused it)."""

    @property
    def can_log_in_again(self) -> bool:
        """False for a fixed credential (an access token given as a secret): a 401 is final."""
        return True

    def _log_in(self) -> Generator[httpx.Request, httpx.Response, None]:
        request = self.login_request()
        response = yield request
        status = response.status_code
        if status == 429 or status >= 500:
            raise Retryable(
                f"log-in at {request.url.copy_with(query=None)}: HTTP {status}",
                parse_retry_after(response.headers.get("Retry-After")),
            )
        self.read_login(response)
        self.logins += 1

    def _renew(self, seen: int | None) -> Generator[httpx.Request, httpx.Response, None]:
        """Log in unless another thread did since ``seen`` (the log-in count when this request
        was sent; None: log in if no session is held)."""
        with self._lock:  # held across the log-in's exchange; released when it ends or fails
            if self.logged_in and (seen is None or self.logins != seen):
                return  # someone else's fresh session: use it
            self.forget()
            yield from self._log_in()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if not self.logged_in:
            yield from self._renew(None)
        seen = self.logins
        self.apply(request)
        response = yield request
        if response.status_code == 401 and self.can_log_in_again:
            # the session expired (or was revoked): the system did nothing; log in again, once
            yield from self._renew(seen)
            self.apply(request)
            yield request  # a second 401 goes back to the caller: an AuthError, not a loop


def basic(user: str, password: str) -> str:
    """An HTTP Basic ``Authorization`` value (RFC 7617, UTF-8)."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def json_body(response: httpx.Response) -> Any:
    """An answer's JSON, or None when it is not JSON."""
    try:
        return json.loads(response.content)
    except ValueError:
        return None


class OAuth2Token(SessionAuth):
    """A bearer token from an OAuth2 token endpoint, renewed shortly before ``expires_in`` runs
    out and once on a 401. Subclasses give the grant's form (:meth:`grant`).

    ``access_token`` alone (no way to get another) is used as it is: a 401 is then final."""

    def __init__(
        self,
        token_url: str,
        client_id: str = "",
        client_secret: str = "",
        *,
        scope: str | None = None,
        access_token: str | None = None,
        what: str = "the token endpoint",
    ):
        super().__init__()
        self.token_url, self.scope, self.what = token_url, scope, what
        self._credentials = (client_id, client_secret)
        self._fixed = bool(access_token) and not self.can_grant
        self.token: str | None = access_token or None
        self._expires = float("inf") if access_token else 0.0

    @property
    def can_grant(self) -> bool:
        return all(self._credentials)

    @abc.abstractmethod
    def grant(self) -> dict[str, str]:
        """The token request's form (``grant_type`` and its fields)."""

    @property
    def can_log_in_again(self) -> bool:
        return not self._fixed

    @property
    def logged_in(self) -> bool:
        return self.token is not None and time.monotonic() < self._expires

    def forget(self) -> None:
        self.token = None

    def login_request(self) -> httpx.Request:
        if not self.can_grant:
            raise AuthError(
                f"{self.what}: no usable token; set the secrets client_id and client_secret (or a fresh access_token)"
            )
        form = {**self.grant(), **({"scope": self.scope} if self.scope else {})}
        return httpx.Request(
            "POST",
            self.token_url,
            data=form,
            headers={"Accept": "application/json", "Authorization": basic(*self._credentials)},
        )

    def read_login(self, response: httpx.Response) -> None:
        body = json_body(response)
        if response.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
            reason = body.get("error") if isinstance(body, dict) else None
            grant = self.grant()["grant_type"].replace("_", " ")
            raise AuthError(
                f"{self.what} refused the {grant} grant (HTTP {response.status_code}, {reason or 'no reason given'})"
            )
        lifetime = float(body.get("expires_in") or 1800)
        self.token = str(body["access_token"])
        # renew a little early, so a token never expires between our check and the server's
        self._expires = time.monotonic() + lifetime - min(60.0, lifetime / 10)
        self.took(body)

    def took(self, body: dict[str, Any]) -> None:
        """Hook: what else the token answer carries (a rotated refresh token)."""

    def apply(self, request: httpx.Request) -> None:
        request.headers["Authorization"] = f"Bearer {self.token}"


class ClientCredentials(OAuth2Token):
    """OAuth2 client credentials (RFC 6749 §4.4): the client's id and secret buy a token."""

    def grant(self) -> dict[str, str]:
        return {"grant_type": "client_credentials"}


class RefreshToken(OAuth2Token):
    """OAuth2 refresh (RFC 6749 §6): a refresh token buys an access token. A server that rotates
    refresh tokens sends a new one with each answer; it replaces the old one here, and
    ``on_rotate`` (if given) is told, so the caller can store it — the old one no longer works."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        *,
        on_rotate: Any = None,
        **kwargs: Any,
    ):
        self.refresh_token = refresh_token
        self.on_rotate = on_rotate
        super().__init__(token_url, client_id, client_secret, **kwargs)

    @property
    def can_grant(self) -> bool:
        return bool(self.refresh_token) and bool(self._credentials[0])

    def grant(self) -> dict[str, str]:
        return {"grant_type": "refresh_token", "refresh_token": self.refresh_token}

    def took(self, body: dict[str, Any]) -> None:
        rotated = body.get("refresh_token")
        if rotated and rotated != self.refresh_token:
            self.refresh_token = str(rotated)
            if self.on_rotate is not None:
                self.on_rotate(self.refresh_token)
