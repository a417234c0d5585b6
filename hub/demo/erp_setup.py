"""What a fresh Tryton (modules sale + account_invoice_stock) needs before it can sell:
a company, a chart of accounts, fiscal years, a payment term, products with stock.

Runs once per build of the cached database (``erp.build``); returns the ids the story needs
(kept as ``setup.json``). Recipes verified on 8.2: the admin user must be given the company
before its context carries it; a product template created over RPC gets no variant unless
asked; a product needs an accounting category with a revenue account or no invoice is made
(silently: the queued ``sale.process`` fails into ``ir.error``); a shipment is only assigned
from stock that an inventory put there.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

from hub.demo.erp import Rpc

#: Countries of every customer the demo's systems hold (a party's address needs its country).
COUNTRIES = {
    "DE": "Germany", "FR": "France", "NL": "Netherlands", "BE": "Belgium", "AT": "Austria",
    "GB": "United Kingdom", "IT": "Italy", "ES": "Spain", "SE": "Sweden", "DK": "Denmark",
    "FI": "Finland", "IE": "Ireland", "CZ": "Czechia", "PL": "Poland", "US": "United States",
    "CN": "China", "JP": "Japan", "TW": "Taiwan",
}
#: The CRM sells the same products under the same codes (simulators/legacy_crm/demo.py).
PRODUCTS = [("P-100", "Hydraulic Pump HP-100", "1250.00", "800.00"),
            ("P-200", "Pressure Valve PV-200", "89.50", "41.00"),
            ("P-300", "Sealing Kit SK-300", "12.90", "4.10")]
STOCK_SINCE_DAYS = 200  # the inventory is dated back, so the story can ship in the past


def _create(values: list[dict[str, Any]]) -> list[Any]:
    return [["create", values]]


def setup(rpc: Rpc, today: dt.date | None = None) -> dict[str, Any]:
    today = today or dt.date.today()
    for (module, xml_id), prefix in {("party", "sequence_party"): "C", ("sale", "sequence_sale"): "SO",
                                     ("stock", "sequence_shipment_out"): "SH"}.items():
        rpc.write("ir.sequence", [rpc.data_id(module, xml_id)], {"prefix": prefix, "padding": 5})
    [currency] = rpc.create("currency.currency", [{"name": "Euro", "code": "EUR", "numeric_code": "978", "symbol": "€",
                                                   "rounding": Decimal("0.01"), "digits": 2}])
    countries = dict(zip(COUNTRIES, rpc.create("country.country", [{"code": c, "name": n} for c, n in COUNTRIES.items()]),
                         strict=True))
    [company_party] = rpc.create("party.party", [{"name": "Concord Demo Trading GmbH", "addresses": _create(
        [{"street": "Hafenstraße 5", "postal_code": "20457", "city": "Hamburg", "country": countries["DE"]}])}])
    [company] = rpc.create("company.company", [{"party": company_party, "currency": currency}])
    rpc.write("res.user", [rpc.user_id], {"companies": [["add", [company]]], "company": company})
    rpc.refresh_context()
    accounting = _accounting(rpc, company, today)
    return {"company": company, "currency": currency, "countries": countries,
            **accounting, **_products(rpc, company, today, accounting)}


def _account(rpc: Rpc, company: int, *domain: Any) -> int:
    [account] = rpc.call("model.account.account.search", [("company", "=", company), ("closed", "!=", True), *domain], 0, 1, [["code", "ASC"]])
    return int(account)


def _accounting(rpc: Rpc, company: int, today: dt.date) -> dict[str, Any]:
    template = rpc.data_id("account", "account_template_root_en")

    def properties(_form: dict[str, Any]) -> dict[str, Any]:  # the accounts exist by now
        return {"company": company, "account_receivable": _account(rpc, company, ("code", "=", "1.2.1")),
                "account_payable": _account(rpc, company, ("code", "=", "2.1.1"))}

    rpc.wizard("account.create_chart", [("account", lambda _f: {}),
                                        ("create_account", lambda _f: {"company": company, "account_template": template}),
                                        ("create_properties", properties)])
    move_type = rpc.data_id("account", "sequence_type_account_move")
    invoice_type = rpc.data_id("account_invoice", "sequence_type_account_invoice")
    for year in (today.year - 1, today.year, today.year + 1):
        move_seq, invoice_seq = rpc.create("ir.sequence.strict", [
            {"name": f"Account Move {year}", "sequence_type": move_type, "company": company},
            {"name": f"Invoice {year}", "sequence_type": invoice_type, "company": company,
             "prefix": f"INV/{year}/", "padding": 5}])
        months = [dt.date(year, m, 1) for m in range(1, 13)] + [dt.date(year + 1, 1, 1)]
        rpc.create("account.fiscalyear", [{
            "name": str(year), "company": company, "start_date": months[0], "end_date": dt.date(year, 12, 31),
            "move_sequence": move_seq,
            "periods": _create([{"name": f"{year}-{start.month:02d}", "start_date": start,
                                 "end_date": end - dt.timedelta(days=1)} for start, end in itertools.pairwise(months)]),
            "invoice_sequences": _create([{"company": company, **dict.fromkeys(
                ("out_invoice_sequence", "out_credit_note_sequence", "in_invoice_sequence",
                 "in_credit_note_sequence"), invoice_seq)}]),
        }])
    [term] = rpc.create("account.invoice.payment_term", [{"name": "30 days net", "lines": _create(
        [{"type": "remainder", "relativedeltas": _create([{"days": 30}])}])}])
    rpc.write("account.configuration", [1], {"default_customer_payment_term": term})
    cash = _account(rpc, company, ("code", "=", "1.1.1"))
    [method] = rpc.create("account.invoice.payment.method", [{
        "name": "Bank transfer", "company": company, "journal": rpc.data_id("account", "journal_cash"),
        "debit_account": cash, "credit_account": cash}])
    return {"payment_term": term, "payment_method": method,
            "revenue": _account(rpc, company, ("type.revenue", "=", True)),
            "expense": _account(rpc, company, ("type.expense", "=", True))}


def _products(rpc: Rpc, company: int, today: dt.date, accounting: dict[str, Any]) -> dict[str, Any]:
    unit = rpc.data_id("product", "uom_unit")
    [category] = rpc.create("product.category", [{"name": "Machine parts", "accounting": True,
                                                 "account_revenue": accounting["revenue"],
                                                 "account_expense": accounting["expense"]}])
    templates = rpc.create("product.template", [
        {"name": name, "code": code, "type": "goods", "default_uom": unit, "list_price": Decimal(price),
         "salable": True, "sale_uom": unit, "account_category": category,
         "products": _create([{"cost_price": Decimal(cost)}])} for code, name, price, cost in PRODUCTS])
    products = {code: {"id": row["products"][0], "name": name, "price": price}
                for (code, name, price, _cost), row in zip(PRODUCTS, rpc.read("product.template", templates, ["products"]),
                                                          strict=True)}
    storage = rpc.data_id("stock", "location_storage")
    [inventory] = rpc.create("stock.inventory", [{
        "location": storage, "company": company, "date": today - dt.timedelta(days=STOCK_SINCE_DAYS),
        "lines": _create([{"product": p["id"], "quantity": 1_000_000.0} for p in products.values()])}])
    rpc.button("stock.inventory", "confirm", [inventory])
    return {"unit": unit, "products": products, "warehouse": rpc.data_id("stock", "location_warehouse")}

