"""A finance system speaking the Xero Accounting API: contacts, sales invoices, payments.

Reads are incremental on ``UpdatedDateUTC``: each list call sends ``If-Modified-Since`` and
``order=UpdatedDateUTC ASC`` and pages with ``page``/``pageSize`` until a short page. After a
full page the window moves up to the newest stamp read and paging starts again at page 1
(keyset paging): a record changed while we page moves to the end of the list instead of
shifting the pages under us, so none is skipped; one read twice within a run is yielded once.
Only when a whole page shares one stamp does the page number advance instead.

Writes are idempotent: an update goes to the record's id; a create first looks for the record a
lost earlier attempt may have made (contacts by ``Name``, invoices by ``InvoiceNumber`` else
``Reference``, payments by ``Reference`` on the same invoice) and that look-up and the create
are retried together, never the create alone.

Settings (``connectors.accounting.settings``): ``base_url`` (was ``url``; API host,
``/api.xro/2.0/`` is appended), ``token_url`` (default ``{base_url}/connect/token``; Xero's is
``https://identity.xero.com/connect/token``), ``tenant_id`` (sent as ``Xero-tenant-id``),
``page_size`` (100), ``timeout`` (30 s), ``retries`` (3; was ``retry_attempts``, 4 tries),
``sales_account`` ("200", for invoice lines), ``bank_account`` ("090", for payments), ``scope``.
Secrets: ``client_id`` and ``client_secret`` (OAuth2 client credentials), or ``access_token``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.accounting import records
from connectors.accounting.client import XeroClient
from connectors.accounting.settings import AccountingSecrets, AccountingSettings
from connectors.base import Connector, Health, SourceRecord, Stream, WriteResult
from connectors.errors import ConnectorError, RecordError

__all__ = ["AccountingConnector"]

#: stream → (collection, where filter that keeps it to sales)
COLLECTIONS = {
    "customers": ("Contacts", None),
    "invoices": ("Invoices", 'Type=="ACCREC"'),
    "payments": ("Payments", 'PaymentType=="ACCRECPAYMENT"'),
}


def _header_time(since: str) -> tuple[str, datetime]:
    """The engine's ISO cursor → ``If-Modified-Since`` text in UTC, and the instant itself."""
    stamp = datetime.fromisoformat(since)
    stamp = stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}", stamp


def _quoted(value: Any, field: str) -> str:
    text = str(value)
    if '"' in text:
        raise RecordError(f"accounting: cannot look up a record by a {field} containing '\"': {text!r}")
    return f'"{text}"'


class AccountingConnector(Connector):
    kind = "accounting"
    streams = (
        Stream("customers", "customer", writable=True),
        Stream("invoices", "invoice", writable=True),
        Stream("payments", "payment", writable=True),
    )

    Settings = AccountingSettings
    Secrets = AccountingSecrets
    options: AccountingSettings
    credentials: AccountingSecrets

    def __init__(self, settings: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        super().__init__(settings, secrets)
        o, s = self.options, self.credentials
        self.page_size = o.page_size
        self.sales_account, self.bank_account = o.sales_account, o.bank_account
        self.client = XeroClient(
            o.base_url,
            o.token_url or o.base_url.rstrip("/") + "/connect/token",
            client_id=s.client_id or "",
            client_secret=s.client_secret or "",
            access_token=s.access_token,
            tenant_id=o.tenant_id,
            scope=o.scope,
            timeout=o.timeout,
            retries=o.retries,
        )

    def close(self) -> None:
        self.client.close()

    def check(self) -> Health:
        started = time.perf_counter()
        try:
            self.client.request("GET", "Contacts", params={"page": 1, "pageSize": 1})
        except ConnectorError as exc:
            return Health(False, str(exc))
        return Health(True, "token accepted, contacts readable", (time.perf_counter() - started) * 1000)

    # --- reading -------------------------------------------------------------------------------
    def read(self, stream: str, since: str | None) -> Iterator[list[SourceRecord]]:
        self.stream(stream)  # an unknown stream raises with the list of streams
        collection, where = COLLECTIONS[stream]
        params: dict[str, Any] = {"order": "UpdatedDateUTC ASC", "pageSize": self.page_size}
        if where:
            params["where"] = where
        if collection == "Contacts":
            params["includeArchived"] = "true"  # an archived customer is news for the hub too
        header, window = _header_time(since) if since else (None, None)
        page, yielded = 1, set[tuple[str, str | None]]()
        while True:
            body = self.client.request("GET", collection, params={**params, "page": page}, since=header)
            rows = body.get(collection) if isinstance(body, Mapping) else None
            if not isinstance(rows, list):
                raise ConnectorError(f"accounting: GET {collection} answered without a {collection} list")
            batch = [records.source_record(stream, row) for row in rows]
            fresh = [r for r in batch if (r.external_id, r.cursor) not in yielded]
            yielded.update((r.external_id, r.cursor) for r in fresh)
            if fresh:
                yield fresh
            if len(rows) < self.page_size:
                return
            stamps = [datetime.fromisoformat(r.cursor) for r in batch if r.cursor]
            newest = max(stamps) if stamps else None
            if newest is not None and (window is None or newest > window):
                header, window = _header_time(newest.isoformat())
                page = 1
            else:  # a full page of one stamp: page on within it
                page += 1

    # --- writing -------------------------------------------------------------------------------
    def write(self, stream: str, data: Mapping[str, Any], external_id: str | None) -> WriteResult:
        """Canonical fields of a customer, invoice (+ ``reference``, ``lines``) or payment."""
        if not self.stream(stream).writable:
            raise ConnectorError(f"accounting: {stream} is not writable")
        writer: Callable[[Mapping[str, Any], str | None], WriteResult] = getattr(self, f"_write_{stream}")
        return writer(data, external_id)

    def _saved(self, collection: str, body: Any, created: bool) -> WriteResult:
        [record] = body[collection]
        stamp = records.parse_xero_date(str(record.get("UpdatedDateUTC") or ""))
        return WriteResult(
            str(record[records.ID_FIELDS[_stream_of(collection)]]),
            created,
            stamp.isoformat(timespec="milliseconds") if stamp else None,
        )

    def _find(self, collection: str, **params: Any) -> list[dict[str, Any]]:
        body = self.client.attempt("GET", collection, params=params)
        return list(body.get(collection) or [])

    def _upsert(
        self, collection: str, payload: dict[str, Any], find: Callable[[], list[dict[str, Any]]], what: str
    ) -> WriteResult:
        """Look for the record, update it if found, else create it — retried as one step."""
        id_field = records.ID_FIELDS[_stream_of(collection)]

        def step() -> WriteResult:
            found = find()
            if len(found) > 1:
                raise RecordError(f"accounting: {len(found)} {collection} match {what}; cannot tell which to update")
            if found:
                body = self.client.attempt("POST", f"{collection}/{found[0][id_field]}", body={collection: [payload]})
                return self._saved(collection, body, created=False)
            return self._saved(
                collection, self.client.attempt("PUT", collection, body={collection: [payload]}), created=True
            )

        return self.client.retrying(step)

    def _write_customers(self, data: Mapping[str, Any], external_id: str | None) -> WriteResult:
        if external_id:
            current = None
            if any(k in data for k in ("street", "city", "postcode", "country")):
                current = self.client.request("GET", f"Contacts/{external_id}")["Contacts"][0]
            body = self.client.request(
                "POST", f"Contacts/{external_id}", body={"Contacts": [records.contact(data, current)]}
            )
            return self._saved("Contacts", body, created=False)
        if not data.get("name"):
            raise RecordError("accounting: a new customer needs a name")
        where = f"Name=={_quoted(data['name'], 'name')}"
        return self._upsert(
            "Contacts",
            records.contact(data),
            lambda: self._find("Contacts", where=where, includeArchived="true"),
            f"name {data['name']!r}",
        )

    def _write_invoices(self, data: Mapping[str, Any], external_id: str | None) -> WriteResult:
        payload = records.invoice(data, self.sales_account)
        if external_id:
            body = self.client.request("POST", f"Invoices/{external_id}", body={"Invoices": [payload]})
            return self._saved("Invoices", body, created=False)
        if data.get("number"):
            number = str(data["number"])
            find = lambda: [
                i
                for i in self._find("Invoices", InvoiceNumbers=number)
                if i.get("Type") == "ACCREC" and i.get("InvoiceNumber") == number
            ]
            what = f"number {number!r}"
        elif data.get("reference"):
            where = f'Type=="ACCREC" AND Reference=={_quoted(data["reference"], "reference")}'
            find = lambda: self._find("Invoices", where=where)
            what = f"reference {data['reference']!r}"
        else:
            raise RecordError(
                "accounting: a new invoice needs a number or a reference, so that a retried "
                "create finds the first one instead of making a second"
            )
        return self._upsert("Invoices", payload, find, what)

    def _write_payments(self, data: Mapping[str, Any], external_id: str | None) -> WriteResult:
        payload = records.payment(data, self.bank_account)
        try:
            invoice_id = str(uuid.UUID(payload["Invoice"]["InvoiceID"]))
        except ValueError:
            raise RecordError(f"accounting: invoice {data['invoice']!r} is not a Xero InvoiceID") from None
        if external_id:  # Xero never edits a payment: the same one is fine, a different one is refused
            [current] = self.client.request("GET", f"Payments/{external_id}")["Payments"]
            if (
                current["Amount"] != payload["Amount"]
                or current["Invoice"]["InvoiceID"] != payload["Invoice"]["InvoiceID"]
            ):
                raise RecordError(
                    f"accounting: payment {external_id} cannot be changed in Xero (delete it there and enter a new one)"
                )
            return WriteResult(external_id, created=False)
        if not data.get("reference"):
            raise RecordError(
                "accounting: a new payment needs a reference, so that a retried create finds "
                "the first one instead of paying twice"
            )
        where = (
            f"Reference=={_quoted(data['reference'], 'reference')} AND "
            f'Invoice.InvoiceID==Guid("{invoice_id}") AND Status=="AUTHORISED"'
        )

        def step() -> WriteResult:
            found = self._find("Payments", where=where)
            if found:
                return WriteResult(str(found[0]["PaymentID"]), created=False)
            return self._saved(
                "Payments", self.client.attempt("PUT", "Payments", body={"Payments": [payload]}), created=True
            )

        return self.client.retrying(step)


def _stream_of(collection: str) -> str:
    return next(s for s, (c, _where) in COLLECTIONS.items() if c == collection)
