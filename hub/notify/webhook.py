"""JSON webhooks over HTTP(S), signed by the connectors' one signed sender
(``connectors.http.post_signed``, the webhook connector's too); any 2xx answer is delivered."""

from __future__ import annotations

from typing import Any

import httpx

from connectors.errors import ConnectorError
from connectors.http import post_signed
from connectors.retry import Retryable
from hub.notify.mail import DeliveryError
from hub.notify.settings import NotifySettings


def post_json(settings: NotifySettings, url: str, payload: Any) -> None:
    """One signed POST; a refusal or failure is a DeliveryError (the message stays queued)."""
    if settings.webhook_secret is None:
        raise DeliveryError("no webhook secret configured (HUB_WEBHOOK_SECRET): refusing to send unsigned")
    try:
        with httpx.Client(timeout=settings.notify_timeout) as client:
            post_signed(client, url, settings.webhook_secret.get_secret_value(), payload)
    except (ConnectorError, Retryable) as exc:
        status = getattr(exc, "status", None)
        raise DeliveryError(
            f"webhook {url} answered {status}: {exc}" if status else f"webhook {url} failed: {exc}"
        ) from None
