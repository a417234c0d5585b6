"""What the three systems hold when the demo starts: the story a visitor can follow.

* The **ERP** (Tryton) has eight customers and seven sales, all dated relative to today: a
  draft, a quotation, one confirmed and waiting, one shipped in part (backorder, invoice
  posted), one shipped, invoiced and paid, and a project sale (``PRJ-…``, invoiced by
  finance) shipped 45 days ago.
* The **legacy CRM** has 30 accounts — the ERP's customers typed the sales rep's way
  ("MUELLER MASCHINENBAU", "jansen techniek bv"), Chinese and Japanese companies entered
  twice — opportunities in every stage, service cases and six orders entered this week, which
  the hub carries to the ERP.
* **Finance** knows Müller and Dupont under their own spellings; it billed the project's
  signing instalment (paid) and its delivery instalment, due 15 days ago and still unpaid:
  the late stage payment ``/finance/receivables`` shows.

Müller Maschinenbau is in all three, with the same tax id: one golden customer.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

from hub.demo.erp_rpc import Rpc
from simulators.finance import Books, seed_demo
from simulators.legacy_crm import CrmStore, demo_seed

#: key, name, tax id, e-mail, phone, street, postcode, city, country
ERP_CUSTOMERS = [
    (
        "mueller",
        "Müller Maschinenbau GmbH",
        "DE136695976",
        "einkauf@mueller-maschinenbau.example",
        "+49 30 901820",
        "Industriestraße 12",
        "70565",
        "Stuttgart",
        "DE",
    ),
    (
        "dupont",
        "Dupont Industrie SARL",
        "FR40303265045",
        "achats@dupont-industrie.example",
        "+33 1 42 68 53 00",
        "14 rue de la République",
        "69002",
        "Lyon",
        "FR",
    ),
    (
        "jansen",
        "Jansen Techniek B.V.",
        "NL004495445B01",
        "inkoop@jansen-techniek.example",
        "+31 20 794 0100",
        "Keizersgracht 100",
        "1015 CV",
        "Amsterdam",
        "NL",
    ),
    (
        "peeters",
        "Peeters & Zonen NV",
        "BE0428759497",
        "info@peeters-zonen.example",
        "+32 2 511 13 28",
        "Grote Markt 1",
        "1000",
        "Brussel",
        "BE",
    ),
    (
        "smith",
        "Smith Engineering Ltd",
        None,
        "orders@smith-engineering.example",
        None,
        "1 Canal Street",
        "M1 3HE",
        "Manchester",
        "GB",
    ),
    (
        "kawasaki",
        "Kawasaki Robotics (Europe)",
        "DE811176048",
        "info@kawasaki-robotics.example",
        "+49 2131 34260",
        "Im Taubental 32",
        "41468",
        "Neuss",
        "DE",
    ),
    (
        "rossi",
        "ROSSI MECCANICA SPA",
        "IT00743110157",
        None,
        "+39 02 8901 2345",
        "Via Torino 40",
        "20123",
        "Milano",
        "IT",
    ),
    (
        "hansen",
        "Hansen Marine",
        "DK13585628",
        "salg@hansen-marine.example",
        None,
        "Nyhavn 20",
        "1051",
        "Copenhagen",
        "DK",
    ),
]
PROJECT_REFERENCE = "PRJ-MUE-2026-07"
CRM_ORDERS = 6  # entered in the CRM this week; each becomes a sale in the ERP (~1 s each)


def _create(values: list[dict[str, Any]]) -> list[Any]:
    return [["create", values]]


# --------------------------------------------------------------------------- ERP


def seed_erp(rpc: Rpc, setup: dict[str, Any], today: dt.date | None = None) -> dict[str, Any]:
    """Customers and sales at every stage; returns the sale numbers by role."""
    today = today or dt.date.today()

    def ago(days: int) -> dt.date:
        return today - dt.timedelta(days=days)

    parties = dict(
        zip(
            [c[0] for c in ERP_CUSTOMERS],
            rpc.create("party.party", [_party(row, setup["company"]["countries"]) for row in ERP_CUSTOMERS]),
            strict=True,
        )
    )
    addresses = {
        key: row["addresses"][0]
        for key, row in zip(parties, rpc.read("party.party", list(parties.values()), ["addresses"]), strict=True)
    }
    products = setup["products"]

    def sale(key: str, reference: str, lines: dict[str, float], days_ago: int, manual: bool = False) -> int:
        [sale_id] = rpc.create(
            "sale.sale",
            [
                {
                    "party": parties[key],
                    "invoice_address": addresses[key],
                    "shipment_address": addresses[key],
                    "company": setup["company"]["id"],
                    "currency": setup["company"]["currency_id"],
                    "payment_term": setup["payment_term"]["id"],
                    "warehouse": setup["warehouse_id"],
                    "invoice_method": "manual" if manual else "fulfillment",
                    "shipment_method": "order",
                    "sale_date": ago(days_ago),
                    "reference": reference,
                    "lines": _create(
                        [
                            {
                                "type": "line",
                                "product": products[code]["product_id"],
                                "quantity": qty,
                                "unit": setup["unit_id"],
                                "unit_price": Decimal(products[code]["list_price"]),
                                "description": products[code]["name"],
                            }
                            for code, qty in lines.items()
                        ]
                    ),
                }
            ],
        )
        return sale_id

    sales = {
        "partial": sale("mueller", "PO-MUE-4711", {"P-100": 10, "P-200": 4}, 20),
        "paid": sale("dupont", "PO-DUP-0815", {"P-200": 2, "P-300": 25}, 40),
        "waiting": sale("smith", "PO-SMI-0099", {"P-100": 2}, 6),
        "quotation": sale("jansen", "PO-JAN-0042", {"P-300": 100}, 3),
        "draft": sale("peeters", "", {"P-200": 12}, 1),
        "project": sale("mueller", PROJECT_REFERENCE, {"P-100": 8}, 75, manual=True),
        "kawasaki": sale("kawasaki", "KRE-55012", {"P-100": 1, "P-300": 10}, 30),
    }
    rpc.button("sale.sale", "quote", [s for k, s in sales.items() if k != "draft"], skip_warnings=True)
    rpc.button(
        "sale.sale", "confirm", [s for k, s in sales.items() if k not in ("draft", "quotation")], skip_warnings=True
    )
    _ship(rpc, sales["partial"], ago(10), only={products["P-100"]["product_id"]: 6.0})  # 6 of 10 pumps: backorder
    _ship(rpc, sales["paid"], ago(35))
    _ship(rpc, sales["project"], ago(45))
    _ship(rpc, sales["kawasaki"], ago(25))
    for key, dated in (("paid", ago(35)), ("kawasaki", ago(25)), ("partial", ago(10))):  # numbered by date
        [invoice] = rpc.read("sale.sale", [sales[key]], ["invoices"])[0]["invoices"]
        rpc.write("account.invoice", [invoice], {"invoice_date": dated})
        rpc.button("account.invoice", "post", [invoice], skip_warnings=True)
        if key == "paid":
            _pay(rpc, invoice, setup["payment_method"]["id"], ago(3))
    numbers = {row["id"]: row["number"] for row in rpc.read("sale.sale", list(sales.values()), ["number"])}
    return {key: numbers[sale_id] for key, sale_id in sales.items()}


def _party(row: tuple[Any, ...], countries: dict[str, int]) -> dict[str, Any]:
    _key, name, tax_id, email, phone, street, postcode, city, country = row
    mechanisms = [{"type": t, "value": v} for t, v in (("email", email), ("phone", phone)) if v]
    return {
        "name": name,
        "contact_mechanisms": _create(mechanisms),
        "addresses": _create(
            [{"street": street, "postal_code": postcode, "city": city, "country": countries[country]}]
        ),
        "identifiers": _create([{"type": "eu_vat", "code": tax_id}] if tax_id else []),
    }


def _ship(rpc: Rpc, sale_id: int, on: dt.date, only: dict[int, float] | None = None) -> None:
    """Ship the sale's (first) shipment on ``on``; ``only`` product → quantity ships part of it."""
    [shipment] = rpc.read("sale.sale", [sale_id], ["shipments"])[0]["shipments"]
    if only:
        [row] = rpc.read("stock.shipment.out", [shipment], ["inventory_moves"])
        for move in rpc.read("stock.move", row["inventory_moves"], ["product"]):
            if move["product"] in only:
                rpc.write("stock.move", [move["id"]], {"quantity": only[move["product"]]})
    rpc.write("stock.shipment.out", [shipment], {"effective_date": on})  # `do` keeps a date set before
    for step in ("assign_try", "pick", "pack", "do"):
        rpc.button("stock.shipment.out", step, [shipment], skip_warnings=True)


def _pay(rpc: Rpc, invoice: int, method: int, on: dt.date) -> None:
    result = rpc.wizard(
        "account.invoice.pay",
        [("choice", {"payment_method": method, "date": on, "description": "Bank transfer"})],
        active_model="account.invoice",
        active_ids=[invoice],
    )["_result"]
    if result.get("view"):
        raise RuntimeError(f"Tryton's pay wizard asked for more than a full payment: {result['view']}")


# --------------------------------------------------------------------------- CRM


#: CRM accounts planted on purpose, so that each screen has something to show: a pair the
#: matching engine asks a steward about (same name and city, postcodes and streets differ:
#: score 5.0, between review 4.0 and link 7.0), a tax id failing its check digit (a data-
#: quality finding; the record is taken in and flagged) and an account without any usable
#: name or identifier (a dead letter of the CRM sync).
REVIEW_PAIR = ("C09001", "C09002")
BAD_TAX_ID = ("C09003", "DE123456789")
DEAD_LETTER = "C09004"
_PLANTED_ACCOUNTS: list[dict[str, Any]] = [
    {
        "id": REVIEW_PAIR[0],
        "name": "Krause Hydraulik GmbH",
        "email1": "info@krause-hydraulik.example",
        "phone_office": "+49 40 3280 100",
        "billing_address_street": "Spaldingstraße 64",
        "billing_address_city": "Hamburg",
        "billing_address_postalcode": "20097",
        "billing_address_country": "DE",
    },
    {
        "id": REVIEW_PAIR[1],
        "name": "Krause Hydraulik",
        "billing_address_street": "Billstraße 12",
        "billing_address_city": "Hamburg",
        "billing_address_postalcode": "20539",
        "billing_address_country": "DE",
    },
    {
        "id": BAD_TAX_ID[0],
        "name": "Brandt Feinmechanik GmbH",
        "vat_id_c": BAD_TAX_ID[1],
        "email1": "service@brandt-feinmechanik.example",
        "phone_office": "+49 711 400 2200",
        "billing_address_street": "Motorstraße 8",
        "billing_address_city": "Stuttgart",
        "billing_address_postalcode": "70499",
        "billing_address_country": "DE",
    },
    {"id": DEAD_LETTER, "name": "???"},
]


def crm_store(user: str, password: str, today: dt.date | None = None) -> CrmStore:
    """The CRM's built-in demo data, with its first orders dated this week, and the accounts
    planted on purpose (:data:`_PLANTED_ACCOUNTS`)."""
    today = today or dt.date.today()
    data = demo_seed()
    data["accounts"] = [*data["accounts"], *(dict(a) for a in _PLANTED_ACCOUNTS)]
    data["orders"] = data["orders"][:CRM_ORDERS]
    for n, order in enumerate(data["orders"]):
        order["order_date"] = (today - dt.timedelta(days=2 + 2 * n)).isoformat()
        order["status"] = "Confirmed"
    store = CrmStore(users={user: password})
    store.seed(**cast(dict[str, Any], data))
    return store


# --------------------------------------------------------------------------- finance


def seed_finance(books: Books, project_number: str, today: dt.date | None = None) -> dict[str, Any]:
    """The finance system's demo organisation plus the project's two stage invoices: signing
    (30 %, paid) and delivery (60 %, due 15 days ago, unpaid)."""
    today = today or dt.date.today()
    seed = seed_demo(books)
    mueller = seed["contacts"]["mueller"]["ContactID"]

    def invoice(number: str, stage: str, amount: str, issued: int, due: int) -> str:
        [row] = books.save(
            "Invoices",
            [
                {
                    "Type": "ACCREC",
                    "Contact": {"ContactID": mueller},
                    "InvoiceNumber": number,
                    "Status": "AUTHORISED",
                    "Reference": f"{project_number}/{stage}",
                    "CurrencyCode": "EUR",
                    "Date": (today - dt.timedelta(days=issued)).isoformat(),
                    "DueDate": (today - dt.timedelta(days=due)).isoformat(),
                    "LineItems": [
                        {
                            "Description": f"{PROJECT_REFERENCE}: {stage} instalment",
                            "Quantity": 1,
                            "UnitAmount": amount,
                            "AccountCode": "200",
                            "TaxType": "NONE",
                        }
                    ],
                }
            ],
        )
        return str(row["InvoiceID"])

    signing = invoice("INV-3001", "signing", "3000.00", 74, 60)
    books.save(
        "Payments",
        [
            {
                "Invoice": {"InvoiceID": signing},
                "Account": {"Code": "090"},
                "Amount": "3000.00",
                "Date": (today - dt.timedelta(days=62)).isoformat(),
                "Reference": "BANK-3001",
            }
        ],
    )
    delivery = invoice("INV-3002", "delivery", "6000.00", 45, 15)
    return {**seed, "project": {"signing": signing, "delivery": delivery}}
