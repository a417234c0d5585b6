"""The accounting API over httpx: OAuth2 client credentials, Xero's headers, retries, errors.

A token is fetched with the client credentials (HTTP Basic on ``token_url``) and kept until
shortly before ``expires_in`` runs out; a 401 throws it away and the call is tried once more
with a fresh one — inside the request, by ``connectors.auth.ClientCredentials``. Statuses are
sorted by ``connectors.http``: transport failures, 5xx and 429 are retried by
``connectors.retry`` (which waits what ``Retry-After`` says) and end as ``TransientError``. A 400 ``ValidationException``
is the server refusing one record's data: ``RecordError`` with the server's messages.

Only idempotent calls are retried here (:meth:`XeroClient.request`). A create is not: the
connector retries its whole look-up-then-create step instead (:meth:`XeroClient.attempt` +
:meth:`XeroClient.retrying`), so a create whose answer was lost is found, not repeated.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

import httpx

from connectors.auth import ClientCredentials
from connectors.errors import AuthError, ConnectorError, RecordError
from connectors.http import raise_for_status, transport_failure
from connectors.retry import call_with_retries

T = TypeVar("T")
API_PATH = "/api.xro/2.0/"


class NotFound(ConnectorError):
    pass


def validation_messages(body: Any) -> list[str]:
    """``Elements[].ValidationErrors[].Message`` of a ValidationException, else its ``Message``."""
    if not isinstance(body, Mapping):
        return [str(body)[:300]]
    messages = [
        str(error.get("Message"))
        for element in body.get("Elements") or []
        if isinstance(element, Mapping)
        for error in element.get("ValidationErrors") or []
        if isinstance(error, Mapping)
    ]
    return messages or [str(body.get("Message") or body.get("Detail") or body)[:300]]


class XeroClient:
    def __init__(
        self,
        base_url: str,
        token_url: str,
        *,
        client_id: str,
        client_secret: str,
        access_token: str | None = None,
        tenant_id: str | None = None,
        scope: str | None = None,
        timeout: float = 30.0,
        retries: int = 3,
    ):
        self.api = base_url.rstrip("/") + API_PATH
        self.token_url = token_url
        self._tenant = tenant_id
        self._attempts = retries + 1
        self.auth = ClientCredentials(
            token_url,
            client_id,
            client_secret,
            scope=scope,
            access_token=access_token,
            what="accounting: the token endpoint",
        )
        self._http = httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)), auth=self.auth)

    @property
    def tokens_fetched(self) -> int:
        """How many access tokens this client obtained (a test checks renewals by it)."""
        return self.auth.logins

    def close(self) -> None:
        self._http.close()

    # --- one exchange ---------------------------------------------------------------------------
    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        since: str | None = None,
    ) -> Any:
        headers = {"Accept": "application/json"}
        if self._tenant:
            headers["Xero-tenant-id"] = self._tenant
        if since:
            headers["If-Modified-Since"] = since
        what = f"{method} {path}"
        request = self._http.build_request(
            method,
            self.api + path,
            params=params,
            headers=headers,
            content=None if body is None else json.dumps(body, default=_encode),
        )
        try:
            response = self._http.send(request)  # the token: ClientCredentials, renewed once on a 401
        except httpx.TransportError as exc:
            raise transport_failure(exc, what) from exc
        status = response.status_code
        if status == 401:
            refused = (
                "the access_token was refused (expired?)"
                if not self.auth.can_log_in_again
                else "refused even with a fresh token"
            )
            raise AuthError(f"accounting: {what}: {refused}")
        if status == 403:
            raise AuthError(
                f"accounting: {what} forbidden for tenant {self._tenant!r}: "
                f"{'; '.join(validation_messages(_body(response)))}"
            )
        if status == 404:
            raise NotFound(f"accounting: {what}: not found")
        if status == 400:
            messages = "; ".join(validation_messages(_body(response)))
            if method == "GET":  # our query was wrong, not a record
                raise ConnectorError(f"accounting: {what} refused: {messages}")
            raise RecordError(f"accounting refused {what}: {messages}")
        raise_for_status(response, f"accounting: {what}")  # 429/5xx: retryable; other 4xx: the record's
        if status != 200:
            raise ConnectorError(f"accounting: {what}: unexpected HTTP {status}")
        return _body(response)

    # --- what the connector uses ------------------------------------------------------------------
    def attempt(self, method: str, path: str, **kwargs: Any) -> Any:
        """One exchange (with the token renewed once on 401), no retries: for non-idempotent
        steps the caller wraps in :meth:`retrying` as a whole."""
        return self._send(method, path, **kwargs)

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
