"""One retry policy for every connector's calls: exponential backoff, or the server's own
``Retry-After`` when it gives one (HTTP 429 / 503), then :class:`TransientError`."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_exponential

from connectors.errors import TransientError

T = TypeVar("T")


class Retryable(Exception):
    """Raised inside a call that may succeed if repeated; ``retry_after`` in seconds if known."""

    #: The HTTP status of the answer that caused it, where there was one (``connectors.http``).
    status: int | None = None

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds, or an HTTP date (RFC 9110 §10.2.3)
    counted from ``now`` (default: this clock); anything else is treated as absent."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _wait(backoff: wait_exponential, cap: float) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        hinted = getattr(error, "retry_after", None)
        return min(hinted, cap) if hinted is not None else backoff(state)

    return wait


def call_with_retries(
    call: Callable[[], T], *, attempts: int = 4, base: float = 0.2, cap: float = 30.0, what: str = ""
) -> T:
    retrying = Retrying(
        retry=retry_if_exception_type(Retryable),
        stop=stop_after_attempt(attempts),
        wait=_wait(wait_exponential(multiplier=base, max=5), cap),
        reraise=True,
    )
    try:
        return retrying(call)
    except Retryable as exc:
        raise TransientError(f"{what}{exc} (after {attempts} attempts)", exc.retry_after) from None
