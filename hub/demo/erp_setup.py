"""What a fresh Tryton 8.2 (modules sale + account_invoice_stock) needs before it can sell:
a company, a chart of accounts, fiscal years, a payment term, products with stock.

The first layer of the one seed (``erp_seed``): the demo's story and the tests' scenario are
both built on it, and ``erp.build`` keeps a snapshot of the database right after it
(``setup.sqlite``). :func:`setup` returns the ids the layers above need (kept as
``setup.json``)::

    {"company": {"id", "party_id", "currency_id", "currency": "EUR", "countries": {"DE": id}},
     "accounts": {"receivable_id", "payable_id", "revenue_id", "expense_id", "cash_id"},
     "fiscal_years": [{"id", "name", "start_date", "end_date"}],   # last, this, next year
     "payment_term": {"id", "name"}, "payment_method": {"id", "journal_id"},
     "unit_id", "category_id", "inventory_id", "warehouse_id", "storage_location_id",
     "customer_location_id", "products": {"P-100": {"template_id", "product_id", "name",
     "list_price"}, ...}, "today": "YYYY-MM-DD"}

Recipes verified on 8.2: model methods take the context as their last positional argument,
and ``get_preferences`` only carries ``company`` once the admin user has been given the
company (the client refreshes its context right after); a ``product.template`` created over
RPC gets *no* variant unless asked; a product needs an accounting category with a revenue
account or no invoice is made -- silently: the queued ``sale.process`` fails into
``ir.error``; a shipment is only assigned from stock an inventory put there (dated
``STOCK_SINCE_DAYS`` back, so the demo's story can ship in the past); the pay wizard pays with
an ``account.invoice.payment.method`` (a cash journal and the cash account 1.1.1).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from hub.demo.erp_rpc import Rpc

CURRENCY = "EUR"
RECEIVABLE_CODE = "1.2.1"
PAYABLE_CODE = "2.1.1"
CASH_CODE = "1.1.1"
STOCK_SINCE_DAYS = 200

#: Countries of every customer the demo's and the tests' systems hold (an address needs one).
COUNTRIES = {
    "DE": "Germany",
    "FR": "France",
    "NL": "Netherlands",
    "BE": "Belgium",
    "AT": "Austria",
    "GB": "United Kingdom",
    "IT": "Italy",
    "ES": "Spain",
    "SE": "Sweden",
    "DK": "Denmark",
    "FI": "Finland",
    "IE": "Ireland",
    "CZ": "Czechia",
    "PL": "Poland",
    "US": "United States",
    "CN": "China",
    "JP": "Japan",
    "TW": "Taiwan",
}

#: The CRM sells the same products under the same codes (simulators/legacy_crm/demo.py).
PRODUCTS = [
    # code, name, list price, cost price
    ("P-100", "Hydraulic Pump HP-100", Decimal("1250.00"), Decimal("800.00")),
    ("P-200", "Pressure Valve PV-200", Decimal("89.50"), Decimal("41.00")),
    ("P-300", "Sealing Kit SK-300", Decimal("12.90"), Decimal("4.10")),
]

# --------------------------------------------------------------------------- helpers


def one2many(values: Sequence[dict[str, Any]]) -> list[Any]:
    return [["create", [dict(v) for v in values]]]


def iso(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def only(rows: list[Any], what: str) -> Any:
    if len(rows) != 1:
        raise RuntimeError(f"expected exactly one {what}, got {len(rows)}: {rows!r}")
    return rows[0]


# --------------------------------------------------------------------------- setup


SEQUENCE_PREFIXES = {
    # module, xml id of the ir.sequence: prefix (distinct numbers are easier to read in tests)
    ("party", "sequence_party"): "C",
    ("sale", "sequence_sale"): "SO",
    ("stock", "sequence_shipment_out"): "SH",
}


def _setup_sequences(rpc: Rpc) -> None:
    for (module, xml_id), prefix in SEQUENCE_PREFIXES.items():
        rpc.write(
            "ir.sequence",
            [rpc.model_data_id(module, xml_id)],
            {"prefix": prefix, "padding": 5},
        )


def _setup_company(rpc: Rpc) -> dict[str, Any]:
    _setup_sequences(rpc)
    currency_id = only(
        rpc.create(
            "currency.currency",
            [
                {
                    "name": "Euro",
                    "code": CURRENCY,
                    "numeric_code": "978",
                    "symbol": "€",
                    "rounding": Decimal("0.01"),
                    "digits": 2,
                }
            ],
        ),
        "currency",
    )
    country_ids = rpc.create("country.country", [{"code": code, "name": name} for code, name in COUNTRIES.items()])
    countries = dict(zip(COUNTRIES, country_ids, strict=True))
    party_id = only(
        rpc.create(
            "party.party",
            [
                {
                    "name": "Concord Demo Trading GmbH",
                    "addresses": one2many(
                        [
                            {
                                "street": "Hafenstraße 5",
                                "postal_code": "20457",
                                "city": "Hamburg",
                                "country": countries["DE"],
                            }
                        ]
                    ),
                }
            ],
        ),
        "company party",
    )
    company_id = only(
        rpc.create(
            "company.company",
            # no timezone: ir.date's "today" is then the server's local date, the same
            # as the test process's (a company timezone shifts it around midnight)
            [{"party": party_id, "currency": currency_id}],
        ),
        "company",
    )
    # What company.company.config's "add" does: give the company to the admin user.
    rpc.write(
        "res.user",
        [int(rpc.user_id or 0)],
        {"companies": [["add", [company_id]]], "company": company_id},
    )
    rpc.refresh_context()
    if rpc.context.get("company") != company_id:
        raise RuntimeError(f"the user's context has no company: {rpc.context!r}")
    return {
        "id": company_id,
        "party_id": party_id,
        "currency_id": currency_id,
        "currency": CURRENCY,
        "countries": countries,
    }


def _account_id(rpc: Rpc, company_id: int, domain: list[Any]) -> int:
    ids = rpc.search(
        "account.account",
        [("company", "=", company_id), ("closed", "!=", True), *domain],
        limit=1,
        order=[["code", "ASC"]],
    )
    if not ids:
        raise RuntimeError(f"no account matches {domain!r}")
    return ids[0]


def _setup_accounting(rpc: Rpc, company_id: int, today: dt.date) -> dict[str, Any]:
    template_id = rpc.model_data_id("account", "account_template_root_en")
    found: dict[str, int] = {}

    def properties(_form: dict[str, Any]) -> dict[str, Any]:
        # the accounts exist once "create_account" ran; set the defaults explicitly
        found["receivable"] = _account_id(rpc, company_id, [("code", "=", RECEIVABLE_CODE)])
        found["payable"] = _account_id(rpc, company_id, [("code", "=", PAYABLE_CODE)])
        return {
            "company": company_id,
            "account_receivable": found["receivable"],
            "account_payable": found["payable"],
        }

    rpc.wizard(
        "account.create_chart",
        [
            ("account", {}),
            ("create_account", {"company": company_id, "account_template": template_id}),
            ("create_properties", properties),
        ],
    )
    receivable, payable = found["receivable"], found["payable"]
    revenue = _account_id(rpc, company_id, [("type.revenue", "=", True)])
    expense = _account_id(rpc, company_id, [("type.expense", "=", True)])
    cash = _account_id(rpc, company_id, [("code", "=", CASH_CODE)])
    [config] = rpc.read(
        "account.configuration",
        [1],
        ["default_account_receivable", "default_account_payable"],
    )
    if (config["default_account_receivable"], config["default_account_payable"]) != (
        receivable,
        payable,
    ):
        raise RuntimeError(f"create_chart did not set the default accounts: {config!r}")

    move_type = rpc.model_data_id("account", "sequence_type_account_move")
    invoice_type = rpc.model_data_id("account_invoice", "sequence_type_account_invoice")
    fiscal_years = []
    for year in (today.year - 1, today.year, today.year + 1):
        move_seq, invoice_seq = rpc.create(
            "ir.sequence.strict",
            [
                {"name": f"Account Move {year}", "sequence_type": move_type, "company": company_id},
                {
                    "name": f"Invoice {year}",
                    "sequence_type": invoice_type,
                    "company": company_id,
                    "prefix": f"INV/{year}/",
                    "padding": 5,
                },
            ],
        )
        periods = []
        for month in range(1, 13):
            start = dt.date(year, month, 1)
            end = (dt.date(year + (month == 12), month % 12 + 1, 1)) - dt.timedelta(days=1)
            periods.append({"name": f"{year}-{month:02d}", "start_date": start, "end_date": end})
        fy_id = only(
            rpc.create(
                "account.fiscalyear",
                [
                    {
                        "name": str(year),
                        "company": company_id,
                        "start_date": dt.date(year, 1, 1),
                        "end_date": dt.date(year, 12, 31),
                        "move_sequence": move_seq,
                        "periods": one2many(periods),
                        "invoice_sequences": one2many(
                            [
                                {
                                    "company": company_id,
                                    "out_invoice_sequence": invoice_seq,
                                    "out_credit_note_sequence": invoice_seq,
                                    "in_invoice_sequence": invoice_seq,
                                    "in_credit_note_sequence": invoice_seq,
                                }
                            ]
                        ),
                    }
                ],
            ),
            "fiscal year",
        )
        fiscal_years.append(
            {
                "id": fy_id,
                "name": str(year),
                "start_date": dt.date(year, 1, 1).isoformat(),
                "end_date": dt.date(year, 12, 31).isoformat(),
            }
        )

    payment_term_id = only(
        rpc.create(
            "account.invoice.payment_term",
            [
                {
                    "name": "30 days net",
                    "lines": one2many(
                        [
                            {
                                "type": "remainder",
                                "relativedeltas": one2many([{"days": 30}]),
                            }
                        ]
                    ),
                }
            ],
        ),
        "payment term",
    )
    rpc.write("account.configuration", [1], {"default_customer_payment_term": payment_term_id})
    cash_journal = rpc.model_data_id("account", "journal_cash")
    payment_method_id = only(
        rpc.create(
            "account.invoice.payment.method",
            [
                {
                    "name": "Bank transfer",
                    "company": company_id,
                    "journal": cash_journal,
                    "debit_account": cash,
                    "credit_account": cash,
                }
            ],
        ),
        "payment method",
    )
    return {
        "accounts": {
            "receivable_id": receivable,
            "payable_id": payable,
            "revenue_id": revenue,
            "expense_id": expense,
            "cash_id": cash,
        },
        "fiscal_years": fiscal_years,
        "payment_term": {"id": payment_term_id, "name": "30 days net"},
        "payment_method": {"id": payment_method_id, "journal_id": cash_journal},
    }


def _setup_products(rpc: Rpc, accounts: dict[str, int], company_id: int, today: dt.date) -> dict[str, Any]:
    unit = rpc.model_data_id("product", "uom_unit")
    category_id = only(
        rpc.create(
            "product.category",
            [
                {
                    "name": "Machine parts",
                    "accounting": True,
                    "account_revenue": accounts["revenue_id"],
                    "account_expense": accounts["expense_id"],
                }
            ],
        ),
        "category",
    )
    template_ids = rpc.create(
        "product.template",
        [
            {
                "name": name,
                "code": code,
                "type": "goods",
                "default_uom": unit,
                "list_price": price,
                "salable": True,
                "sale_uom": unit,
                "account_category": category_id,
                # no variant is created over RPC unless asked for
                "products": one2many([{"cost_price": cost}]),
            }
            for code, name, price, cost in PRODUCTS
        ],
    )
    templates = rpc.read("product.template", template_ids, ["products", "code"])
    products = {}
    for (code, name, price, _cost), template in zip(PRODUCTS, templates, strict=True):
        products[code] = {
            "template_id": template["id"],
            "product_id": template["products"][0],
            "name": name,
            "list_price": str(price),
        }

    storage = rpc.model_data_id("stock", "location_storage")
    inventory_id = only(
        rpc.create(
            "stock.inventory",
            [
                {
                    "location": storage,
                    "company": company_id,
                    # dated back, so the demo's story can ship in the past
                    "date": today - dt.timedelta(days=STOCK_SINCE_DAYS),
                    "lines": one2many(
                        [{"product": p["product_id"], "quantity": 1_000_000.0} for p in products.values()]
                    ),
                }
            ],
        ),
        "inventory",
    )
    rpc.button("stock.inventory", "confirm", [inventory_id])
    return {
        "unit_id": unit,
        "category_id": category_id,
        "products": products,
        "inventory_id": inventory_id,
        "warehouse_id": rpc.model_data_id("stock", "location_warehouse"),
        "storage_location_id": storage,
        "customer_location_id": rpc.model_data_id("stock", "location_customer"),
    }


def setup(rpc: Rpc, today: dt.date | None = None) -> dict[str, Any]:
    """Company, accounting, products and stock; returns their ids (see the module's docstring)."""
    today = today or dt.date.today()
    company = _setup_company(rpc)
    accounting = _setup_accounting(rpc, company["id"], today)
    stock = _setup_products(rpc, accounting["accounts"], company["id"], today)
    return {"company": company, **accounting, **stock, "today": today.isoformat()}
