"""The legacy CRM SOAP service (``simulators.legacy_crm``) for tests: data sets and connections.

    with legacy_crm.serve(store) as crm:            # a real HTTP server on 127.0.0.1
        add_crm_connection(database_url, "crm", "sugar", crm, mappings_dir, page_size=4)

``tryton_companies()`` are the Tryton seed's customers (``hub/demo/erp_scenario.py``) as a
sales rep typed them into the CRM: another legal form or casing, a street abbreviated, but the
same tax id or e-mail, so the hub can link them to the ERP's parties.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.db import session_scope
from hub.demo import erp_scenario
from hub.sync.connections import add_connection
from simulators.legacy_crm import CrmStore, RunningCrm, serve

__all__ = ["KEY", "PASSWORD", "USER", "add_crm_connection", "crm_store", "serve", "tryton_companies"]

KEY = "test-secret-key"
USER, PASSWORD = "hub-sync", "s3cret-crm-pw"

#: How the CRM spells the ERP's customers (key in erp_scenario.CUSTOMERS → CRM name).
CRM_SPELLING = {
    "mueller": "MUELLER MASCHINENBAU",
    "dupont": "Dupont Industrie S.A.R.L.",
    "jansen": "jansen techniek bv",
    "peeters": "Peeters en Zonen",
    "smith": "Smith Engineering Limited",
}


def tryton_companies() -> list[dict[str, Any]]:
    """CRM accounts for the Tryton seed's customers; ``id`` is ``CRM-<key>``."""
    accounts = []
    for customer in erp_scenario.CUSTOMERS:
        accounts.append(
            {
                "id": f"CRM-{customer['key']}",
                "name": CRM_SPELLING[customer["key"]],
                "vat_id_c": customer["tax"][1] if customer["tax"] else None,
                # the CRM has the e-mail only where the tax id is missing: each link needs one of them
                "email1": customer["email"] if not customer["tax"] or customer["key"] == "jansen" else None,
                "billing_address_street": customer["street"].replace("straße", "str."),
                "billing_address_city": customer["city"],
                "billing_address_postalcode": customer["postal_code"],
                "billing_address_country": customer["country"].lower(),
            }
        )
    return accounts


def crm_store(accounts: int = 10, orders: int = 4) -> CrmStore:
    """A CRM with ``accounts`` companies (Chinese and Japanese ones among them) and ``orders``
    orders with lines; records are stamped 10 minutes apart, in the past."""
    names = [
        "上海华信机械有限公司",
        "株式会社山田製作所",
        "Nordic Pumps AB",
        "Rossi Meccanica S.p.A.",
        "北京远大精密仪器有限公司",
        "大阪精工株式会社",
        "Brouwer Logistiek B.V.",
        "Virtanen Oy",
    ]
    store = CrmStore(users={USER: PASSWORD})
    rows = [
        {
            "id": f"C{i:05d}",
            "name": f"{names[i % len(names)]} {i}" if i >= len(names) else names[i],
            "email1": f"buyer{i}@company{i}.example",
            "phone_office": f"+49 30 555 {1000 + i}",
            "billing_address_city": "Berlin",
            "billing_address_country": "DE",
        }
        for i in range(accounts)
    ]
    order_rows = [
        {
            "id": f"SO{i:05d}",
            "order_number": f"CRM-SO-{1000 + i}",
            "name": f"PO-{i}",
            "account_id": f"C{i:05d}",
            "status": "In Progress" if i % 2 else "Confirmed",
            "order_date": "2026-11-02",
            "currency_id": "EUR",
            "total_amount": "2589.00",
            "lines": [
                {
                    "id": f"SO{i:05d}-1",
                    "product_code": "P-100",
                    "name": "Hydraulic Pump",
                    "product_qty": "2",
                    "product_unit_price": "1250.00",
                },
                {
                    "id": f"SO{i:05d}-2",
                    "product_code": "P-200",
                    "name": "Valve",
                    "product_qty": "1",
                    "product_unit_price": "89.00",
                },
            ],
        }
        for i in range(orders)
    ]
    store.seed(accounts=rows, orders=order_rows)
    return store


def add_crm_connection(
    database_url: str,
    name: str,
    shape: str,
    crm: RunningCrm,
    mappings_dir: Path,
    **settings: Any,
) -> None:
    """A ``soap`` connection to the running CRM, configured by the service file alone."""
    wsdl = crm.sugar_wsdl if shape == "sugar" else crm.nav_wsdl
    with session_scope(database_url) as session:
        add_connection(
            session,
            name=name,
            kind="soap",
            secret_key=KEY,
            settings={
                "service": shape,
                "mapping": shape,
                "wsdl": wsdl,
                "mappings_dir": str(mappings_dir),
                "timeout": 5,
                **settings,
            },
            secrets={"username": USER, "password": PASSWORD},
        )
