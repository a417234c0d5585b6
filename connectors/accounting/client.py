"""The accounting API over httpx: OAuth2 client credentials, Xero's headers, retries, errors.

A token is fetched with the client credentials (HTTP Basic on ``token_url``) and kept until
shortly before ``expires_in`` runs out; a 401 throws it away and the call is tried once more
with a fresh one. Transport failures, 5xx and 429 are retried by ``connectors.retry`` (which
waits what ``Retry-After`` says) and end as ``TransientError``. A 400 ``ValidationException``
is the server refusing one record's data: ``RecordError`` with the server's messages.

Only idempotent calls are retried here (:meth:`XeroClient.request`). A create is not: the
connector retries its whole look-up-then-create step instead (:meth:`XeroClient.attempt` +
:meth:`XeroClient.retrying`), so a create whose answer was lost is found, not repeated.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

import httpx

from connectors.errors import AuthError, ConnectorError, RecordError
from connectors.retry import Retryable, call_with_retries, parse_retry_after

T = TypeVar("T")
API_PATH = "/api.xro/2.0/"


class _Unauthorized(Exception):
    """The API refused the token (expired or revoked)."""


class NotFound(ConnectorError):
    pass


def validation_messages(body: Any) -> list[str]:
    """``Elements[].ValidationErrors[].Message`` of a ValidationException, else its ``Message``."""
    if not isinstance(body, Mapping):
        return [str(body)[:300]]
    messages = [
        str(error.get("Message"))
        for element in body.get("Elements") or [] if isinstance(element, Mapping)
        for error in element.get("ValidationErrors") or [] if isinstance(error, Mapping)
    ]
    return messages or [str(body.get("Message") or body.get("Detail") or body)[:300]]


class XeroClient:
    def __init__(self, base_url: str, token_url: str, *, client_id: str, client_secret: str,
                 access_token: str | None = None, tenant_id: str | None = None, scope: str | None = None,
                 timeout: float = 30.0, attempts: int = 4):
        self.api = base_url.rstrip("/") + API_PATH
        self.token_url = token_url
        self._credentials = (client_id, client_secret)
        self._fixed_token = access_token
        self._scope = scope
        self._tenant = tenant_id
        self._attempts = attempts
        self._token: str | None = access_token
        self._token_expires = float("inf") if access_token else 0.0
        self._http = httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)))
        #: How many access tokens this client obtained (a test checks renewals by it).
        self.tokens_fetched = 0

    def close(self) -> None:
        self._http.close()

    # --- tokens ---------------------------------------------------------------------------------
    def _access_token(self) -> str:
        if self._token and time.monotonic() < self._token_expires:
            return self._token
        if self._fixed_token or not all(self._credentials):
            raise AuthError("accounting: the connection has no usable token; set the secrets client_id "
                            "and client_secret (or a fresh access_token)")
        form = {"grant_type": "client_credentials", **({"scope": self._scope} if self._scope else {})}
        try:
            response = self._http.post(self.token_url, data=form, auth=self._credentials)
        except httpx.TransportError as exc:
            raise Retryable(f"token endpoint: {type(exc).__name__}: {exc}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise Retryable(f"token endpoint: HTTP {response.status_code}",
                            parse_retry_after(response.headers.get("Retry-After")))
        if response.status_code != 200:
            error = _body(response)
            reason = error.get("error") if isinstance(error, Mapping) else None
            raise AuthError(f"accounting: the token endpoint refused the client credentials "
                            f"(HTTP {response.status_code}, {reason or 'no reason given'})")
        grant = _body(response)
        lifetime = float(grant.get("expires_in") or 1800)
        self._token = str(grant["access_token"])
        # renew a little early, so a token never expires between our check and the server's
        self._token_expires = time.monotonic() + lifetime - min(60.0, lifetime / 10)
        self.tokens_fetched += 1
        return self._token

    # --- one exchange ---------------------------------------------------------------------------
    def _send(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
              body: Any = None, since: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self._access_token()}", "Accept": "application/json"}
        if self._tenant:
            headers["Xero-tenant-id"] = self._tenant
        if since:
            headers["If-Modified-Since"] = since
        what = f"{method} {path}"
        try:
            response = self._http.request(
                method, self.api + path, params=params, headers=headers,
                content=None if body is None else json.dumps(body, default=_encode),
            )
        except httpx.TransportError as exc:
            raise Retryable(f"{what}: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if status == 401:
            raise _Unauthorized(what)
        if status == 429 or status >= 500:
            raise Retryable(f"{what}: HTTP {status}", parse_retry_after(response.headers.get("Retry-After")))
        if status == 403:
            raise AuthError(f"accounting: {what} forbidden for tenant {self._tenant!r}: "
                            f"{'; '.join(validation_messages(_body(response)))}")
        if status == 404:
            raise NotFound(f"accounting: {what}: not found")
        if status == 400:
            messages = "; ".join(validation_messages(_body(response)))
            if method == "GET":  # our query was wrong, not a record
                raise ConnectorError(f"accounting: {what} refused: {messages}")
            raise RecordError(f"accounting refused {what}: {messages}")
        if status != 200:
            raise ConnectorError(f"accounting: {what}: unexpected HTTP {status}")
        return _body(response)

    def _with_fresh_token(self, step: Callable[[], T]) -> T:
        try:
            return step()
        except _Unauthorized:
            if self._fixed_token:
                raise AuthError("accounting: the access_token was refused (expired?)") from None
            self._token = None  # expired early or revoked: one fresh token, one more try
            try:
                return step()
            except _Unauthorized as exc:
                raise AuthError(f"accounting: {exc} refused even with a fresh token") from None

    # --- what the connector uses ------------------------------------------------------------------
    def attempt(self, method: str, path: str, **kwargs: Any) -> Any:
        """One exchange (with the token renewed once on 401), no retries: for non-idempotent
        steps the caller wraps in :meth:`retrying` as a whole."""
        return self._with_fresh_token(lambda: self._send(method, path, **kwargs))

    def retrying(self, step: Callable[[], T]) -> T:
        return call_with_retries(step, attempts=self._attempts, what="accounting unreachable: ")

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """An idempotent call (GET, update by id), retried on 429/5xx/transport errors."""
        return self.retrying(lambda: self.attempt(method, path, **kwargs))


def _body(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError:
        return {"Message": response.text[:300]}


def _encode(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return float(obj)  # amounts have ≤ 4 decimals: the float prints exactly as the Decimal
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    raise TypeError(f"cannot send {type(obj).__name__} to the accounting API")
