"""Done when: an order from a real Tryton with a 30/60/10 plan reaches "delivered" by its
Tryton shipment; the delivery instalment is invoiced in the finance system and unpaid; past
due + grace one level-1 alert goes out by e-mail and webhook and is received; a payment in
finance resolves it; scanning again sends nothing twice."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from hub.db import session_scope
from hub.demo.erp_scenario import sale_values as _sale_values
from hub.demo.erp_scenario import ship as _ship
from hub.documents.models import Order
from hub.receivables.models import Alert, Instalment
from hub.receivables.scan import scan
from hub.sync.connections import add_connection
from hub.sync.engine import SyncEngine
from tests.integration.test_receivables_notify import notify_to, smtp, webhook  # noqa: F401 - fixtures
from tests.support import tryton
from tests.support.finance import KEY, connect, finance_server

pytestmark = [pytest.mark.skipif(not tryton.trytond_available(), reason=tryton.SKIP_REASON), pytest.mark.timeout(600)]


@pytest.fixture
def server(tryton_server: tryton.TrytonServer) -> tryton.TrytonServer:
    return tryton_server.start()  # the run's one Tryton (tests/conftest.py); the test resets it


def _shipped_sale(server: tryton.TrytonServer) -> str:
    """A project sale for Müller, invoiced by hand (in finance), its shipment done in Tryton."""
    setup, today = server.seed, dt.date.today()
    product = setup["products"]["P-100"]
    values = _sale_values(setup["customers"]["mueller"], [(product, 8.0)], setup, reference="PRJ-RCV-1", today=today)
    values["invoice_method"] = "manual"
    with server.client() as client:
        [sale_id] = client.create("sale.sale", [values])
        client.button("sale.sale", "quote", [sale_id])
        client.button("sale.sale", "confirm", [sale_id])  # queues process: the shipment exists now
        [sale] = client.read("sale.sale", [sale_id], ["number", "shipments", "invoices"])
        _ship(client, sale["shipments"])
        assert sale["invoices"] == []
    return str(sale["number"])


def _finance_invoice(books, contact_id: str, number: str, reference: str, amount: Decimal, due: dt.date) -> str:
    [invoice] = books.save(
        "Invoices",
        [
            {
                "Type": "ACCREC",
                "Contact": {"ContactID": contact_id},
                "InvoiceNumber": number,
                "Status": "AUTHORISED",
                "Reference": reference,
                "Date": dt.date.today().isoformat(),
                "DueDate": due.isoformat(),
                "CurrencyCode": "EUR",
                "LineItems": [
                    {
                        "Description": reference,
                        "Quantity": 1,
                        "UnitAmount": str(amount),
                        "AccountCode": "200",
                        "TaxType": "NONE",
                    }
                ],
            }
        ],
    )
    return invoice["InvoiceID"]


def _pay(books, invoice_id: str, amount: Decimal, reference: str) -> None:
    books.save(
        "Payments",
        [
            {
                "Invoice": {"InvoiceID": invoice_id},
                "Account": {"Code": "090"},
                "Date": dt.date.today().isoformat(),
                "Amount": str(amount),
                "Reference": reference,
            }
        ],
    )


def test_a_late_delivery_payment_is_caught_at_its_stage_and_resolved_by_finance(
    server,
    database_url,
    mappings_dir,
    smtp,  # noqa: F811 - fixtures
    webhook,  # noqa: F811 - fixtures
):
    server.reset_database()
    today = dt.date.today()
    notify_to(mappings_dir, webhook.url)
    pipeline = mappings_dir / "pipelines" / "default.yaml"  # projects only, not the seed's stock sales
    pipeline.write_text(
        pipeline.read_text().replace(
            "  order_status: [confirmed, processing, done]\n",
            "  order_status: [confirmed, processing, done]\n  reference_prefix: [PRJ-]\n",
            1,
        )
    )
    # The finance system's invoice reference names the instalment it bills (a column the
    # bundled accounting map should carry: see the report).
    accounting = mappings_dir / "connectors" / "accounting.yaml"
    if "number: InvoiceNumber\n      reference: Reference" not in accounting.read_text():
        accounting.write_text(
            accounting.read_text().replace(
                "      number: InvoiceNumber\n", "      number: InvoiceNumber\n      reference: Reference\n"
            )
        )
    number = _shipped_sale(server)

    with session_scope(database_url) as session:
        add_connection(
            session,
            name="erp",
            kind="tryton",
            secret_key=KEY,
            settings={"url": server.url, "database": server.database, "login": server.login},
            secrets={"password": server.password},
        )
    engine = SyncEngine(database_url, mappings_dir, KEY)
    assert all(r.status == "done" for r in engine.sync("erp"))
    scan(database_url, mappings_dir, today)
    with session_scope(database_url) as session:
        order = session.scalar(select(Order).where(Order.number == number))
        plan = {i.stage: i for i in session.scalars(select(Instalment).where(Instalment.order_id == order.id))}
    assert order.total == Decimal(10000)  # 8 pumps at 1,250
    assert {s: i.amount for s, i in plan.items()} == {
        "signing": Decimal(3000),
        "delivery": Decimal(6000),
        "acceptance": Decimal(1000),
    }
    delivery = plan["delivery"]
    assert (delivery.trigger_date, delivery.due_date) == (today, today + dt.timedelta(days=30))  # the shipment

    with finance_server() as books_server:
        books = books_server.books
        mueller = books_server.seed["contacts"]["mueller"]["ContactID"]
        signing = _finance_invoice(books, mueller, "INV-3001", f"{number}/signing", Decimal(3000), today)
        _pay(books, signing, Decimal(3000), "BANK-3001")
        billed = _finance_invoice(
            books, mueller, "INV-3002", f"{number}/delivery", Decimal(6000), today + dt.timedelta(days=30)
        )
        connect(database_url, books_server, overlap_seconds=0)
        assert all(r.status == "done" for r in engine.sync("finance"))

        late = today + dt.timedelta(days=30 + 5 + 1)  # past due + 5 grace days
        result = scan(database_url, mappings_dir, late)
        assert result.alerts_raised == 1 and result.failed == []
        with session_scope(database_url) as session:
            [alert] = session.scalars(select(Alert)).all()
            instalment = session.get(Instalment, alert.instalment_id)
            assert (instalment.reference, instalment.invoiced, instalment.paid, alert.level) == (
                f"{number}/delivery",
                Decimal(6000),
                0,
                1,
            )
        [(to, mail)] = smtp.messages
        assert to == ["finance@concord.example"] and f"{number}/delivery" in mail.get_payload()
        [hook] = webhook.received  # the receiver checked the signature
        assert [(a["instalment"], a["level"]) for a in hook["alerts"]] == [(f"{number}/delivery", 1)]

        _pay(books, billed, Decimal(6000), "BANK-3002")
        assert all(r.status == "done" for r in engine.sync("finance"))
        resolved = scan(database_url, mappings_dir, late + dt.timedelta(days=1))
        assert resolved.alerts_resolved == 1 and resolved.sent == []
    with session_scope(database_url) as session:
        assert session.scalar(select(Alert.status)) == "resolved"
        assert session.get(Instalment, alert.instalment_id).status == "paid"
    quiet = scan(database_url, mappings_dir, late + dt.timedelta(days=20))
    assert (quiet.alerts_raised, quiet.sent) == (0, [])
    assert len(smtp.messages) == 1 and len(webhook.received) == 1
