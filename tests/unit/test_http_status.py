"""One status classifier for every HTTP client of a connector (``connectors.http``).

Before, each client had its own ``if status == 429 or status >= 500`` and its own idea of a
401; a redirect counted as delivered for the notifier, and a ``Retry-After`` date was ignored.
"""

from __future__ import annotations

from email.utils import formatdate

import httpx
import pytest

from connectors.errors import AuthError, RecordError, TransientError
from connectors.http import classify, raise_for_status
from connectors.retry import Retryable, parse_retry_after

REQUEST = httpx.Request("POST", "http://system.example/rpc")


def _answer(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers, text="the system's words", request=REQUEST)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (200, "ok"),
        (201, "ok"),
        (204, "ok"),
        (304, "ok"),
        (301, "record"),
        (302, "record"),
        (400, "record"),
        (404, "record"),
        (409, "record"),
        (422, "record"),
        (401, "auth"),
        (403, "auth"),
        (407, "auth"),
        (429, "retry"),
        (500, "retry"),
        (502, "retry"),
        (503, "retry"),
        (504, "retry"),
    ],
)
def test_every_status_has_one_meaning(status: int, kind: str) -> None:
    assert classify(status) == kind


def test_a_status_becomes_the_error_the_sync_engine_acts_on() -> None:
    assert raise_for_status(_answer(200), "x").status_code == 200
    with pytest.raises(Retryable) as throttled:
        raise_for_status(_answer(429, **{"Retry-After": "7"}), "Tryton model.sale.sale.search")
    assert throttled.value.retry_after == 7 and throttled.value.status == 429
    with pytest.raises(AuthError, match="HTTP 401: credentials or session refused"):
        raise_for_status(_answer(401), "accounting: GET Contacts")
    with pytest.raises(RecordError, match="HTTP 422: the system's words") as refused:
        raise_for_status(_answer(422), "webhook http://hook/")
    assert refused.value.status == 422


def test_a_call_not_safe_to_repeat_is_not_retried_after_a_5xx_but_is_after_a_429() -> None:
    with pytest.raises(TransientError, match="not re-sent"):
        raise_for_status(_answer(503), "Tryton model.party.party.create", once=True)
    with pytest.raises(Retryable):  # throttled: the system refused to start it
        raise_for_status(_answer(429), "Tryton model.party.party.create", once=True)


def test_retry_after_as_seconds_or_as_an_http_date() -> None:
    now = 1_800_000_000.0
    assert parse_retry_after("120") == 120
    assert parse_retry_after(formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30)
    assert parse_retry_after(formatdate(now - 30, usegmt=True), now=now) == 0  # already past
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
