"""One retry policy for every connector's calls: exponential backoff, or the server's own
``Retry-After`` when it gives one (HTTP 429 / 503), then :class:`TransientError`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_exponential

from connectors.errors import TransientError

T = TypeVar("T")


class Retryable(Exception):
    """Raised inside a call that may succeed if repeated; ``retry_after`` in seconds if known."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds form; dates are treated as absent)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


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
