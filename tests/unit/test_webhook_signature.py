"""Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>", refused when altered or stale."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from hub.notify import SignatureError, sign, verify

BODY = b'{"event":"receivables.overdue","alerts":[]}'


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body_and_verifies():
    headers = sign("s3cret", BODY, timestamp=1_800_000_000)
    expected = hmac.new(b"s3cret", b"1800000000." + BODY, hashlib.sha256).hexdigest()
    assert headers == {"X-Concord-Timestamp": "1800000000", "X-Concord-Signature": f"sha256={expected}"}
    assert verify("s3cret", headers, BODY, now=1_800_000_030) == 1_800_000_000


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda h, b: (h, b + b" "), "does not match"),
        (lambda h, b: ({**h, "X-Concord-Timestamp": "1800000001"}, b), "does not match"),
        (lambda h, b: ({"X-Concord-Timestamp": h["X-Concord-Timestamp"]}, b), "missing"),
        (lambda h, b: ({**h, "X-Concord-Signature": "md5=abc"}, b), "sha256=<hex>"),
        (lambda h, b: ({**h, "X-Concord-Timestamp": "yesterday"}, b), "not unix seconds"),
    ],
)
def test_an_altered_request_is_refused(change, message):
    headers, body = change(sign("s3cret", BODY, timestamp=1_800_000_000), BODY)
    with pytest.raises(SignatureError, match=message):
        verify("s3cret", headers, body, now=1_800_000_000)


def test_the_wrong_secret_and_a_replay_past_the_clock_skew_are_refused():
    headers = sign("s3cret", BODY, timestamp=1_800_000_000)
    with pytest.raises(SignatureError, match="does not match"):
        verify("other", headers, BODY, now=1_800_000_000)
    with pytest.raises(SignatureError, match="301 s off this clock"):
        verify("s3cret", headers, BODY, now=1_800_000_301, max_skew=300)
    assert verify("s3cret", headers, BODY, now=1_800_000_300, max_skew=300)
