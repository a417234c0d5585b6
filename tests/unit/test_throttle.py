"""Failed-token throttling over time: blocked after the limit, free again once the window passed."""

from __future__ import annotations

import pytest
from fastapi import HTTPException

from hub.auth.throttle import FailedTokens


def test_a_client_is_blocked_until_its_failures_leave_the_window() -> None:
    now = [1000.0]
    throttle = FailedTokens(limit=3, window_seconds=60, clock=lambda: now[0])
    for step in (0, 10, 20):
        now[0] = 1000.0 + step
        throttle.check("10.0.0.7")
        throttle.failed("10.0.0.7")
    assert throttle.retry_after("10.0.0.7") == 40  # the first failure leaves the window at 1060
    with pytest.raises(HTTPException) as refused:
        throttle.check("10.0.0.7")
    assert refused.value.status_code == 429 and refused.value.headers == {"Retry-After": "40"}
    assert throttle.retry_after("10.0.0.8") is None  # per address

    now[0] = 1060.0
    assert throttle.retry_after("10.0.0.7") is None  # two failures left in the window: one more try
    throttle.failed("10.0.0.7")
    assert throttle.retry_after("10.0.0.7") == 10  # the second failure (at 1010) leaves at 1070
