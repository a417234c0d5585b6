"""The error answers of the API, as documented in its OpenAPI: one shape for all of them.

Every error is ``{"detail": ...}``. ``detail`` is a sentence for 400, 401, 403, 404, 409, 413
and 429. A 422 is either FastAPI's list of field errors (``loc``, ``msg``, ``type``) when the
request does not fit its declared parameters or body, or a sentence when a service refuses
the content (an unknown customer, a pipeline YAML's ``file:line: field: message`` lines): so
routes raise ``HTTPException(422, "sentence")`` and a client reads ``detail`` either way.

:data:`ERRORS` is applied to every API router where the app includes it (``hub.api.app``), so
a new route is documented without anyone remembering to.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Problem(BaseModel):
    """Why the request was refused, in a sentence."""

    detail: str


class FieldError(BaseModel):
    """One part of the request that does not fit (FastAPI's validation error)."""

    model_config = ConfigDict(extra="allow")

    loc: list[str | int] = Field(description="Where: body, query, path or header, then the field names.")
    msg: str
    type: str
    input: Any = Field(None, description="The value refused, when short enough to echo.")


class Invalid(BaseModel):
    """422: the fields that do not fit, or a sentence naming what a service refused."""

    detail: list[FieldError] | str


def _problem(description: str, model: type[BaseModel] = Problem) -> dict[str, Any]:
    return {"model": model, "description": description}


ERRORS: dict[int | str, dict[str, Any]] = {
    400: _problem("The body could not be read (not UTF-8 text, a number too long to parse)."),
    401: _problem("No API token, or an unknown one (Authorization: Bearer <token>)."),
    403: _problem("The token's role may not use this route, or not on this record."),
    404: _problem("No such record (customer, order, connection, pipeline, ...)."),
    409: _problem("The request conflicts with the hub's state (already merged, decided, in use)."),
    413: _problem("The body is larger than HUB_MAX_BODY_BYTES."),
    422: _problem("The request does not fit its parameters or body, or a service refused its content.", Invalid),
    429: _problem("Too many wrong tokens from this address lately; retry after Retry-After seconds."),
}
