"""The test suite's data on top of the setup (``erp_setup``): five customers and three sales.

* customers ``mueller``, ``dupont``, ``jansen``, ``peeters``, ``smith`` (the demo's story has
  the same five companies; Smith has no phone and no tax number);
* sale ``partial``: Müller's 10 pumps and 4 valves, 6 pumps shipped (a backorder of 4), the
  invoice posted; sale ``paid``: Dupont's, shipped, invoiced and paid in full; sale
  ``draft``: Jansen's, never quoted. Everything is dated today.

:func:`scenario` returns, for ``seed.json``::

    {"customers": {"mueller": {"id", "code", "name", "address_id", "email", "phone",
                               "tax_identifier", "tax_identifier_type"}, ...},
     "sales": {"partial": {<sale>, "shipment": <shipment done>, "backorder": <waiting>,
                           "delivered": {"P-100": 6.0, "P-200": 4.0}, "backordered": {"P-100": 4.0},
                           "invoice": <invoice posted>},
               "paid": {<sale done>, "shipment", "invoice": <paid>, "payment": {"amount", "date",
                        "payment_method_id", "line_ids", "move_ids"}},
               "draft": <sale>}}

    <sale>     = {"id", "number", "reference", "party_id", "state", "shipment_state",
                  "invoice_state", "total_amount", "shipment_ids", "invoice_ids", "lines"}
    <shipment> = {"id", "number", "state", "moves": [{"id", "product_id", "quantity"}]}
    <invoice>  = {"id", "number", "state", "invoice_date", "total_amount", "amount_to_pay",
                  "maturity_dates", "payment_line_ids"}

Dates are ISO strings, amounts decimal strings. ``confirm`` and a shipment's ``do`` queue
``sale.process``; without a queue worker it runs right after the request, so the shipment and
the invoice exist when the call returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from hub.demo.erp_rpc import Rpc
from hub.demo.erp_setup import iso, one2many

CUSTOMERS: list[dict[str, Any]] = [
    # the key names the customer in seed.json; tax = (party.identifier type, code)
    {
        "key": "mueller",
        "name": "Müller Maschinenbau GmbH",
        "street": "Industriestraße 12",
        "postal_code": "70565",
        "city": "Stuttgart",
        "country": "DE",
        "email": "einkauf@mueller-maschinenbau.example",
        "phone": "+49 30 901820",
        "tax": ("eu_vat", "DE136695976"),
    },
    {
        "key": "dupont",
        "name": "Dupont Industrie SARL",
        "street": "14 rue de la République",
        "postal_code": "69002",
        "city": "Lyon",
        "country": "FR",
        "email": "achats@dupont-industrie.example",
        "phone": "+33 1 42 68 53 00",
        "tax": ("eu_vat", "FR40303265045"),
    },
    {
        "key": "jansen",
        "name": "Jansen Techniek B.V.",
        "street": "Keizersgracht 100",
        "postal_code": "1015 CV",
        "city": "Amsterdam",
        "country": "NL",
        "email": "inkoop@jansen-techniek.example",
        "phone": "+31 20 794 0100",
        "tax": ("eu_vat", "NL004495445B01"),
    },
    {
        "key": "peeters",
        "name": "Peeters & Zonen NV",
        "street": "Grote Markt 1",
        "postal_code": "1000",
        "city": "Brussel",
        "country": "BE",
        "email": "info@peeters-zonen.example",
        "phone": "+32 2 511 13 28",
        "tax": ("eu_vat", "BE0428759497"),
    },
    {
        "key": "smith",
        "name": "Smith Engineering Ltd",
        "street": "1 Canal Street",
        "postal_code": "M1 3HE",
        "city": "Manchester",
        "country": "GB",
        "email": "orders@smith-engineering.example",
        "phone": None,
        "tax": None,
    },
]


def _party_values(data: dict[str, Any], countries: dict[str, int]) -> dict[str, Any]:
    mechanisms = [{"type": "email", "value": data["email"]}]
    if data.get("phone"):
        mechanisms.append({"type": "phone", "value": data["phone"]})
    values: dict[str, Any] = {
        "name": data["name"],
        "addresses": one2many(
            [
                {
                    "street": data["street"],
                    "postal_code": data["postal_code"],
                    "city": data["city"],
                    "country": countries[data["country"]],
                }
            ]
        ),
        "contact_mechanisms": one2many(mechanisms),
    }
    if data.get("tax"):
        kind, code = data["tax"]
        values["identifiers"] = one2many([{"type": kind, "code": code}])
    return values


def _create_customers(rpc: Rpc, countries: dict[str, int]) -> dict[str, dict[str, Any]]:
    ids = rpc.create("party.party", [_party_values(c, countries) for c in CUSTOMERS])
    rows = rpc.read("party.party", ids, ["code", "name", "addresses", "contact_mechanisms", "identifiers"])
    customers = {}
    for data, row in zip(CUSTOMERS, rows, strict=True):
        # what Tryton stored (it normalises phone numbers and e-mail addresses)
        mechanisms = {
            m["type"]: m["value"]
            for m in rpc.read("party.contact_mechanism", row["contact_mechanisms"], ["type", "value"])
        }
        identifiers = rpc.read("party.identifier", row["identifiers"], ["type", "code"])
        customers[data["key"]] = {
            "id": row["id"],
            "code": row["code"],
            "name": row["name"],
            "address_id": row["addresses"][0],
            "email": mechanisms.get("email"),
            "phone": mechanisms.get("phone"),
            "tax_identifier": identifiers[0]["code"] if identifiers else None,
            "tax_identifier_type": identifiers[0]["type"] if identifiers else None,
        }
    return customers


# --------------------------------------------------------------------------- scenario


def sale_values(
    customer: dict[str, Any],
    lines: Sequence[tuple[dict[str, Any], float]],
    setup: dict[str, Any],
    *,
    reference: str | None = None,
    today: dt.date,
) -> dict[str, Any]:
    return {
        "party": customer["id"],
        "invoice_address": customer["address_id"],
        "shipment_address": customer["address_id"],
        "company": setup["company"]["id"],
        "currency": setup["company"]["currency_id"],
        "payment_term": setup["payment_term"]["id"],
        "warehouse": setup["warehouse_id"],
        "invoice_method": "fulfillment",
        "shipment_method": "order",
        "sale_date": today,
        "reference": reference,
        "lines": one2many(
            [
                {
                    "type": "line",
                    "product": product["product_id"],
                    "quantity": quantity,
                    "unit": setup["unit_id"],
                    "unit_price": Decimal(product["list_price"]),
                    "description": product["name"],
                }
                for product, quantity in lines
            ]
        ),
    }


_SALE_FIELDS = [
    "number",
    "reference",
    "party",
    "state",
    "shipment_state",
    "invoice_state",
    "shipments",
    "invoices",
    "lines",
    "total_amount",
]


def ship(rpc: Rpc, shipment_ids: list[int]) -> None:
    """Walk customer shipments through assign_try -> pick -> pack -> do."""
    for step in ("assign_try", "pick", "pack", "do"):
        rpc.button("stock.shipment.out", step, shipment_ids, skip_warnings=True)


def _pay(rpc: Rpc, invoice_id: int, payment_method_id: int, today: dt.date) -> dict:
    seen = rpc.wizard(
        "account.invoice.pay",
        [
            (
                "choice",
                {
                    "payment_method": payment_method_id,
                    "date": today,
                    "description": "Bank transfer",
                },
            )
        ],
        active_model="account.invoice",
        active_ids=[invoice_id],
    )
    result = seen["_result"]
    if result.get("view"):  # "ask": partial payment / write-off: not what we want here
        raise RuntimeError(f"the pay wizard asked for more: {result['view']['defaults']!r}")
    return seen["start"]


def pay_in_full(rpc: Rpc, invoice: dict[str, Any], payment_method_id: int, today: dt.date) -> None:
    """The pay wizard with the start form filled in (one call less than :func:`_pay`)."""
    context = {
        "active_model": "account.invoice",
        "active_id": invoice["id"],
        "active_ids": [invoice["id"]],
    }
    session_id, _start, _end = rpc.call("wizard.account.invoice.pay.create", context=context)
    try:
        form = {
            "payee": invoice["party"],
            "payees": [invoice["party"]],
            "company": invoice["company"],
            "currency": invoice["currency"],
            "invoice_account": invoice["account"],
            "amount": invoice["amount_to_pay"],
            "payment_method": payment_method_id,
            "date": today,
            "description": "Bank transfer",
        }
        result = rpc.call(
            "wizard.account.invoice.pay.execute",
            session_id,
            {"start": form},
            "choice",
            context=context,
        )
        if result.get("view"):
            raise RuntimeError(f"the pay wizard asked for more: {result['view']['defaults']!r}")
    finally:
        rpc.call("wizard.account.invoice.pay.delete", session_id, context=context)


def _scenario(rpc: Rpc, setup: dict[str, Any], today: dt.date) -> dict[str, Any]:
    products = setup["products"]
    customers = setup["customers"]
    p100, p200, p300 = (products[c] for c in ("P-100", "P-200", "P-300"))

    sale_ids = rpc.create(
        "sale.sale",
        [
            sale_values(
                customers["mueller"],
                [(p100, 10.0), (p200, 4.0)],
                setup,
                reference="PO-MUE-4711",
                today=today,
            ),
            sale_values(
                customers["dupont"],
                [(p200, 2.0), (p300, 25.0)],
                setup,
                reference="PO-DUP-0815",
                today=today,
            ),
            sale_values(customers["jansen"], [(p300, 100.0)], setup, reference="PO-JAN-0042", today=today),
        ],
    )
    partial_id, paid_id, draft_id = sale_ids
    rpc.button("sale.sale", "quote", [partial_id, paid_id])
    rpc.button("sale.sale", "confirm", [partial_id, paid_id])  # queues process: runs now

    # -- partial delivery: 6 of the 10 pumps; the 4 valves in full
    [partial] = rpc.read("sale.sale", [partial_id], _SALE_FIELDS)
    [shipment_id] = partial["shipments"]
    [shipment] = rpc.read("stock.shipment.out", [shipment_id], ["inventory_moves"])
    moves = rpc.read("stock.move", shipment["inventory_moves"], ["product", "quantity"])
    [pump_move] = [m for m in moves if m["product"] == p100["product_id"]]
    rpc.write("stock.move", [pump_move["id"]], {"quantity": 6.0})
    ship(rpc, [shipment_id])
    [partial] = rpc.read("sale.sale", [partial_id], _SALE_FIELDS)
    backorders = [s for s in partial["shipments"] if s != shipment_id]
    if len(backorders) != 1 or len(partial["invoices"]) != 1:
        raise RuntimeError(f"partial shipment did not give a backorder and an invoice: {partial}")
    [partial_invoice_id] = partial["invoices"]
    rpc.button("account.invoice", "post", [partial_invoice_id], skip_warnings=True)

    # -- full delivery, invoice posted and paid
    [paid] = rpc.read("sale.sale", [paid_id], _SALE_FIELDS)
    [paid_shipment_id] = paid["shipments"]
    ship(rpc, [paid_shipment_id])
    [paid] = rpc.read("sale.sale", [paid_id], _SALE_FIELDS)
    [paid_invoice_id] = paid["invoices"]
    rpc.button("account.invoice", "post", [paid_invoice_id], skip_warnings=True)
    pay_form = _pay(rpc, paid_invoice_id, setup["payment_method"]["id"], today)

    partial_invoice, paid_invoice = (_invoice_info(rpc, i) for i in (partial_invoice_id, paid_invoice_id))
    if paid_invoice["state"] != "paid" or partial_invoice["state"] != "posted":
        raise RuntimeError(f"unexpected invoice states: {partial_invoice!r} {paid_invoice!r}")
    done_shipment, backorder, paid_shipment = (
        _shipment_info(rpc, i) for i in (shipment_id, backorders[0], paid_shipment_id)
    )
    partial, paid, draft = (_sale_info(rpc, i) for i in (partial_id, paid_id, draft_id))
    payment_lines = rpc.read("account.move.line", paid_invoice["payment_line_ids"], ["debit", "credit", "date", "move"])
    return {
        "partial": {
            **partial,
            "shipment": done_shipment,
            "backorder": backorder,
            "delivered": {"P-100": 6.0, "P-200": 4.0},
            "backordered": {"P-100": 4.0},
            "invoice": partial_invoice,
        },
        "paid": {
            **paid,
            "shipment": paid_shipment,
            "invoice": paid_invoice,
            "payment": {
                "amount": iso(pay_form["amount"]),
                "date": today.isoformat(),
                "payment_method_id": setup["payment_method"]["id"],
                "line_ids": [line["id"] for line in payment_lines],
                "move_ids": sorted({line["move"] for line in payment_lines}),
            },
        },
        "draft": draft,
    }


def _sale_info(rpc: Rpc, sale_id: int) -> dict[str, Any]:
    [sale] = rpc.read("sale.sale", [sale_id], _SALE_FIELDS)
    lines = rpc.read("sale.line", sale["lines"], ["product", "quantity", "unit_price"])
    return {
        "id": sale["id"],
        "number": sale["number"],
        "reference": sale["reference"],
        "party_id": sale["party"],
        "state": sale["state"],
        "shipment_state": sale["shipment_state"],
        "invoice_state": sale["invoice_state"],
        "total_amount": iso(sale["total_amount"]),
        "shipment_ids": sale["shipments"],
        "invoice_ids": sale["invoices"],
        "lines": [{k: iso(v) for k, v in line.items()} for line in lines],
    }


def _shipment_info(rpc: Rpc, shipment_id: int) -> dict[str, Any]:
    [shipment] = rpc.read("stock.shipment.out", [shipment_id], ["number", "state", "outgoing_moves"])
    moves = rpc.read("stock.move", shipment["outgoing_moves"], ["product", "quantity"])
    return {
        "id": shipment["id"],
        "number": shipment["number"],
        "state": shipment["state"],
        "moves": [{"id": m["id"], "product_id": m["product"], "quantity": m["quantity"]} for m in moves],
    }


def _invoice_info(rpc: Rpc, invoice_id: int) -> dict[str, Any]:
    [invoice] = rpc.read(
        "account.invoice",
        [invoice_id],
        [
            "number",
            "state",
            "total_amount",
            "amount_to_pay",
            "invoice_date",
            "lines_to_pay",
            "payment_lines",
        ],
    )
    to_pay = rpc.read("account.move.line", invoice["lines_to_pay"], ["maturity_date"])
    return {
        "id": invoice["id"],
        "number": invoice["number"],
        "state": invoice["state"],
        "invoice_date": iso(invoice["invoice_date"]),
        "total_amount": iso(invoice["total_amount"]),
        "amount_to_pay": iso(invoice["amount_to_pay"]),
        "maturity_dates": [iso(line["maturity_date"]) for line in to_pay],
        "payment_line_ids": invoice["payment_lines"],
    }


def scenario(rpc: Rpc, setup: dict[str, Any], today: dt.date | None = None) -> dict[str, Any]:
    """The customers and the three sales; returns their ids (see the module's docstring)."""
    today = today or dt.date.today()
    customers = _create_customers(rpc, setup["company"]["countries"])
    return {"customers": customers, "sales": _scenario(rpc, {**setup, "customers": customers}, today)}
