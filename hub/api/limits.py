"""Limits at the API's edge: the size of a request body, and error answers that always encode.

* :class:`BodyLimit` is plain ASGI middleware, outermost but for the security headers: a body
  larger than ``HUB_MAX_BODY_BYTES`` is answered 413 before any of it is parsed and before
  the token is checked — at once when ``Content-Length`` says so, otherwise as soon as the
  streamed (chunked) bytes pass the limit. Before it, a 100 MB body sent without a token cost
  1.35 GB of memory and an order of 2.27 million lines 4.9 GB.
* :func:`validation_error` answers a refused request (422) like FastAPI does, but its echo of
  the input is kept only when it can be encoded: FastAPI's own handler answered 500 when the
  input was ``1E+999999`` (infinity) or held a lone surrogate, and echoed megabytes back.
"""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Echoed input longer than this (as JSON) is left out of a 422: the caller has it.
MAX_ECHO_CHARS = 500


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when the streamed body passes the limit. An HTTPException, so
    FastAPI's body reader passes it on (anything else it turns into a 400) and the app's
    handler answers it as JSON."""

    def __init__(self, limit: int):
        super().__init__(413, f"the request body is larger than the hub accepts ({limit} bytes; HUB_MAX_BODY_BYTES)")


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, counting what is streamed too."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _answer(send, BodyTooLarge(self.max_bytes))
            return
        received = 0
        started = False

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watched)
        except BodyTooLarge as exc:  # read outside FastAPI's body reader (e.g. a form)
            if started:
                raise
            await _answer(send, exc)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length itself
    return None


async def _answer(send: Send, exc: HTTPException) -> None:
    body = json.dumps({"detail": exc.detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": exc.status_code,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _encodable(value: Any) -> bool:
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
        text.encode("utf-8")
    except (TypeError, ValueError):  # UnicodeEncodeError is a ValueError
        return False
    return len(text) <= MAX_ECHO_CHARS


def _safe_error(error: dict[str, Any]) -> dict[str, Any]:
    out = {"loc": list(error.get("loc", ())), "msg": str(error.get("msg", "")), "type": str(error.get("type", ""))}
    if not _encodable(out["msg"]) or not _encodable(out["loc"]):
        out["msg"] = ascii(out["msg"])[:MAX_ECHO_CHARS]
        out["loc"] = [part if isinstance(part, int) else ascii(part)[1:-1] for part in out["loc"]]
    if "input" in error:
        value = _plain(error["input"])
        if (value is not None or error["input"] is None) and _encodable(value):
            out["input"] = value
    ctx = {k: v for k, v in (error.get("ctx") or {}).items() if k != "error"}  # an exception: {} as JSON
    if ctx:
        ctx = _plain(ctx)
        if _encodable(ctx):
            out["ctx"] = ctx
    return out


def _plain(value: Any) -> Any:
    """``value`` as JSON-able data, or None when it is not (bytes that are not UTF-8, say)."""
    try:
        return jsonable_encoder(value, custom_encoder={float: _plain_float})
    except (TypeError, ValueError):  # UnicodeDecodeError is a ValueError
        return None


def _plain_float(value: float) -> Any:
    return value if math.isfinite(value) else str(value)  # JSON has no inf or NaN


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 with FastAPI's shape (``detail``: a list of ``loc``/``msg``/``type``), always encodable."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": [_safe_error(dict(e)) for e in exc.errors()]}, status_code=422)


def install_limits(app: FastAPI) -> None:
    """The body limit (``app.state.settings.max_body_bytes``) and the safe 422 handler."""
    app.add_middleware(BodyLimit, max_bytes=app.state.settings.max_body_bytes)
    app.add_exception_handler(RequestValidationError, validation_error)
