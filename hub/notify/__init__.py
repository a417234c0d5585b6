"""Telling people and systems: e-mail over SMTP and signed JSON webhooks.

Transport only — what to say is the caller's. Webhooks go out through the connectors' one signed
sender (``connectors.http.post_signed``, which the webhook connector uses too); signatures
(``connectors.signing``, re-exported by ``hub.notify.signing``)::

    X-Concord-Timestamp: <unix seconds>
    X-Concord-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>

A receiver recomputes the HMAC over the timestamp header, a dot and the raw body bytes, compares
in constant time, and refuses a timestamp more than a few minutes off its clock (a replayed
request). ``hub.notify.signing.verify`` does exactly that and can be copied into a receiver.
"""

from hub.notify.signing import SignatureError, sign, verify

__all__ = ["SignatureError", "sign", "verify"]
