"""A target that takes the hub's records as signed JSON over HTTPS: any system with a web hook.

Each write POSTs ``{"stream", "external_id", "data"}`` to the connection's ``url``, signed with
HMAC-SHA256 over timestamp and body by the one signed sender (``connectors.http.post_signed``,
which the notifier uses too; the receiver checks it with ``connectors.signing.verify``). ``data`` carries ``hub_ref``, a stable key of the hub's record, so a receiver can
make a retried create harmless. The answer's JSON ``id`` becomes the record's id in that system
(else ``hub_ref``), its ``number`` the number people there see. Write-only: nothing to read.

Settings (``connectors.webhook.settings``): ``base_url`` (was ``url``), ``timeout`` (s, default
10), ``retries`` (default 2), ``streams`` (default: one per hub entity). Secrets: ``signing_secret``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from connectors.base import Connector, Health, SourceRecord, Stream, WriteResult
from connectors.errors import RecordError
from connectors.http import post_signed
from connectors.retry import call_with_retries
from connectors.webhook.settings import WebhookSecrets, WebhookSettings

DEFAULT_STREAMS = {
    "customers": "customer",
    "orders": "order",
    "shipments": "shipment",
    "invoices": "invoice",
    "payments": "payment",
}


class WebhookConnector(Connector):
    kind = "webhook"
    #: write-only: it reads nothing, so it needs no field map (``hub connections add`` checks)
    reads = False

    Settings = WebhookSettings
    Secrets = WebhookSecrets
    options: WebhookSettings
    credentials: WebhookSecrets

    def __init__(self, settings: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        super().__init__(settings, secrets)
        self.url = self.options.base_url
        names = self.options.streams or list(DEFAULT_STREAMS)
        self.streams = tuple(Stream(name, DEFAULT_STREAMS.get(name, name), writable=True) for name in names)
        self.client = httpx.Client(timeout=self.options.timeout)

    def read(self, stream: str, since: str | None) -> Iterator[list[SourceRecord]]:
        self.stream(stream)
        return iter(())

    def write(self, stream: str, data: Mapping[str, Any], external_id: str | None) -> WriteResult:
        self.stream(stream)
        payload = {"stream": stream, "external_id": external_id, "data": dict(data)}
        answer = call_with_retries(lambda: self._post(payload), attempts=self.options.retries + 1)
        try:
            reply = answer.json() if answer.content else {}
        except ValueError:
            reply = {}
        reply = reply if isinstance(reply, dict) else {}
        number = reply.get("number")
        return WriteResult(
            str(reply.get("id") or external_id or data.get("hub_ref")),
            created=external_id is None,
            version=None if number is None else str(number),
        )

    def _post(self, payload: dict[str, Any]) -> httpx.Response:
        try:
            return post_signed(self.client, self.url, self.credentials.signing_secret, payload)
        except RecordError as exc:  # 4xx: this record was refused
            raise RecordError(f"{exc} (the receiver refused the record)") from None

    def check(self) -> Health:
        started = time.perf_counter()
        try:
            answer = self.client.get(self.url)
        except httpx.HTTPError as exc:
            return Health(False, f"{self.url}: {exc}")
        return Health(
            answer.status_code < 500, f"{self.url}: HTTP {answer.status_code}", (time.perf_counter() - started) * 1000
        )

    def close(self) -> None:
        self.client.close()
