"""Tryton's JSON-RPC over httpx: sessions, its value encoding, retries.

POST ``/<db>/rpc/`` with ``{"id", "method", "params"}``; every model call ends with the user's
context (``model.res.user.get_preferences``: company, language). Decimals, dates and datetimes
travel as ``{"__class__": ...}`` objects. An expired session answers HTTP 401: the session
log-in (:class:`TrytonSession`, a ``connectors.auth.SessionAuth``) logs in again once inside
the request; a second 401 is an ``AuthError``. Statuses are sorted by ``connectors.http``:
transport failures, 5xx and 429 answers are retried (``connectors.retry``: backoff, or the
server's Retry-After) and then raised as ``TransientError``, so the sync engine fails the run
and keeps its cursor.

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

from connectors.auth import SessionAuth
from connectors.errors import AuthError, RecordError
from connectors.http import raise_for_status, transport_failure
from connectors.retry import call_with_retries

_TRYTON_EXCEPTIONS = {"UserError", "UserWarning", "LoginException", "ConcurrencyException"}


class TrytonError(RecordError):
    """An ``{"error": [kind, payload]}`` answer: the server refused this call's data."""

    def __init__(self, method: str, error: Any):
        kind = (
            error[0] if isinstance(error, (list, tuple)) and error and error[0] in _TRYTON_EXCEPTIONS else "ServerError"
        )
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
        return {
            "__class__": "datetime",
            "year": obj.year,
            "month": obj.month,
            "day": obj.day,
            "hour": obj.hour,
            "minute": obj.minute,
            "second": obj.second,
            "microsecond": obj.microsecond,
        }
    if isinstance(obj, dt.date):
        return {"__class__": "date", "year": obj.year, "month": obj.month, "day": obj.day}
    if isinstance(obj, dt.time):
        return {
            "__class__": "time",
            "hour": obj.hour,
            "minute": obj.minute,
            "second": obj.second,
            "microsecond": obj.microsecond,
        }
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
        return dt.datetime(
            dct["year"], dct["month"], dct["day"], dct["hour"], dct["minute"], dct["second"], dct["microsecond"]
        )
    if kind == "time":
        return dt.time(dct["hour"], dct["minute"], dct["second"], dct["microsecond"])
    if kind == "timedelta":
        return dt.timedelta(seconds=dct["seconds"])
    if kind == "bytes":
        return base64.b64decode(dct["base64"])
    return dct


class TrytonSession(SessionAuth):
    """Tryton's session log-in (``common.db.login`` → user id and session key, sent as
    ``Authorization: Session base64(login:user:session)``), renewed once on a 401 by
    :class:`connectors.auth.SessionAuth`: Tryton answers 401 to an expired session and to a
    method that needs a fresh one, and has then done nothing."""

    def __init__(self, rpc_url: str, login: str, password: str):
        super().__init__()
        self.rpc_url, self.login_name, self.password = rpc_url, login, password
        self.user_id: int | None = None
        self.session: str | None = None

    @property
    def logged_in(self) -> bool:
        return self.session is not None

    def forget(self) -> None:
        self.session = None

    def login_request(self) -> httpx.Request:
        body = json.dumps(
            {"id": 0, "method": "common.db.login", "params": [self.login_name, {"password": self.password}, "en"]}
        )
        return httpx.Request("POST", self.rpc_url, content=body, headers={"Content-Type": "application/json"})

    def read_login(self, response: httpx.Response) -> None:
        refused = f"Tryton refused the login of {self.login_name!r}"
        if response.status_code != 200:
            raise AuthError(f"{refused}: HTTP {response.status_code}")
        try:
            data = json.loads(response.content, object_hook=decode)
        except ValueError:
            raise AuthError(f"{refused}: the answer is not JSON-RPC") from None
        if data.get("error") is not None:
            raise AuthError(f"{refused}: {TrytonError('common.db.login', data['error'])}")
        result = data.get("result")
        if not result:
            raise AuthError(f"{refused}: wrong login or password")
        self.user_id, self.session = result[0], result[1]

    def apply(self, request: httpx.Request) -> None:
        token = f"{self.login_name}:{self.user_id}:{self.session}".encode()
        request.headers["Authorization"] = "Session " + base64.b64encode(token).decode()


class TrytonRPC:
    def __init__(self, url: str, database: str, login: str, password: str, *, timeout: float = 60.0, retries: int = 3):
        self.rpc_url = f"{url.rstrip('/')}/{database}/rpc/"
        self.login_name = login
        self.auth = TrytonSession(self.rpc_url, login, password)
        self.context: dict[str, Any] = {}
        self._ids = 0
        self._http = httpx.Client(timeout=timeout)
        self._attempts = retries + 1

    @property
    def session(self) -> str | None:
        """The session key held (None before the first call)."""
        return self.auth.session

    @property
    def user_id(self) -> int | None:
        return self.auth.user_id

    def close(self) -> None:
        self._http.close()

    def _post_once(self, method: str, params: Sequence[Any], once: bool = False) -> Any:
        self._ids += 1
        body = json.dumps(
            {"id": self._ids, "method": method, "params": list(params)}, default=encode, separators=(",", ":")
        )
        request = self._http.build_request(
            "POST", self.rpc_url, content=body, headers={"Content-Type": "application/json"}
        )
        try:  # the session rides on the request (``auth=``), so a swapped client keeps it
            response = self._http.send(request, auth=self.auth)
        except httpx.TransportError as exc:
            raise transport_failure(exc, f"Tryton {method}", once=once) from exc
        try:
            raise_for_status(response, f"Tryton {method}", once=once)
        except AuthError:
            if response.status_code != 401:
                raise
            raise AuthError(f"Tryton keeps refusing {method} after a fresh login (HTTP 401)") from None
        data = json.loads(response.content, object_hook=decode)
        if data.get("error") is not None:
            raise TrytonError(method, data["error"])
        return data.get("result")

    def _post(self, method: str, params: Sequence[Any], once: bool = False) -> Any:
        return call_with_retries(lambda: self._post_once(method, params, once), attempts=self._attempts)

    def login(self) -> None:
        """Log in now (a fresh session) and read the user's context: what ``check`` does."""
        self.auth.forget()
        self.context = self._post("model.res.user.get_preferences", [True, {}])

    def call(self, method: str, *params: Any, once: bool = False) -> Any:
        """``once``: the call is not safe to repeat (see the module's docstring). An expired
        session is renewed once inside the request (:class:`TrytonSession`)."""
        if not self.context:
            self.login()
        return self._post(method, [*params, self.context], once)

    def search(
        self, model: str, domain: Sequence[Any], limit: int | None = None, order: Sequence[Sequence[str]] | None = None
    ) -> list[int]:
        return self.call(f"model.{model}.search", list(domain), 0, limit, order)

    def read(self, model: str, ids: Iterable[int], fields: Sequence[str]) -> list[dict[str, Any]]:
        ids = list(ids)
        if not ids:
            return []
        rows = {r["id"]: r for r in self.call(f"model.{model}.read", ids, list(fields))}
        return [rows[i] for i in ids if i in rows]

    def create(self, model: str, values: Sequence[Mapping[str, Any]]) -> list[int]:
        return self.call(f"model.{model}.create", [dict(v) for v in values], once=True)

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
