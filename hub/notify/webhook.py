"""JSON webhooks over HTTP(S), signed (see ``signing.py``); any 2xx answer is delivered."""

from __future__ import annotations

import json
from typing import Any

import httpx

from hub.notify.mail import DeliveryError
from hub.notify.settings import NotifySettings
from hub.notify.signing import sign


def post_json(settings: NotifySettings, url: str, payload: Any) -> None:
    if settings.webhook_secret is None:
        raise DeliveryError("no webhook secret configured (HUB_WEBHOOK_SECRET): refusing to send unsigned")
    body = json.dumps(payload, ensure_ascii=False, default=str, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", **sign(settings.webhook_secret.get_secret_value(), body)}
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=settings.notify_timeout)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"webhook {url} failed: {type(exc).__name__}: {exc}") from None
    if not response.is_success:
        raise DeliveryError(f"webhook {url} answered {response.status_code}: {response.text[:200]}")
