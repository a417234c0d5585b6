"""Tryton's JSON-RPC over httpx: sessions, its value encoding, retries.

POST ``/<db>/rpc/`` with ``{"id", "method", "params"}``; every model call ends with the user's
context (``model.res.user.get_preferences``: company, language). Decimals, dates and datetimes
travel as ``{"__class__": ...}`` objects. An expired session answers HTTP 401: we log in again
once. Transport failures, 5xx and 429 answers are retried (``connectors.retry``: backoff, or
the server's Retry-After) and then raised as ``TransientError``, so the sync engine fails the
run and keeps its cursor.

A call that is not safe to repeat (``create``, a write that adds one2many lines) is sent with
``once=True``: it is re-sent only when the request surely never reached Tryton (no
connection); a timeout or a 5xx after sending raises ``TransientError`` at once, because
Tryton may have committed it. The writer's search-before-create then finds the record on the
next delivery instead of creating a second one.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import httpx

from connectors.errors import AuthError, RecordError, TransientError
from connectors.retry import Retryable, call_with_retries, parse_retry_after

_TRYTON_EXCEPTIONS = {"UserError", "UserWarning", "LoginException", "ConcurrencyException"}


class TrytonError(RecordError):
    """An ``{"error": [kind, payload]}`` answer: the server refused this call's data."""

    def __init__(self, method: str, error: Any):
        kind = error[0] if isinstance(error, (list, tuple)) and error and error[0] in _TRYTON_EXCEPTIONS else "ServerError"
        payload = error[1] if kind != "ServerError" and len(error) > 1 else error
        if isinstance(payload, (list, tuple)):
            text = " - ".join(str(p) for p in payload if isinstance(p, str) and p)
        else:
            text = str(payload)
        super().__init__(f"Tryton {method}: {kind}: {text}")
        self.kind = kind
        self.payload = payload


def encode(obj: Any) -> Any:
    """Python values → Tryton's JSON-RPC objects (``json.dumps(default=...)``)."""
    if isinstance(obj, Decimal):
        return {"__class__": "Decimal", "decimal": str(obj)}
    if isinstance(obj, dt.datetime):
        return {"__class__": "datetime", "year": obj.year, "month": obj.month, "day": obj.day,
                "hour": obj.hour, "minute": obj.minute, "second": obj.second,
                "microsecond": obj.microsecond}
    if isinstance(obj, dt.date):
        return {"__class__": "date", "year": obj.year, "month": obj.month, "day": obj.day}
    if isinstance(obj, dt.time):
        return {"__class__": "time", "hour": obj.hour, "minute": obj.minute,
                "second": obj.second, "microsecond": obj.microsecond}
    if isinstance(obj, dt.timedelta):
        return {"__class__": "timedelta", "seconds": obj.total_seconds()}
    if isinstance(obj, (bytes, bytearray)):
        return {"__class__": "bytes", "base64": base64.b64encode(obj).decode()}
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    raise TypeError(f"cannot encode {type(obj).__name__} for Tryton")


def decode(dct: dict[str, Any]) -> Any:
    """Tryton's JSON-RPC objects → Python values (``json.loads(object_hook=...)``)."""
    kind = dct.get("__class__")
    if kind == "Decimal":
        return Decimal(dct["decimal"])
    if kind == "date":
        return dt.date(dct["year"], dct["month"], dct["day"])
    if kind == "datetime":
        return dt.datetime(dct["year"], dct["month"], dct["day"], dct["hour"], dct["minute"],
                           dct["second"], dct["microsecond"])
    if kind == "time":
        return dt.time(dct["hour"], dct["minute"], dct["second"], dct["microsecond"])
    if kind == "timedelta":
        return dt.timedelta(seconds=dct["seconds"])
    if kind == "bytes":
        return base64.b64decode(dct["base64"])
    return dct


class _Unauthorized(Exception):
    pass


class TrytonRPC:
    def __init__(self, url: str, database: str, login: str, password: str, *,
                 timeout: float = 60.0, attempts: int = 4):
        self.rpc_url = f"{url.rstrip('/')}/{database}/rpc/"
        self.login_name, self.password = login, password
        self.user_id: int | None = None
        self.session: str | None = None
        self.context: dict[str, Any] = {}
        self._ids = 0
        self._http = httpx.Client(timeout=timeout)
        self._attempts = attempts

    def close(self) -> None:
        self._http.close()

    def _post_once(self, method: str, params: Sequence[Any], auth: bool, once: bool = False) -> Any:
        self._ids += 1
        body = json.dumps({"id": self._ids, "method": method, "params": list(params)},
                          default=encode, separators=(",", ":"))
        headers = {"Content-Type": "application/json"}
        if auth and self.session is not None:
            token = f"{self.login_name}:{self.user_id}:{self.session}".encode()
            headers["Authorization"] = "Session " + base64.b64encode(token).decode()
        try:
            response = self._http.post(self.rpc_url, content=body, headers=headers)
        except httpx.TransportError as exc:
            unsent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
            if once and not unsent:
                raise TransientError(
                    f"Tryton unreachable: {method}: {type(exc).__name__}: {exc} "
                    "(not re-sent: Tryton may have done it; the next attempt looks first)"
                ) from exc
            raise Retryable(f"{method}: {type(exc).__name__}: {exc}") from exc
        if response.status_code == 401:
            raise _Unauthorized(method)
        if once and response.status_code >= 500:
            raise TransientError(f"Tryton unreachable: {method}: HTTP {response.status_code} (not re-sent)")
        if response.status_code >= 500 or response.status_code == 429:
            raise Retryable(
                f"{method}: HTTP {response.status_code}",
                parse_retry_after(response.headers.get("Retry-After")),
            )
        response.raise_for_status()
        data = json.loads(response.content, object_hook=decode)
        if data.get("error") is not None:
            raise TrytonError(method, data["error"])
        return data.get("result")

    def _post(self, method: str, params: Sequence[Any], auth: bool, once: bool = False) -> Any:
        return call_with_retries(
            lambda: self._post_once(method, params, auth, once),
            attempts=self._attempts, what="Tryton unreachable: ",
        )

    def login(self) -> None:
        try:
            result = self._post(
                "common.db.login", [self.login_name, {"password": self.password}, "en"], False
            )
        except (_Unauthorized, TrytonError) as exc:
            raise AuthError(f"Tryton refused the login of {self.login_name!r}: {exc}") from None
        self.user_id, self.session = result[0], result[1]
        self.context = self._post("model.res.user.get_preferences", [True, {}], True)

    def call(self, method: str, *params: Any, once: bool = False) -> Any:
        """``once``: the call is not safe to repeat (see the module's docstring)."""
        if self.session is None:
            self.login()
        try:
            return self._post(method, [*params, self.context], True, once)
        except _Unauthorized:  # the session expired (nothing was done): log in again, once
            self.login()
            try:
                return self._post(method, [*params, self.context], True, once)
            except _Unauthorized:
                raise AuthError(f"Tryton keeps refusing {method} after a fresh login") from None

    def search(self, model: str, domain: Sequence[Any], limit: int | None = None,
               order: Sequence[Sequence[str]] | None = None) -> list[int]:
        return self.call(f"model.{model}.search", list(domain), 0, limit, order)  # type: ignore[no-any-return]

    def read(self, model: str, ids: Iterable[int], fields: Sequence[str]) -> list[dict[str, Any]]:
        ids = list(ids)
        if not ids:
            return []
        rows = {r["id"]: r for r in self.call(f"model.{model}.read", ids, list(fields))}
        return [rows[i] for i in ids if i in rows]

    def create(self, model: str, values: Sequence[Mapping[str, Any]]) -> list[int]:
        return self.call(f"model.{model}.create", [dict(v) for v in values], once=True)  # type: ignore[no-any-return]

    def write(self, model: str, ids: Iterable[int], values: Mapping[str, Any], *, once: bool = False) -> None:
        self.call(f"model.{model}.write", list(ids), dict(values), once=once)

    def button(self, model: str, name: str, ids: Iterable[int]) -> None:
        """A workflow button (``quote``, ``confirm``…): safe to repeat, a record already in the
        target state is left alone by Tryton's transition."""
        self.call(f"model.{model}.{name}", list(ids))

    def on_change(self, model: str, field: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """What Tryton's own client gets when ``field`` changes on a new record (defaults that
        depend on it: a party's addresses and payment term, a product's unit and taxes), minus
        the ``"field."`` display names."""
        changes = self.call(f"model.{model}.on_change_{field}", dict(values))
        return {k: v for k, v in changes.items() if not k.endswith(".")}
