"""What an HTTP answer means for the hub, in one place, and the one signed-webhook sender.

Every HTTP client of a connector (Tryton's JSON-RPC, the accounting API, web hooks, the
notifier's hooks) sorts a status code the same way (:func:`classify`):

======================  =========  ===============================================================
status                  kind       becomes
======================  =========  ===============================================================
2xx, 304                ``ok``     the answer
429, 5xx                ``retry``  :class:`~connectors.retry.Retryable` with the ``Retry-After``
                                   hint (a call not safe to repeat: :class:`TransientError` at once
                                   for a 5xx, since the system may have done it)
401, 403, 407           ``auth``   :class:`AuthError` (the ``httpx.Auth`` flows of
                                   ``connectors.auth`` have already logged in again once on a 401)
other 4xx, 3xx          ``record`` :class:`RecordError`: this request's data was refused (a
                                   redirect is never followed: set the URL it points to)
======================  =========  ===============================================================

A transport failure (:func:`transport_failure`) is retryable, except for a call not safe to
repeat that may have reached the system (anything but a refused connection). The SOAP client
runs on requests, not httpx, and uses :func:`classify` alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

import httpx

from connectors.errors import AuthError, ConnectorError, RecordError, TransientError
from connectors.jsonable import jsonable
from connectors.retry import Retryable, parse_retry_after
from connectors.signing import sign

Kind = Literal["ok", "retry", "auth", "record"]

#: Statuses that mean "the credentials or the session": 407 is a proxy's refusal.
AUTH_STATUSES = frozenset({401, 403, 407})


def classify(status: int) -> Kind:
    """What the hub does about an HTTP status (see the table in the module's docstring)."""
    if status == 429 or status >= 500:
        return "retry"
    if status in AUTH_STATUSES:
        return "auth"
    if status >= 300 and status != 304:  # a redirect is not followed: the URL is not the system's
        return "record"
    return "ok"


def excerpt(response: httpx.Response, limit: int = 300) -> str:
    """The start of an answer's text, for an error message (never the whole body)."""
    try:
        return response.text[:limit]
    except (httpx.ResponseNotRead, UnicodeDecodeError):
        return ""


def raise_for_status(response: httpx.Response, what: str, *, once: bool = False) -> httpx.Response:
    """The answer when its status is ``ok``; else the error its kind means. ``what`` names the
    system and the call (``"Tryton model.sale.sale.create"``); ``once``: the call is not safe
    to repeat, so a 5xx after sending is final (a 429 is not: the system refused to start)."""
    status = response.status_code
    kind = classify(status)
    if kind == "ok":
        return response
    error: ConnectorError | Retryable
    if kind == "retry":
        if once and status != 429:
            error = TransientError(
                f"{what}: HTTP {status} (not re-sent: the system may have done it; the next attempt looks first)"
            )
        else:
            error = Retryable(f"{what}: HTTP {status}", parse_retry_after(response.headers.get("Retry-After")))
    elif kind == "auth":
        detail = excerpt(response)
        error = AuthError(f"{what}: HTTP {status}: credentials or session refused" + (f" ({detail})" if detail else ""))
    else:
        detail = excerpt(response)
        error = RecordError(f"{what}: HTTP {status}" + (f": {detail}" if detail else ""))
    error.status = status  # the answer's status, for a caller's message (the notifier's)
    raise error


def never_sent(exc: httpx.TransportError) -> bool:
    """True when the request cannot have reached the system (so even a create may be repeated)."""
    return isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))


def transport_failure(exc: httpx.TransportError, what: str, *, once: bool = False) -> Exception:
    """The error a transport failure becomes: retryable, unless the call is not safe to repeat
    and may have reached the system. Raise the result (``raise transport_failure(...) from exc``)."""
    if once and not never_sent(exc):
        return TransientError(
            f"{what}: {type(exc).__name__}: {exc} (not re-sent: the system may have "
            "done it; the next attempt looks first)"
        )
    return Retryable(f"{what}: unreachable ({type(exc).__name__}: {exc})")


def send(client: httpx.Client, request: httpx.Request, what: str, *, once: bool = False) -> httpx.Response:
    """One exchange through ``client`` (and its ``auth``), the answer classified."""
    try:
        response = client.send(request)
    except httpx.TransportError as exc:
        raise transport_failure(exc, what, once=once) from exc
    return raise_for_status(response, what, once=once)


# --- signed web hooks ---------------------------------------------------------------------------


def signed_body(payload: Any) -> bytes:
    """The JSON text a hook sends: compact, UTF-8, connector values (Decimal, dates) as text."""
    return json.dumps(jsonable(payload), ensure_ascii=False, default=str, separators=(",", ":")).encode()


def post_signed(
    client: httpx.Client,
    url: str,
    secret: str,
    payload: Any,
    *,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """POST ``payload`` as JSON to ``url``, signed with HMAC-SHA256 over timestamp and body
    (``connectors.signing``), the answer classified (:func:`raise_for_status`).

    The webhook connector and the notifier (``hub.notify.webhook``) both send through this,
    so a receiver checks one signature scheme. A retry signs again (a fresh timestamp)."""
    body = signed_body(payload)
    request = client.build_request(
        "POST",
        url,
        content=body,
        headers={"Content-Type": "application/json", **(headers or {}), **sign(secret, body)},
    )
    return send(client, request, f"webhook {url}")
