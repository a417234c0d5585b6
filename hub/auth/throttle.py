"""Failed-token throttling: a client address that presents too many wrong tokens (API bearer
or the login form) within a window is answered 429, with ``Retry-After``, until the window
has passed — guessing tokens becomes slow, and the answer says so.

The counts live in this process's memory (one ``FailedTokens`` per app, on ``app.state``): that
is enough for the embedded default (one process), but each uvicorn worker counts on its own,
so with ``--workers N`` a client gets up to N times ``auth_failures_max`` tries per window, and
a restart forgets them. Behind a reverse proxy every client has the proxy's address unless the
server is run with ``--proxy-headers``/``--forwarded-allow-ips``: then one guesser slows all.
While an address is blocked, even a right token is refused: otherwise the 429s would still
tell a guesser which token was right.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from fastapi import HTTPException, Request, status


class FailedTokens:
    def __init__(self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self._clock = limit, window_seconds, clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()  # sync routes run in a thread pool

    def _recent(self, client: str, now: float) -> deque[float]:
        failures = self._failures.get(client)
        if failures is None:
            return deque()
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[client]
        return failures

    def retry_after(self, client: str) -> int | None:
        """Seconds until ``client`` may try again, or None if it may now."""
        with self._lock:
            now = self._clock()
            failures = self._recent(client, now)
            if len(failures) < self.limit:
                return None
            return max(1, math.ceil(failures[-self.limit] + self.window - now))

    def check(self, client: str) -> None:
        """Raise 429 if ``client`` is blocked (call before verifying its token)."""
        wait = self.retry_after(client)
        if wait is not None:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"too many wrong tokens from {client}; try again in {wait} s",
                headers={"Retry-After": str(wait)},
            )

    def failed(self, client: str) -> None:
        with self._lock:
            now = self._clock()
            failures = self._failures.setdefault(client, deque())
            failures.append(now)
            while len(failures) > self.limit:  # only the last ``limit`` matter
                failures.popleft()


def failed_tokens(request: Request) -> FailedTokens:
    """The app's throttle, made on first use from its settings (one per app, per process)."""
    state = request.app.state
    throttle: FailedTokens | None = getattr(state, "failed_tokens", None)
    if throttle is None:
        throttle = state.failed_tokens = FailedTokens(
            state.settings.auth_failures_max, state.settings.auth_failures_window_seconds
        )
    return throttle


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
