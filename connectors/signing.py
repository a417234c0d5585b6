"""HMAC-SHA256 signatures of webhook bodies, over the timestamp and the raw body.

Signing the timestamp with the body lets a receiver refuse replays: an old request keeps a valid
signature only for its old timestamp, which ``verify`` refuses past ``max_skew`` seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

TIMESTAMP_HEADER = "X-Concord-Timestamp"
SIGNATURE_HEADER = "X-Concord-Signature"


class SignatureError(ValueError):
    """A webhook request that must not be trusted; the message says why."""


def _mac(secret: str | bytes, timestamp: str, body: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def sign(secret: str | bytes, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The two headers to send with ``body``."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: f"sha256={_mac(secret, stamp, body)}"}


def verify(
    secret: str | bytes, headers: Mapping[str, str], body: bytes, *, max_skew: int = 300, now: float | None = None
) -> int:
    """Check a received request; returns its timestamp or raises SignatureError.

    ``headers`` may be any mapping (case-insensitive ones such as httpx's or Starlette's work;
    a plain dict must use the spelling above).
    """
    stamp, signature = headers.get(TIMESTAMP_HEADER), headers.get(SIGNATURE_HEADER)
    if not stamp or not signature:
        raise SignatureError(f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header")
    try:
        when = int(stamp)
    except ValueError:
        raise SignatureError(f"{TIMESTAMP_HEADER} {stamp!r} is not unix seconds") from None
    current = time.time() if now is None else now
    if abs(current - when) > max_skew:
        raise SignatureError(f"timestamp {when} is {int(current - when)} s off this clock (max {max_skew} s)")
    scheme, _, digest = signature.partition("=")
    if scheme != "sha256" or not digest:
        raise SignatureError(f"{SIGNATURE_HEADER} must be 'sha256=<hex>'")
    if not hmac.compare_digest(digest, _mac(secret, stamp, body)):
        raise SignatureError("signature does not match the body and timestamp")
    return when
