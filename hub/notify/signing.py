"""Webhook signatures live with the connectors (``connectors.signing``): the webhook connector
and the notifier sign with the one implementation, and connectors import nothing from the hub."""

from connectors.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, sign, verify

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "SignatureError", "sign", "verify"]
