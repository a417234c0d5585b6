"""Writing customers and orders into a real Tryton 8.2: enter once, read back the same, and
no double entry when a delivery is retried."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.errors import RecordError, TransientError
from connectors.tryton import TrytonConnector
from hub.sync.mapping import ConnectorMap, load_connector_map
from tests.support import tryton

pytestmark = [
    pytest.mark.skipif(not tryton.trytond_available(), reason=tryton.SKIP_REASON),
    pytest.mark.timeout(600),  # a cold cache builds the seeded database first
]

_serial = itertools.count(1)


@pytest.fixture
def server(tryton_server: tryton.TrytonServer) -> tryton.TrytonServer:
    # The run's one Tryton, not reset: these tests write records of their own (their names,
    # references and hub refs carry this module's serial numbers) and count only those.
    return tryton_server.start()


@pytest.fixture
def erp(server: tryton.TrytonServer) -> Iterator[TrytonConnector]:
    if not server.running:
        server.start()
    connector = TrytonConnector(
        {"url": server.url, "database": server.database, "login": server.login},
        {"password": server.password},
    )
    yield connector
    connector.close()


@pytest.fixture
def mapping(mappings_dir: Path) -> ConnectorMap:
    return load_connector_map(mappings_dir, "tryton")


def _read(erp: TrytonConnector, mapping: ConnectorMap, stream: str, external_id: str) -> dict[str, Any]:
    """The record as the hub would see it: the connector's own read, then the YAML map."""
    [record] = [r for page in erp.read(stream, None) for r in page if r.external_id == external_id]
    return mapping.apply(stream, record.data)


def _customer(**extra: Any) -> dict[str, Any]:
    n = next(_serial)
    return {
        "hub_ref": f"concord:customer:test-{n}",
        "name": f"Nordwind Handel {n} GmbH",
        "email": f"einkauf{n}@nordwind.example",
        "phone": "+49 40 3001234",
        "street": "Hafenstraße 5",
        "city": "Hamburg",
        "postcode": "20457",
        "country": "DE",
        "tax_id": None,
        **extra,
    }


def _order(customer_id: str, status: str = "confirmed", **extra: Any) -> dict[str, Any]:
    n = next(_serial)
    return {
        "hub_ref": f"concord:order:test-{n}",
        "reference": f"CRM-PO-{n}",
        "customer": customer_id,
        "status": status,
        "ordered_on": "2026-11-20",
        "currency": "EUR",
        "description": "Spring refit",
        "lines": [
            {"product": "P-100", "quantity": Decimal(2), "unit_price": Decimal("1199.00")},
            {
                "product": "P-300",
                "quantity": Decimal(25),
                "unit_price": Decimal("12.50"),
                "description": "Seals, assorted",
            },
        ],
        **extra,
    }


def _count(server: tryton.TrytonServer, model: str, domain: list[Any]) -> int:
    with server.client() as client:
        return client.search_count(model, domain)


def test_a_customer_is_created_once_and_reads_back_with_the_same_fields(erp, server, mapping):
    data = _customer(tax_id="DE136695976")
    first = erp.write("customers", data, None)
    assert first.created and first.version  # the party's code, Tryton's customer number

    read = _read(erp, mapping, "customers", first.external_id)
    assert read == {k: data[k] for k in ("name", "tax_id", "email", "phone", "street", "city", "postcode", "country")}

    again = erp.write("customers", data, None)  # the dispatcher retries after a lost answer
    assert (again.external_id, again.created) == (first.external_id, False)
    assert _count(server, "party.party", [("name", "=", data["name"])]) == 1


@pytest.mark.parametrize(("tax_id", "country"), [("JP9234567890123", "JP"), ("CN91310000MA1FL8XQ37", "CN")])
def test_a_national_tax_number_is_written_as_tryton_checks_it(erp, server, mapping, tax_id, country):
    """The demo's Japanese and Chinese customers were dead deliveries: Tryton checks a
    corporate number or USCC without the hub's ISO prefix ("JP9234567890123" is not valid)."""
    # (the test server's chart has no JP or CN country: the number's prefix alone picks the type)
    data = _customer(tax_id=tax_id, country=None, phone=None, postcode=None)
    created = erp.write("customers", data, None)
    assert created.created
    with server.client() as client:
        [party] = client.read("party.party", [int(created.external_id)], ["identifiers"])
        codes = {
            i["code"] for i in client.read("party.identifier", party["identifiers"], ["code", "type"]) if i["type"]
        }
    compact = {"".join(ch for ch in code if ch.isalnum()) for code in codes}  # Tryton formats it
    assert compact == {tax_id[2:]}
    from hub.master.normalise import normalise_tax_id

    read = _read(erp, mapping, "customers", created.external_id)
    assert normalise_tax_id(read["tax_id"], country) == tax_id  # read back, the hub's own id again


def test_a_lost_answer_to_the_create_does_not_make_a_second_party(erp, server):
    class LoseFirstCreateAnswer(httpx.BaseTransport):
        """Tryton gets and commits the create; the answer never comes back."""

        def __init__(self) -> None:
            self.inner, self.lost = httpx.HTTPTransport(), 0

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = self.inner.handle_request(request)
            if b"model.party.party.create" in request.content and not self.lost:
                self.lost += 1
                response.read()
                raise httpx.ReadTimeout("answer lost", request=request)
            return response

    transport = LoseFirstCreateAnswer()
    erp.rpc._http = httpx.Client(transport=transport)
    data = _customer()
    with pytest.raises(TransientError, match="not re-sent"):
        erp.write("customers", data, None)
    assert transport.lost == 1
    assert _count(server, "party.party", [("name", "=", data["name"])]) == 1  # Tryton did create it

    retried = erp.write("customers", data, None)
    assert not retried.created
    assert _count(server, "party.party", [("name", "=", data["name"])]) == 1


def test_updating_a_customer_changes_contact_and_address(erp, mapping):
    created = erp.write("customers", _customer(), None)
    result = erp.write(
        "customers", {"email": "neu@nordwind.example", "city": "Lübeck", "postcode": "23552"}, created.external_id
    )
    assert (result.external_id, result.created) == (created.external_id, False)
    read = _read(erp, mapping, "customers", created.external_id)
    assert (read["email"], read["city"], read["postcode"], read["street"]) == (
        "neu@nordwind.example",
        "Lübeck",
        "23552",
        "Hafenstraße 5",
    )


def test_tryton_refusing_a_customer_is_a_record_error_with_its_message(erp, server):
    data = _customer(tax_id="DE000000001")  # fails the German VAT check digit
    with pytest.raises(RecordError, match=r"DE000000001.*not valid|not valid.*DE000000001") as raised:
        erp.write("customers", data, None)
    assert data["hub_ref"] in str(raised.value)
    with pytest.raises(RecordError, match="no country with ISO code 'XX'"):
        erp.write("customers", _customer(country="XX"), None)
    assert _count(server, "party.party", [("name", "in", [data["name"]])]) == 0


def test_a_confirmed_order_is_entered_once_and_reads_back(erp, server, mapping):
    customer = erp.write("customers", _customer(), None).external_id
    data = _order(customer)
    first = erp.write("orders", data, None)
    assert first.created and first.version and first.version.startswith("SO")  # Tryton's number

    read = _read(erp, mapping, "orders", first.external_id)
    assert read["number"] == first.version
    assert read["status"] in ("confirmed", "processing")  # Tryton processes a confirmed sale at once
    assert (read["customer"], read["reference"], read["currency"]) == (int(customer), data["reference"], "EUR")
    assert str(read["ordered_on"]) == "2026-11-20"
    assert [(l["product"], l["quantity"], l["unit_price"]) for l in read["lines"]] == [
        ("P-100", Decimal(2), Decimal("1199.00")),
        ("P-300", Decimal(25), Decimal("12.50")),
    ]
    assert read["lines"][1]["description"] == "Seals, assorted"
    assert read["total"] == Decimal("2710.50")
    with server.client() as client:  # Tryton made the delivery for it: a real confirmed sale
        [sale] = client.read("sale.sale", [int(first.external_id)], ["shipments"])
        assert len(sale["shipments"]) == 1

    again = erp.write("orders", data, None)
    assert (again.external_id, again.created, again.version) == (first.external_id, False, first.version)
    assert _count(server, "sale.sale", [("reference", "=", data["reference"])]) == 1


def test_an_order_is_keyed_by_the_hub_ref_in_the_sale_comment_never_by_its_reference(erp, server):
    customer = erp.write("customers", _customer(), None).external_id
    data = _order(customer, status="draft", reference=None)
    first = erp.write("orders", data, None)
    assert first.version is None  # a draft has no number yet
    assert erp.write("orders", data, None).external_id == first.external_id
    with server.client() as client:
        [sale] = client.read("sale.sale", [int(first.external_id)], ["reference", "comment"])
    assert sale["reference"] in (None, "")  # no PO from the customer: none invented
    assert sale["comment"] == f"Concord hub ref: {data['hub_ref']}"

    # a user's own words in the comment are kept, and the sale is still found by its ref
    with server.client() as client:
        client.write("sale.sale", [int(first.external_id)], {"comment": f"Call before delivery.\n{sale['comment']}"})
    assert erp.write("orders", data, None).external_id == first.external_id
    # a ref that merely starts the same (…:4 of …:42) is another order: a sale of its own
    longer = {**data, "hub_ref": data["hub_ref"] + "2"}
    assert erp.write("orders", longer, None).external_id != first.external_id


def test_two_orders_with_one_customer_reference_are_two_sales(erp, server, mapping):
    customer = erp.write("customers", _customer(), None).external_id
    first = _order(customer, status="draft", reference="ACME-RFQ-1")
    second = _order(
        customer,
        status="draft",
        reference="ACME-RFQ-1",
        lines=[{"product": "P-200", "quantity": Decimal(4), "unit_price": Decimal("89.50")}],
    )
    one, two = erp.write("orders", first, None), erp.write("orders", second, None)
    assert one.created and two.created and one.external_id != two.external_id
    assert [l["product"] for l in _read(erp, mapping, "orders", one.external_id)["lines"]] == ["P-100", "P-300"]
    assert [l["product"] for l in _read(erp, mapping, "orders", two.external_id)["lines"]] == ["P-200"]
    assert _count(server, "sale.sale", [("reference", "=", "ACME-RFQ-1")]) == 2


def test_an_unknown_product_code_is_a_record_error_naming_it(erp, server):
    customer = erp.write("customers", _customer(), None).external_id
    data = _order(customer)
    data["lines"][1]["product"] = "P-999"
    with pytest.raises(RecordError, match=r"unknown product code 'P-999' \(line 2\)"):
        erp.write("orders", data, None)
    assert _count(server, "sale.sale", [("reference", "=", data["reference"])]) == 0


def test_a_draft_order_takes_changed_added_and_removed_lines(erp, mapping):
    customer = erp.write("customers", _customer(), None).external_id
    data = _order(customer, status="draft")
    created = erp.write("orders", data, None)
    changed = {
        **data,
        "description": "Spring refit, revised",
        "lines": [
            {"product": "P-100", "quantity": Decimal(3), "unit_price": Decimal("1199.00")},
            {"product": "P-200", "quantity": Decimal(4), "unit_price": None},  # Tryton's list price
        ],
    }
    result = erp.write("orders", changed, created.external_id)
    assert (result.external_id, result.created) == (created.external_id, False)
    read = _read(erp, mapping, "orders", created.external_id)
    assert read["status"] == "draft"
    assert [(l["product"], l["quantity"], l["unit_price"]) for l in read["lines"]] == [
        ("P-100", Decimal(3), Decimal("1199.00")),
        ("P-200", Decimal(4), Decimal("89.50")),
    ]

    confirmed = erp.write("orders", {**changed, "status": "confirmed"}, created.external_id)
    assert confirmed.version and _read(erp, mapping, "orders", created.external_id)["status"] in (
        "confirmed",
        "processing",
    )


def test_a_confirmed_order_refuses_a_quantity_change_and_stays_as_it_was(erp, mapping):
    customer = erp.write("customers", _customer(), None).external_id
    data = _order(customer)
    created = erp.write("orders", data, None)
    before = _read(erp, mapping, "orders", created.external_id)
    more = {**data, "lines": [{**data["lines"][0], "quantity": Decimal(5)}, data["lines"][1]]}
    with pytest.raises(RecordError) as raised:
        erp.write("orders", more, created.external_id)
    message = str(raised.value)
    assert f"sale {created.version} is processing in Tryton; change it there or cancel it" in message
    assert "P-100 quantity 2 → 5" in message
    assert _read(erp, mapping, "orders", created.external_id) == before

    # the reference stays editable in Tryton after confirmation
    erp.write("orders", {**data, "reference": data["reference"] + "-A"}, created.external_id)
    assert _read(erp, mapping, "orders", created.external_id)["reference"] == data["reference"] + "-A"


def test_tryton_down_is_a_transient_error_not_a_dead_letter(erp, server):
    server.stop()
    try:
        with pytest.raises(TransientError, match="unreachable") as raised:
            erp.write("customers", _customer(), None)
        assert not isinstance(raised.value, RecordError)
    finally:
        server.start()
