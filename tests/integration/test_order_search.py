"""Finding an order by the number on whatever paper a salesperson holds (issues 12 and 16).

Orders come in through the real apply path from two systems: an ERP whose internal ids are
small integers beside its sale numbers (as Tryton's are), and a CRM whose orders are keyed by
their own numbers. An internal id is never a number; an exact number never lists a second
order; case does not matter; delivery-note and invoice numbers lead to their order.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors.base import SourceRecord
from hub.auth.models import Role
from hub.db import session_scope
from hub.documents.search import find_orders
from hub.master.ingest import CustomerMaster
from hub.settings import BUNDLED_MAPPINGS
from hub.sync.engine import Applier


def _apply(url: str, system: str, entity: str, records: list[tuple[str, dict[str, Any]]]) -> None:
    with session_scope(url) as session:
        results = Applier(session, BUNDLED_MAPPINGS, system).many(
            entity, [(SourceRecord(ext, fields), fields) for ext, fields in records]
        )
    assert not [r for r in results if isinstance(r, Exception)], results


def _order(number: str, customer: str, reference: str | None = None) -> dict[str, Any]:
    return {
        "number": number,
        "customer": customer,
        "reference": reference,
        "status": "confirmed",
        "ordered_on": date(2026, 11, 1),
        "currency": "EUR",
        "total": Decimal("100"),
        "lines": [{"id": f"{number}-1", "product": "P1", "quantity": Decimal("1"), "unit_price": Decimal("100")}],
    }


def _seed(url: str) -> None:
    _apply(
        url,
        "erp",
        "customer",
        [("7", {"name": "Müller Bau GmbH", "country": "DE"}), ("9", {"name": "Acme Industries Inc.", "country": "US"})],
    )
    _apply(url, "crm", "customer", [("A1", {"name": "Acme Industries", "country": "US"})])
    # Tryton-like: internal ids 8 and 12, numbers SO00007 and SO00012
    _apply(url, "erp", "order", [("8", _order("SO00007", "7")), ("12", _order("SO00012", "9"))])
    # the CRM's own order numbered "8", whose customer quotes the ERP's number as its PO
    _apply(url, "crm", "order", [("8", _order("8", "A1", reference="SO00007"))])
    _apply(url, "erp", "shipment", [("31", {"number": "LS-2026-0031", "order": "8", "status": "shipped", "lines": []})])
    _apply(
        url,
        "erp",
        "invoice",
        [
            (
                "44",
                {
                    "number": "RE-2026-0044",
                    "order": "12",
                    "customer": "9",
                    "status": "open",
                    "total": Decimal("100"),
                    "due_dates": [],
                },
            )
        ],
    )


def _numbers(url: str, **query: str) -> list[str]:
    with session_scope(url) as session:
        return sorted(o["number"] for o in find_orders(session, **query))


def test_an_internal_id_is_never_taken_for_a_number(database_url):
    _seed(database_url)
    assert _numbers(database_url, ref="8") == ["8"]  # the CRM's order 8, not the ERP's sale id 8
    assert _numbers(database_url, ref="12") == []  # nobody's number is 12


def test_an_exact_number_in_any_case_finds_that_order_only(database_url):
    _seed(database_url)
    # SO00007 is also the CRM order's customer reference: the exact number wins alone
    assert _numbers(database_url, ref="SO00007") == ["SO00007"]
    assert _numbers(database_url, ref="so00007") == ["SO00007"]
    assert _numbers(database_url, ref=" So00012 ") == ["SO00012"]


def test_delivery_note_and_invoice_numbers_lead_to_their_order(database_url):
    _seed(database_url)
    assert _numbers(database_url, ref="ls-2026-0031") == ["SO00007"]
    assert _numbers(database_url, ref="RE-2026-0044") == ["SO00012"]


def test_a_reference_then_a_prefix_when_no_number_matches(database_url):
    _seed(database_url)
    _apply(database_url, "crm", "order", [("9", _order("9", "A1", reference="ACME-RFQ-1"))])
    assert _numbers(database_url, ref="acme-rfq-1") == ["9"]
    assert _numbers(database_url, ref="so000") == ["SO00007", "SO00012"]
    assert _numbers(database_url, ref="so") == []  # too short to be the start of a number
    assert _numbers(database_url, ref="SO%") == []  # a wildcard typed is a character


def test_customer_search_goes_through_the_master(database_url, client, token_for):
    _seed(database_url)
    assert _numbers(database_url, customer="mueller") == ["SO00007"]
    assert _numbers(database_url, customer="MÜLLER bau") == ["SO00007"]
    found = client.get("/api/v1/orders", params={"ref": "so00012"}, headers=token_for(Role.sales))
    assert found.status_code == 200 and [o["number"] for o in found.json()] == ["SO00012"]


def test_percent_and_underscore_in_customer_match_only_themselves(
    client: Any, token_for: Any, database_url: str, mappings_dir: Path
) -> None:
    with session_scope(database_url) as session:
        master = CustomerMaster(session, mappings_dir)
        ids = {
            name: master.ingest("crm", ext, {"name": name, "country": "DE"}).golden_id
            for ext, name in (("A1", "50% Rabatt GmbH"), ("A2", "Okafor Ltd"))
        }
    it = token_for(Role.it)
    for n, golden in enumerate(ids.values()):
        posted = client.post(
            "/api/v1/orders",
            headers=it,
            json={
                "number": f"S-{n}",
                "customer_id": golden,
                "lines": [{"product": "P", "quantity": "1", "unit_price": "1"}],
            },
        )
        assert posted.status_code == 201, posted.text

    def found(customer: str) -> list[str]:
        answer = client.get("/api/v1/orders", params={"customer": customer}, headers=it)
        assert answer.status_code == 200, answer.text
        return [o["customer"] for o in answer.json()]

    assert found("%") == ["50% Rabatt GmbH"] and found("50%") == ["50% Rabatt GmbH"]
    assert found("_") == [] and found("/") == []
    # the master folds punctuation like a person would: "Okafor_Ltd" is Okafor Ltd, and
    # only it (as a wildcard "_" would have matched every name with a character there)
    assert found("Okafor_Ltd") == ["Okafor Ltd"]
    assert found("okafor") == ["Okafor Ltd"]
