"""A target that takes the hub's records as signed JSON over HTTPS: any system with a web hook.

Each write POSTs ``{"stream", "external_id", "data"}`` to the connection's ``url``, signed with
HMAC-SHA256 over timestamp and body (``hub.notify.signing``; the receiver checks it with
``verify``). ``data`` carries ``hub_ref``, a stable key of the hub's record, so a receiver can
make a retried create harmless. The answer's JSON ``id`` becomes the record's id in that system
(else ``hub_ref``), its ``number`` the number people there see. Write-only: nothing to read.

Settings: ``url``, ``timeout`` (s, default 10), ``streams`` (default: one per hub entity).
Secrets: ``signing_secret``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from connectors.base import Connector, Health, SourceRecord, Stream, WriteResult
from connectors.errors import ConnectorError, RecordError
from connectors.retry import Retryable, call_with_retries, parse_retry_after
from hub.jsonable import jsonable
from hub.notify.signing import sign

DEFAULT_STREAMS = {"customers": "customer", "orders": "order", "shipments": "shipment",
                   "invoices": "invoice", "payments": "payment"}


class WebhookConnector(Connector):
    kind = "webhook"
    #: write-only: it reads nothing, so it needs no field map (``hub connections add`` checks)
    reads = False

    def __init__(self, settings: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        super().__init__(settings, secrets)
        if not settings.get("url"):
            raise ConnectorError("webhook connection needs the setting 'url'")
        if not secrets.get("signing_secret"):
            raise ConnectorError("webhook connection needs the secret 'signing_secret'")
        self.url = str(settings["url"])
        names = settings.get("streams") or DEFAULT_STREAMS
        self.streams = tuple(Stream(name, DEFAULT_STREAMS.get(name, name), writable=True) for name in names)
        self.client = httpx.Client(timeout=float(settings.get("timeout", 10)))

    def read(self, stream: str, since: str | None) -> Iterator[list[SourceRecord]]:
        self.stream(stream)
        return iter(())

    def write(self, stream: str, data: Mapping[str, Any], external_id: str | None) -> WriteResult:
        self.stream(stream)
        body = json.dumps({"stream": stream, "external_id": external_id, "data": jsonable(dict(data))},
                          ensure_ascii=False, separators=(",", ":")).encode()
        answer = call_with_retries(lambda: self._post(body), attempts=3, what=f"webhook {self.url}: ")
        try:
            reply = answer.json() if answer.content else {}
        except ValueError:
            reply = {}
        reply = reply if isinstance(reply, dict) else {}
        number = reply.get("number")
        return WriteResult(str(reply.get("id") or external_id or data.get("hub_ref")), created=external_id is None,
                           version=None if number is None else str(number))

    def _post(self, body: bytes) -> httpx.Response:
        headers = {"Content-Type": "application/json", **sign(self.secrets["signing_secret"], body)}
        try:
            answer = self.client.post(self.url, content=body, headers=headers)
        except httpx.TransportError as exc:
            raise Retryable(f"{type(exc).__name__}: {exc}") from None
        if answer.status_code == 429 or answer.status_code >= 500:
            raise Retryable(f"HTTP {answer.status_code}", parse_retry_after(answer.headers.get("Retry-After")))
        if answer.status_code >= 400:
            raise RecordError(f"webhook {self.url} refused the record: HTTP {answer.status_code} {answer.text[:300]}")
        return answer

    def check(self) -> Health:
        started = time.perf_counter()
        try:
            answer = self.client.get(self.url)
        except httpx.HTTPError as exc:
            return Health(False, f"{self.url}: {exc}")
        return Health(answer.status_code < 500, f"{self.url}: HTTP {answer.status_code}",
                      (time.perf_counter() - started) * 1000)

    def close(self) -> None:
        self.client.close()
