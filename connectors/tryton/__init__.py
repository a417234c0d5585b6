"""Tryton ERP over JSON-RPC: parties, sales, customer shipments, invoices and payments.

Reads are incremental on ``create_date``/``write_date`` (UTC in Tryton), paged by id so that a
record changed while we page is neither skipped nor read twice within one run. Records are
flattened into plain dicts here — the protocol's business — and mapped to the hub's fields by
``mappings/connectors/tryton.yaml``.

Writes create and update parties (``connectors.tryton.parties``) and sales
(``connectors.tryton.sales``), idempotently: a create looks for the record the hub made
before by the hub's own ``hub_ref`` (a party's untyped identifier, a line of the sale's
comment) — never by user data such as the customer's PO reference, which two orders may
share — so a retried delivery never makes a second record nor lands on another order's.

Settings (``connectors.tryton.settings``): ``base_url`` (was ``url``), ``database``, ``login``
(default ``admin``), ``page_size`` (default 200), ``timeout`` (s, default 60), ``retries``
(default 3). Secrets: ``password``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from connectors.base import Connector, Health, SourceRecord, Stream, WriteResult
from connectors.errors import ConnectorError, RecordError
from connectors.tryton.parties import create_party, update_party
from connectors.tryton.rpc import TrytonError, TrytonRPC
from connectors.tryton.sales import create_sale, hub_ref_of, update_sale
from connectors.tryton.settings import TrytonSecrets, TrytonSettings

__all__ = ["TrytonConnector"]


def _stamp(row: Mapping[str, Any], *parts: Mapping[str, Any] | None) -> str:
    """The record's change time as an ISO string in UTC (its cursor value): the newest of its
    own and its ``parts``' (a party's addresses and contact mechanisms, edited in Tryton
    without touching the party's write date)."""
    changed = max(d for r in (row, *parts) if r for d in (r.get("create_date"), r.get("write_date")) if d is not None)
    return changed.replace(tzinfo=UTC).isoformat()


#: A party's parts edited on their own in Tryton (a new phone number, a corrected street):
#: the party itself keeps its write date, so an incremental read follows these too.
_PARTY_PARTS = ("addresses", "contact_mechanisms", "identifiers")
_STAMPED = ["create_date", "write_date"]


def _naive_utc(since: str) -> datetime:
    stamp = datetime.fromisoformat(since)
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC).replace(tzinfo=None)
    return stamp


_WRITE_LOCKS: dict[str, threading.Lock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def _write_lock(server: str) -> threading.Lock:
    """One writer per Tryton database in this process: Tryton on SQLite serialises writers
    and concurrent creates collide on sequences; and a search-then-create is only safe from
    duplicates when no other write of ours runs in between."""
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(server, threading.Lock())


def _origin_id(origin: Any, model: str) -> int | None:
    """``"sale.line,42"`` → 42 when the origin is of ``model``."""
    if isinstance(origin, str) and origin.startswith(model + ","):
        return int(origin.split(",", 1)[1])
    return None


def _ids(values: Iterable[Any]) -> set[int]:
    """The ids among ``values`` (an origin of another model, or no sale, gives None)."""
    return {v for v in values if v is not None}


class TrytonConnector(Connector):
    kind = "tryton"
    streams = (
        Stream("customers", "customer", ordered=False, writable=True),
        Stream("orders", "order", ordered=False, writable=True),
        Stream("shipments", "shipment", ordered=False),
        Stream("invoices", "invoice", ordered=False),
        Stream("payments", "payment", ordered=False),
    )

    Settings = TrytonSettings
    Secrets = TrytonSecrets
    options: TrytonSettings
    credentials: TrytonSecrets

    def __init__(self, settings: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        super().__init__(settings, secrets)
        o = self.options
        self.rpc = TrytonRPC(
            o.base_url, o.database, o.login, self.credentials.password, timeout=o.timeout, retries=o.retries
        )
        self.page_size = o.page_size
        self._names: dict[tuple[str, str, int], Any] = {}

    def close(self) -> None:
        self.rpc.close()

    def check(self) -> Health:
        started = time.perf_counter()
        try:
            self.rpc.login()
        except ConnectorError as exc:
            return Health(False, str(exc))
        company = self.rpc.context.get("company")
        return Health(True, f"logged in, company {company}", (time.perf_counter() - started) * 1000)

    # --- writing -----------------------------------------------------------------------------
    def write(self, stream: str, data: Mapping[str, Any], external_id: str | None) -> WriteResult:
        """Create (``external_id`` None) or update a party (``customers``) or a sale (``orders``).

        ``data`` holds the hub's canonical fields, references already Tryton ids, plus
        ``hub_ref``, the hub's stable key of the record. Safe to retry: a create finds what an
        earlier attempt made; an update writes only what differs. Tryton refusing the record
        (a UserError) is a RecordError with Tryton's message; Tryton unreachable is a
        TransientError (a ConnectorError): deliver again later.
        """
        writers = {
            "customers": (create_party, update_party),
            "orders": (create_sale, update_sale),
        }
        if stream not in writers:
            self.stream(stream)  # an unknown stream raises with the list
            raise ConnectorError(f"tryton: the stream {stream!r} is read-only")
        create, update = writers[stream]
        if external_id is not None and not external_id.isdigit():
            raise RecordError(f"tryton: {stream}: external id {external_id!r} is not a Tryton id")
        with _write_lock(self.rpc.rpc_url):
            try:
                if external_id is None:
                    return create(self.rpc, data)
                return update(self.rpc, data, int(external_id))
            except TrytonError as exc:  # Tryton refused it: name the record, keep Tryton's words
                record = external_id or data.get("hub_ref") or data.get("reference") or "(new)"
                raise RecordError(f"tryton: {stream} {record}: {exc}") from exc

    # --- reading -----------------------------------------------------------------------------
    def _changed_ids(self, model: str, since: str | None, domain: list[Any]) -> Iterator[list[int]]:
        if since:
            stamp = _naive_utc(since)
            touched: list[Any] = [("create_date", ">=", stamp), ("write_date", ">=", stamp)]
            if model == "party.party":
                touched += [(f"{part}.{field}", ">=", stamp) for part in _PARTY_PARTS for field in _STAMPED]
            domain = [*domain, ["OR", *touched]]
        last = 0
        while True:
            ids = self.rpc.search(model, [*domain, ("id", ">", last)], self.page_size, [("id", "ASC")])
            if not ids:
                return
            yield ids
            last = ids[-1]

    def _lookup(self, model: str, ids: set[int], field: str) -> dict[int, Any]:
        """Small reference tables (currencies, products, countries), read once per run; each
        (model, field) cached on its own (a product's code and its type)."""
        missing = [i for i in ids if (model, field, i) not in self._names]
        for row in self.rpc.read(model, missing, [field]):
            self._names[(model, field, row["id"])] = row[field]
        return {i: self._names.get((model, field, i)) for i in ids}

    def _reader(self, stream: str) -> Callable[[list[int]], list[SourceRecord]]:
        reader: Callable[[list[int]], list[SourceRecord]] | None = getattr(self, f"_read_{stream}", None)
        if reader is None:
            self.stream(stream)  # raises with the list of streams
            raise KeyError(stream)
        return reader

    def read(self, stream: str, since: str | None) -> Iterator[list[SourceRecord]]:
        reader = self._reader(stream)
        model, domain = self._domain(stream)
        for ids in self._changed_ids(model, since, domain):
            yield reader(ids)

    def read_one(self, stream: str, external_id: str) -> SourceRecord | None:
        """The record as Tryton holds it now, read by the stream's own reader (one id), or None
        when Tryton no longer has it (deleted, or no longer one of the stream's: a party that
        became the company's). A payment's id is its move line: read through its invoice."""
        reader = self._reader(stream)
        if not external_id.isdigit():
            raise RecordError(f"tryton: {stream}: external id {external_id!r} is not a Tryton id")
        model, domain = self._domain(stream)
        key = int(external_id)
        where = ("payment_lines", "in", [key]) if stream == "payments" else ("id", "=", key)
        ids = self.rpc.search(model, [*domain, where], 1, [("id", "ASC")])
        found = [r for r in reader(ids) if r.external_id == external_id] if ids else []
        return found[0] if found else None

    def _domain(self, stream: str) -> tuple[str, list[Any]]:
        """The stream's model and the domain of its records."""
        model, domain = self._source(stream)
        if stream == "customers":
            # the companies' own parties are the seller, not customers (a golden "customer"
            # named after the company itself, every supplier's invoice address...)
            own = [
                c["party"] for c in self.rpc.read("company.company", self.rpc.search("company.company", []), ["party"])
            ]
            domain = [*domain, ("id", "not in", own)] if own else domain
        return model, domain

    @staticmethod
    def _source(stream: str) -> tuple[str, list[Any]]:
        sources: dict[str, tuple[str, list[Any]]] = {
            "customers": ("party.party", []),
            "orders": ("sale.sale", []),
            "shipments": ("stock.shipment.out", []),
            "invoices": ("account.invoice", [("type", "=", "out")]),
            "payments": ("account.invoice", [("type", "=", "out"), ("payment_lines", "!=", None)]),
        }
        return sources[stream]

    def _read_customers(self, ids: list[int]) -> list[SourceRecord]:
        parties = self.rpc.read(
            "party.party",
            ids,
            ["code", "name", "addresses", "contact_mechanisms", "identifiers", "create_date", "write_date"],
        )
        first_address = [p["addresses"][0] for p in parties if p["addresses"]]
        addresses = {
            a["id"]: a
            for a in self.rpc.read(
                "party.address", first_address, ["street", "city", "postal_code", "country", *_STAMPED]
            )
        }
        countries = self._lookup("country.country", {a["country"] for a in addresses.values() if a["country"]}, "code")
        mechanisms = {
            m["id"]: m
            for m in self.rpc.read(
                "party.contact_mechanism",
                [m for p in parties for m in p["contact_mechanisms"]],
                ["type", "value", *_STAMPED],
            )
        }
        identifiers = {
            i["id"]: i
            for i in self.rpc.read(
                "party.identifier", [i for p in parties for i in p["identifiers"]], ["type", "code", *_STAMPED]
            )
        }
        out = []
        for party in parties:
            address = addresses.get(party["addresses"][0]) if party["addresses"] else None
            contacts = [mechanisms[m] for m in party["contact_mechanisms"] if m in mechanisms]
            # untyped identifiers are references (the hub's own key), not tax numbers
            codes = [
                identifiers[i]["code"] for i in party["identifiers"] if i in identifiers and identifiers[i]["type"]
            ]
            parts = [address, *contacts, *(identifiers.get(i) for i in party["identifiers"])]
            out.append(
                SourceRecord(
                    external_id=str(party["id"]),
                    cursor=_stamp(party, *parts),
                    data={
                        "id": party["id"],
                        "code": party["code"],
                        "name": party["name"],
                        "email": next((c["value"] for c in contacts if c["type"] == "email"), None),
                        "phone": next((c["value"] for c in contacts if c["type"] in ("phone", "mobile")), None),
                        "tax_id": codes[0] if codes else None,
                        "street": address["street"] if address else None,
                        "city": address["city"] if address else None,
                        "postcode": address["postal_code"] if address else None,
                        "country": countries.get(address["country"]) if address and address["country"] else None,
                    },
                )
            )
        return out

    def _read_orders(self, ids: list[int]) -> list[SourceRecord]:
        sales = self.rpc.read(
            "sale.sale",
            ids,
            [
                "number",
                "reference",
                "party",
                "state",
                "sale_date",
                "currency",
                "untaxed_amount",
                "tax_amount",
                "total_amount",
                "lines",
                "comment",
                "create_date",
                "write_date",
            ],
        )
        lines = {
            l["id"]: l
            for l in self.rpc.read(
                "sale.line",
                [i for s in sales for i in s["lines"]],
                ["type", "product", "description", "quantity", "unit_price"],
            )
        }
        with_product = {l["product"] for l in lines.values() if l["product"]}
        products = self._lookup("product.product", with_product, "code")
        # a service (installation, freight) or a line without product has no stock move: it never ships
        kinds = self._lookup("product.product", with_product, "type")
        currencies = self._lookup("currency.currency", {s["currency"] for s in sales}, "code")
        return [
            SourceRecord(
                external_id=str(sale["id"]),
                cursor=_stamp(sale),
                data={
                    "id": sale["id"],
                    "number": sale["number"],
                    "reference": sale["reference"],
                    "party": sale["party"],
                    "state": sale["state"],
                    "sale_date": sale["sale_date"],
                    # the hub's key on a sale it created: read back, it joins that hub order even
                    # when the hub never recorded Tryton's answer (a crash between the two)
                    "hub_ref": hub_ref_of(sale["comment"]),
                    "currency": currencies.get(sale["currency"]),
                    # Tryton shows the total with tax; the hub keeps it and the untaxed one
                    "untaxed_amount": sale["untaxed_amount"],
                    "tax_amount": sale["tax_amount"],
                    "total_amount": sale["total_amount"],
                    "lines": [
                        {
                            "id": l["id"],
                            "product": products.get(l["product"]),
                            "description": l["description"],
                            "quantity": l["quantity"],
                            "unit_price": l["unit_price"],
                            "product_type": kinds.get(l["product"]),
                            "shippable": bool(l["product"]) and kinds.get(l["product"]) != "service",
                        }
                        for l in (lines[i] for i in sale["lines"] if i in lines)
                        if l["type"] == "line"
                    ],
                },
            )
            for sale in sales
        ]

    def _read_shipments(self, ids: list[int]) -> list[SourceRecord]:
        shipments = self.rpc.read(
            "stock.shipment.out",
            ids,
            [
                "number",
                "state",
                "planned_date",
                "effective_date",
                "customer",
                "outgoing_moves",
                "create_date",
                "write_date",
            ],
        )
        moves = {
            m["id"]: m
            for m in self.rpc.read(
                "stock.move",
                [m for s in shipments for m in s["outgoing_moves"]],
                ["product", "quantity", "origin", "state"],
            )
        }
        products = self._lookup("product.product", {m["product"] for m in moves.values()}, "code")
        return [
            SourceRecord(
                external_id=str(s["id"]),
                cursor=_stamp(s),
                data={
                    "id": s["id"],
                    "number": s["number"],
                    "state": s["state"],
                    "planned_date": s["planned_date"],
                    "effective_date": s["effective_date"],
                    "customer": s["customer"],
                    "moves": [
                        {
                            "sale_line": _origin_id(m["origin"], "sale.line"),
                            "product": products.get(m["product"]),
                            "quantity": m["quantity"],
                        }
                        for m in (moves[i] for i in s["outgoing_moves"] if i in moves)
                        if m["state"] != "cancelled"
                    ],
                },
            )
            for s in shipments
        ]

    def _invoices(self, ids: list[int]) -> list[dict[str, Any]]:
        return self.rpc.read(
            "account.invoice",
            ids,
            [
                "number",
                "party",
                "state",
                "invoice_date",
                "currency",
                "untaxed_amount",
                "tax_amount",
                "total_amount",
                "amount_to_pay",
                "lines",
                "lines_to_pay",
                "payment_lines",
                "create_date",
                "write_date",
            ],
        )

    def _read_invoices(self, ids: list[int]) -> list[SourceRecord]:
        invoices = self._invoices(ids)
        # a credit note cancelling an invoice: Tryton counts the invoice paid ("cancel move")
        cancelled_by = {i["id"]: i["cancel_move"] for i in self.rpc.read("account.invoice", ids, ["cancel_move"])}
        lines = {
            l["id"]: l
            for l in self.rpc.read("account.invoice.line", [i for inv in invoices for i in inv["lines"]], ["origin"])
        }
        # a credit note's lines come from the invoice lines they credit: their sale is the order's
        credited_lines = {
            l["id"]: l
            for l in self.rpc.read(
                "account.invoice.line",
                _ids(_origin_id(l["origin"], "account.invoice.line") for l in lines.values()),
                ["origin"],
            )
        }
        for line in lines.values():
            credited = credited_lines.get(_origin_id(line["origin"], "account.invoice.line"))
            if credited is not None:
                line["origin"] = credited["origin"]
        sale_lines = {
            l["id"]: l["sale"]
            for l in self.rpc.read(
                "sale.line", _ids(_origin_id(l["origin"], "sale.line") for l in lines.values()), ["sale"]
            )
        }
        to_pay = {
            m["id"]: m
            for m in self.rpc.read(
                "account.move.line",
                [i for inv in invoices for i in inv["lines_to_pay"]],
                ["maturity_date", "debit", "credit"],
            )
        }
        currencies = self._lookup("currency.currency", {i["currency"] for i in invoices}, "code")
        out = []
        for inv in invoices:
            sales = _ids(
                sale_lines.get(_origin_id(lines[i]["origin"], "sale.line")) for i in inv["lines"] if i in lines
            )
            out.append(
                SourceRecord(
                    external_id=str(inv["id"]),
                    cursor=_stamp(inv),
                    data={
                        "id": inv["id"],
                        "number": inv["number"],
                        "party": inv["party"],
                        "state": inv["state"],
                        "invoice_date": inv["invoice_date"],
                        "currency": currencies.get(inv["currency"]),
                        "total_amount": inv["total_amount"],
                        "untaxed_amount": inv["untaxed_amount"],
                        "tax_amount": inv["tax_amount"],
                        "amount_to_pay": inv["amount_to_pay"],
                        "sale": min(sales) if sales else None,
                        "credit_note": (inv["total_amount"] or Decimal(0)) < 0,
                        "cancelled_by_credit_note": bool(cancelled_by.get(inv["id"])),
                        "maturities": [
                            {
                                "date": m["maturity_date"],
                                "amount": (m["debit"] or Decimal(0)) - (m["credit"] or Decimal(0)),
                            }
                            for m in (to_pay[i] for i in inv["lines_to_pay"] if i in to_pay)
                        ],
                    },
                )
            )
        return out

    def _read_payments(self, ids: list[int]) -> list[SourceRecord]:
        invoices = self._invoices(ids)
        lines = {
            m["id"]: m
            for m in self.rpc.read(
                "account.move.line",
                [i for inv in invoices for i in inv["payment_lines"]],
                ["date", "debit", "credit", "move", "create_date", "write_date"],
            )
        }
        currencies = self._lookup("currency.currency", {i["currency"] for i in invoices}, "code")
        return [
            SourceRecord(
                external_id=str(line["id"]),
                cursor=_stamp(inv),
                data={
                    "id": line["id"],
                    "invoice": inv["id"],
                    "party": inv["party"],
                    "amount": (line["credit"] or Decimal(0)) - (line["debit"] or Decimal(0)),
                    "date": line["date"],
                    "move": line["move"],
                    "currency": currencies.get(inv["currency"]),
                },
            )
            for inv in invoices
            for line in (lines[i] for i in inv["payment_lines"] if i in lines)
        ]
