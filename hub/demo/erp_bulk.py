"""The seed's scale: ``parties`` more customers and ``sales`` more sales in a mix of states,
on top of the scenario (``erp_scenario``), for the benchmarks.

``erp.build(root, Scale(parties=2000, sales=5000))`` runs it once and caches the result apart
from the small database the tests use (2,000 parties / 5,000 sales took 32 min to build, on 2
shared cores). It runs on a server whose queued tasks are parked (``[queue] worker = True``
and no worker): sales and invoices are processed here explicitly, in batches, and no invoice
report is rendered.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import sys
import time
from typing import Any

from hub.demo.erp_rpc import Rpc, TrytonError
from hub.demo.erp_scenario import pay_in_full, sale_values, ship
from hub.demo.erp_setup import chunks, one2many

BULK_CITIES = {
    "DE": [("10115", "Berlin"), ("20095", "Hamburg"), ("80331", "München"), ("50667", "Köln")],
    "FR": [("75001", "Paris"), ("69001", "Lyon"), ("13001", "Marseille")],
    "NL": [("1011 AB", "Amsterdam"), ("3011 AA", "Rotterdam")],
    "BE": [("1000", "Brussel"), ("2000", "Antwerpen")],
    "AT": [("1010", "Wien"), ("8010", "Graz")],
    "GB": [("SW1A 1AA", "London"), ("M1 1AE", "Manchester")],
}
BULK_WORDS = [
    "Nord",
    "Süd",
    "Alpen",
    "Rhein",
    "Atlas",
    "Delta",
    "Orion",
    "Kessel",
    "Hansa",
    "Polar",
    "Vector",
    "Linde",
    "Falke",
    "Castor",
    "Merkur",
    "Zenit",
    "Brenner",
]
BULK_KINDS = ["GmbH", "AG", "KG", "SARL", "SA", "B.V.", "NV", "Ltd", "GmbH & Co. KG"]
BULK_BATCH = 200  # records per create / button call: keeps each request well under 60 s

# Mix of the bulk sales, by index modulo 20.
BULK_MIX = [
    *["draft"] * 2,
    *["quotation"] * 2,
    *["confirmed"] * 3,  # processing, shipment waiting
    *["partial"] * 2,  # partial shipment done + backorder, invoice posted
    *["shipped"] * 6,  # shipped in full, invoice posted
    *["paid"] * 5,  # shipped in full, invoice posted and paid
]


def _de_vat(rng: random.Random) -> str:
    from stdnum.iso7064 import mod_11_10

    body = str(rng.randint(10_000_000, 99_999_999))
    return "DE" + body + mod_11_10.calc_check_digit(body)


def _bulk_party(index: int, rng: random.Random, countries: dict[str, int]) -> dict[str, Any]:
    country = rng.choice(sorted(BULK_CITIES))
    postal_code, city = rng.choice(BULK_CITIES[country])
    name = f"{rng.choice(BULK_WORDS)} {rng.choice(BULK_WORDS)}werk {index:05d} {rng.choice(BULK_KINDS)}"
    slug = f"customer{index:05d}"
    values: dict[str, Any] = {
        "name": name,
        "addresses": one2many(
            [
                {
                    "street": f"{rng.choice(BULK_WORDS)}straße {rng.randint(1, 200)}",
                    "postal_code": postal_code,
                    "city": city,
                    "country": countries[country],
                }
            ]
        ),
        "contact_mechanisms": one2many(
            [
                {"type": "email", "value": f"{slug}@bulk.example"},
                {"type": "phone", "value": f"+49 30 {rng.randint(2000000, 9999999)}"},
            ]
        ),
    }
    if country == "DE" and index % 2 == 0:
        values["identifiers"] = one2many([{"type": "eu_vat", "code": _de_vat(rng)}])
    return values


# account.invoice._check_tax_identifiers: posting an invoice whose party's eu_vat number
# was never checked on VIES raises the UserWarning Warning.format(VAT_WARNING, [identifier]).
VAT_WARNING = "account.invoice eu_vat valid"


def skip_vat_warnings(rpc: Rpc) -> list[int]:
    """Answer "Always" to the unchecked-VAT warning of every unchecked identifier at once.

    The warning is per identifier and raised by the first one a post meets, so skipping
    it call by call (``skip_warnings``) re-runs a batch of posts once per identifier in
    it, and a skip without ``always`` is spent by the first post that uses it.  The name
    is what ``res.user.warning.format`` builds: md5 of ``"party.identifier,<id>"``, a dot,
    the warning.  Returns the ids of the ``res.user.warning`` records (to delete them).
    """
    identifier_ids = rpc.search(
        "party.identifier",
        [
            ("type", "=", "eu_vat"),
            ("eu_vat_valid", "=", False),
            ("eu_vat_validated_at", "=", None),
        ],
    )
    values = [
        {
            "user": rpc.user_id,
            "name": hashlib.md5(f"party.identifier,{i}".encode()).hexdigest() + "." + VAT_WARNING,
            "always": True,
        }
        for i in identifier_ids
    ]
    return [w for chunk in chunks(values, 1000) for w in rpc.create("res.user.warning", chunk)]


def bulk(
    rpc: Rpc,
    setup: dict[str, Any],
    *,
    parties: int,
    sales: int,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Add ``parties`` customers and ``sales`` sales in the BULK_MIX of states.

    ``setup`` is what :func:`seed` returned.  Meant for a server whose queued tasks are
    parked (``[queue] worker = True`` and no worker): sales and invoices are processed
    here explicitly, in batches, and no invoice report is rendered.  On a normal server
    it works too, only slower (every request also runs its queued tasks).
    """
    today = today or dt.date.today()
    rng = random.Random(20_260_101)
    timings: dict[str, float] = {}
    began = time.monotonic()

    party_ids: list[int] = []
    values = [_bulk_party(i, rng, setup["company"]["countries"]) for i in range(parties)]
    for chunk in chunks(values, BULK_BATCH):
        party_ids.extend(rpc.create("party.party", chunk))
    customers = []
    for chunk in chunks(party_ids, 1000):
        for row in rpc.read("party.party", chunk, ["addresses"]):
            customers.append({"id": row["id"], "address_id": row["addresses"][0]})
    if not customers:
        customers = list(setup["customers"].values())
    # With parked tasks the VIES check queued on each eu_vat identifier does not run, and
    # posting an invoice to a party whose number is not "valid" raises a warning (per
    # party: the posts would be retried again and again).  Run the check now (without
    # the optional zeep package stdnum cannot ask VIES and Tryton takes the number as
    # valid; with zeep but no network it fails: see _skip_vat_warnings).
    identifier_ids = rpc.search("party.identifier", [("eu_vat_valid", "=", False)])
    for chunk in chunks(identifier_ids, 1000):
        try:
            rpc.button("party.identifier", "check_vies_button", chunk)
        except TrytonError as exc:  # VIES unavailable: the posts below skip the warnings
            print(f"erp_bulk: VIES check failed: {exc}", file=sys.stderr)
            break
    timings["parties"] = time.monotonic() - began

    began = time.monotonic()
    products = list(setup["products"].values())
    plan = [BULK_MIX[i % len(BULK_MIX)] for i in range(sales)]
    planned: list[dict[str, Any]] = []
    for i, kind in enumerate(plan):
        lines = [
            (product, float(rng.randint(2 if kind == "partial" else 1, 20)))
            for product in rng.sample(products, rng.randint(1, len(products)))
        ]
        planned.append(sale_values(rng.choice(customers), lines, setup, reference=f"BULK-{i:05d}", today=today))
    sale_ids: list[int] = []
    for chunk in chunks(planned, BULK_BATCH):
        sale_ids.extend(rpc.create("sale.sale", chunk))
    by_kind: dict[str, list[int]] = {}
    for sale_id, kind in zip(sale_ids, plan, strict=True):
        by_kind.setdefault(kind, []).append(sale_id)
    timings["sales_create"] = time.monotonic() - began

    began = time.monotonic()
    to_quote = [s for s, k in zip(sale_ids, plan, strict=True) if k != "draft"]
    for chunk in chunks(to_quote, BULK_BATCH):
        rpc.button("sale.sale", "quote", chunk)
    to_confirm = [s for s, k in zip(sale_ids, plan, strict=True) if k not in ("draft", "quotation")]
    for chunk in chunks(to_confirm, BULK_BATCH):
        rpc.button("sale.sale", "confirm", chunk)
        rpc.button("sale.sale", "process", chunk)  # creates the shipments
    timings["sales_confirm"] = time.monotonic() - began

    began = time.monotonic()
    to_ship = by_kind.get("partial", []) + by_kind.get("shipped", []) + by_kind.get("paid", [])
    shipment_of: dict[int, int] = {}
    for chunk in chunks(to_ship, 1000):
        for row in rpc.read("sale.sale", chunk, ["shipments"]):
            shipment_of[row["id"]] = row["shipments"][0]
    partial_shipments = [shipment_of[s] for s in by_kind.get("partial", [])]
    for chunk in chunks(partial_shipments, 1000):
        shipments = rpc.read("stock.shipment.out", chunk, ["inventory_moves"])
        moves = {
            m["id"]: m
            for m in rpc.read("stock.move", [i for s in shipments for i in s["inventory_moves"]], ["quantity"])
        }
        writes: list[Any] = []
        for shipment in shipments:
            move = max((moves[i] for i in shipment["inventory_moves"]), key=lambda m: m["quantity"])
            writes += [[move["id"]], {"quantity": float(move["quantity"] // 2)}]
        rpc.call("model.stock.move.write", *writes)
    for sale_chunk in chunks(to_ship, BULK_BATCH):
        ship(rpc, [shipment_of[s] for s in sale_chunk])
        rpc.button("sale.sale", "process", sale_chunk)  # backorders and invoices
    timings["shipments"] = time.monotonic() - began

    began = time.monotonic()
    invoice_of: dict[int, int] = {}
    for chunk in chunks(to_ship, 1000):
        for row in rpc.read("sale.sale", chunk, ["invoices"]):
            invoice_of[row["id"]] = row["invoices"][0]
    invoices = [invoice_of[s] for s in to_ship]
    vat_warnings = skip_vat_warnings(rpc)
    for chunk in chunks(invoices, BULK_BATCH):
        rpc.button("account.invoice", "post", chunk, skip_warnings=True)
    rpc.delete("res.user.warning", vat_warnings)
    timings["invoices_post"] = time.monotonic() - began

    began = time.monotonic()
    paid_sales = by_kind.get("paid", [])
    paid = [invoice_of[s] for s in paid_sales]
    for chunk in chunks(paid, 1000):
        for invoice in rpc.read(
            "account.invoice",
            chunk,
            ["party", "company", "currency", "account", "amount_to_pay"],
        ):
            pay_in_full(rpc, invoice, setup["payment_method"]["id"], today)
    for chunk in chunks(paid, BULK_BATCH):
        rpc.button("account.invoice", "process", chunk)  # reconciled: "paid"
    for chunk in chunks(paid_sales, BULK_BATCH):
        rpc.button("sale.sale", "process", chunk)  # invoice paid, shipped: "done"
    timings["invoices_pay"] = time.monotonic() - began

    counts = {
        "sales_done": rpc.search_count("sale.sale", [("state", "=", "done")]),
        "invoices_paid": rpc.search_count("account.invoice", [("state", "=", "paid")]),
        "shipments_waiting": rpc.search_count("stock.shipment.out", [("state", "=", "waiting")]),
    }
    # the scenario adds one done sale / paid invoice and one backorder
    expected = {
        "sales_done": len(paid_sales) + 1,
        "invoices_paid": len(paid) + 1,
        "shipments_waiting": len(by_kind.get("confirmed", [])) + len(partial_shipments) + 1,
    }
    if counts != expected:
        raise RuntimeError(f"bulk seed: expected {expected}, found {counts}")
    return {
        "parties": len(party_ids),
        "party_ids": [min(party_ids), max(party_ids)] if party_ids else [],
        "sales": len(sale_ids),
        "sale_ids": [min(sale_ids), max(sale_ids)] if sale_ids else [],
        "sales_by_kind": {kind: len(ids) for kind, ids in sorted(by_kind.items())},
        "shipments_done": len(to_ship),
        "backorders": len(partial_shipments),
        "invoices_posted": len(invoices),
        "invoices_paid": len(paid),
        "seconds": {k: round(v, 1) for k, v in timings.items()},
    }
