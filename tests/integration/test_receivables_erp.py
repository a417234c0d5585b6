"""Receivables that agree with the ERP (a real Tryton 8.2), right after a sync, before any scan.

Three orders, made once per module in one Tryton:

* "split": 8 pumps (10,000 EUR) with the payment term "30 % now, 70 % in 30 days", invoiced in
  full, payment term date 20 days ago (3,000 due 20 days ago, 7,000 in 10 days), 1,000 paid;
* "credited": a Net 30 order shipped and invoiced, its invoice cancelled by a credit note
  (Tryton: invoice cancelled with a cancel move, credit note paid, sale paid and done);
* the seed's "paid" order (shipped, invoiced, paid in full).

The hub's plan for all of them is 30/60/10 by stage; what is due, when, must be the ERP's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from hub.db import session_scope
from hub.demo.erp_bulk import skip_vat_warnings as _skip_vat_warnings
from hub.demo.erp_scenario import sale_values as _sale_values
from hub.demo.erp_scenario import ship as _ship
from hub.demo.erp_setup import one2many as _one2many
from hub.documents.models import Invoice, Order
from hub.documents.status import order_status
from hub.receivables.models import Instalment
from hub.receivables.reports import ageing
from hub.sync.connections import add_connection
from hub.sync.engine import SyncEngine
from tests.support import tryton
from tests.support.finance import KEY

pytestmark = pytest.mark.timeout(600)
needs_tryton = pytest.mark.skipif(not tryton.trytond_available(), reason=tryton.SKIP_REASON)

TODAY = dt.date.today()
FIRST_DUE = TODAY - dt.timedelta(days=20)  # the payment term date: "30 % now"
SECOND_DUE = FIRST_DUE + dt.timedelta(days=30)  # "70 % in 30 days": in 10 days


def _sale(
    client: tryton.TrytonClient, setup: dict[str, Any], reference: str, payment_term: int, pumps: float
) -> dict[str, Any]:
    """A confirmed sale of pumps for Müller, invoiced on order (the invoice exists, draft)."""
    values = _sale_values(
        setup["customers"]["mueller"], [(setup["products"]["P-100"], pumps)], setup, reference=reference, today=TODAY
    )
    values.update(payment_term=payment_term, invoice_method="order")
    [sale_id] = client.create("sale.sale", [values])
    client.button("sale.sale", "quote", [sale_id])
    client.button("sale.sale", "confirm", [sale_id])  # queues process: invoice and shipment exist now
    [sale] = client.read("sale.sale", [sale_id], ["number", "shipments", "invoices"])
    return sale


@pytest.fixture(scope="module")
def erp(tryton_server: tryton.TrytonServer) -> Iterator[tuple[tryton.TrytonServer, dict[str, Any]]]:
    # The run's one Tryton (tests/conftest.py), from the pristine seed plus this module's orders.
    with contextlib.nullcontext(tryton_server.reset_database()) as server:
        setup = server.seed
        with server.client() as client:
            _skip_vat_warnings(client)  # the credit note's post asks about Müller's unchecked VAT number
            [split_term] = client.create(
                "account.invoice.payment_term",
                [
                    {
                        "name": "30 % now, 70 % in 30 days",
                        "lines": _one2many(
                            [
                                {
                                    "type": "percent",
                                    "ratio": Decimal("0.3"),
                                    "divisor": Decimal("3.33333333"),
                                    "relativedeltas": _one2many([]),
                                },
                                {"type": "remainder", "relativedeltas": _one2many([{"days": 30}])},
                            ]
                        ),
                    }
                ],
            )
            split = _sale(client, setup, "PRJ-ERP-SPLIT", split_term, 8.0)
            [invoice_id] = split["invoices"]
            client.write("account.invoice", [invoice_id], {"payment_term_date": FIRST_DUE})
            client.button("account.invoice", "post", [invoice_id], skip_warnings=True)
            client.wizard(
                "account.invoice.pay",
                [
                    (
                        "choice",
                        {
                            "payment_method": setup["payment_method"]["id"],
                            "date": TODAY,
                            "description": "Bank transfer",
                            "amount": Decimal(1000),
                        },
                    ),
                    ("pay", {"type": "partial"}),
                ],
                active_model="account.invoice",
                active_ids=[invoice_id],
            )
            [split_invoice] = client.read(
                "account.invoice", [invoice_id], ["state", "amount_to_pay", "amount_to_pay_today", "total_amount"]
            )

            credited = _sale(client, setup, "PRJ-ERP-CREDIT", setup["payment_term"]["id"], 2.0)
            _ship(client, credited["shipments"])
            [credited_invoice] = credited["invoices"]
            client.button("account.invoice", "post", [credited_invoice], skip_warnings=True)
            client.wizard(
                "account.invoice.credit",
                [("credit", {"with_refund": True})],
                active_model="account.invoice",
                active_ids=[credited_invoice],
            )
            [credited_sale] = client.read(
                "sale.sale",
                [client.search("sale.sale", [("number", "=", credited["number"])])[0]],
                ["state", "invoice_state"],
            )
            [cancelled] = client.read("account.invoice", [credited_invoice], ["state"])
        facts = {
            "split": split["number"],
            "split_invoice": split_invoice,
            "credited": credited["number"],
            "credited_sale": credited_sale,
            "credited_invoice": cancelled,
            "paid": setup["sales"]["paid"]["number"],
        }
        yield server, facts


@pytest.fixture
def synced(erp, database_url: str, mappings_dir) -> tuple[str, dict[str, Any]]:
    """One sync of everything from the ERP into the hub; no receivables scan."""
    server, facts = erp
    with session_scope(database_url) as session:
        add_connection(
            session,
            name="erp",
            kind="tryton",
            secret_key=KEY,
            settings={"url": server.url, "database": server.database, "login": server.login},
            secrets={"password": server.password},
        )
    assert all(r.status == "done" for r in SyncEngine(database_url, mappings_dir, KEY).sync("erp"))
    return database_url, facts


def _order(session: Any, number: str) -> Order:
    return session.scalar(select(Order).where(Order.number == number))


def _plan(session: Any, order: Order) -> dict[str, Instalment]:
    return {i.stage: i for i in session.scalars(select(Instalment).where(Instalment.order_id == order.id))}


@needs_tryton
def test_an_invoiced_order_is_due_at_its_invoice_maturities_and_overdue_at_the_first(synced):
    url, facts = synced
    invoice = facts["split_invoice"]
    assert (invoice["state"], Decimal(str(invoice["amount_to_pay_today"]))) == ("posted", Decimal(2000))
    with session_scope(url) as session:
        order = _order(session, facts["split"])
        plan = _plan(session, order)
        # the ERP's payment terms, not the plan's 14 days after signing: 3,000 twenty days ago,
        # of which 1,000 paid; the rest in ten days
        assert {s: (i.due_date, i.outstanding) for s, i in plan.items()} == {
            "signing": (FIRST_DUE, Decimal(2000)),
            "delivery": (SECOND_DUE, Decimal(6000)),
            "acceptance": (SECOND_DUE, Decimal(1000)),
        }
        status = order_status(session, order.id, TODAY)
        assert status["overdue"] is True
        assert (status["next_instalment"]["due_date"], status["next_instalment"]["outstanding"]) == (
            FIRST_DUE.isoformat(),
            "2000.00",
        )  # what Tryton calls amount to pay today
        report = ageing(session, TODAY)
    # past due: only the 2,000 still open at the first maturity (the other orders are due later)
    late = {(r["stage"], bucket): r[bucket] for r in report["rows"] for bucket in report["buckets"][1:] if r[bucket]}
    assert late == {("signing", "1-30"): 2000.0}


@needs_tryton
def test_an_invoice_cancelled_by_a_credit_note_leaves_nothing_due_on_its_order(synced):
    url, facts = synced
    assert (facts["credited_sale"]["invoice_state"], facts["credited_invoice"]["state"]) == ("paid", "cancelled")
    with session_scope(url) as session:
        order = _order(session, facts["credited"])
        notes = session.scalars(select(Invoice).where(Invoice.order_id == order.id, Invoice.total < 0)).all()
        assert len(notes) == 1  # the credit note is the order's
        assert {s: i.outstanding for s, i in _plan(session, order).items()} == {
            "signing": 0,
            "delivery": 0,
            "acceptance": 0,
        }
        status = order_status(session, order.id, TODAY)
        assert (status["next_instalment"], status["overdue"]) == (None, False)


@needs_tryton
def test_a_paid_order_shows_nothing_due_right_after_the_sync(synced):
    url, facts = synced
    with session_scope(url) as session:
        order = _order(session, facts["paid"])
        assert {i.status for i in _plan(session, order).values()} == {"paid"}
        status = order_status(session, order.id, TODAY)
        assert (status["next_instalment"], status["overdue"]) == (None, False)


def _ordered_and_invoiced(url: str, amount_due: Decimal, due_dates: list[dict[str, Any]]) -> None:
    """SO-1, 10,000 EUR confirmed today (30/60/10 plan), and an open invoice of 5,000 for it."""
    from hub.documents.ingest import DocumentStore

    with session_scope(url) as session:
        store = DocumentStore(session)
        store.apply(
            "erp",
            "order",
            "1",
            {
                "number": "SO-1",
                "status": "confirmed",
                "ordered_on": TODAY,
                "currency": "EUR",
                "total": Decimal(10000),
                "lines": [],
            },
        )
        store.apply(
            "erp",
            "invoice",
            "I1",
            {
                "number": "INV-1",
                "order": "1",
                "status": "open",
                "issued_on": TODAY - dt.timedelta(days=40),
                "currency": "EUR",
                "total": Decimal(5000),
                "amount_due": amount_due,
                "due_dates": due_dates,
            },
        )


def test_an_instalment_across_two_maturities_ages_each_part_at_its_own_date(database_url, mappings_dir):
    """The plan's 3,000 at signing meets an invoice of 5,000 due 1,000 forty days ago and 4,000
    in twenty days: 1,000 of signing is overdue (31-60 days), 2,000 is not due yet."""
    from hub.receivables.scan import scan

    past, later = TODAY - dt.timedelta(days=40), TODAY + dt.timedelta(days=20)
    _ordered_and_invoiced(
        database_url, Decimal(5000), [{"date": past, "amount": Decimal(1000)}, {"date": later, "amount": Decimal(4000)}]
    )
    scan(database_url, mappings_dir, TODAY, send=False)
    with session_scope(database_url) as session:
        order = _order(session, "SO-1")
        plan = _plan(session, order)
        assert (plan["signing"].due_date, plan["signing"].status) == (past, "overdue")
        assert (plan["delivery"].due_date, plan["delivery"].outstanding) == (later, Decimal(6000))
        rows = {r["stage"]: r for r in ageing(session, TODAY)["rows"]}
    assert (rows["signing"]["31-60"], rows["signing"]["current"]) == (1000.0, 2000.0)
    # delivery: 2,000 invoiced, due in twenty days; 4,000 not invoiced, its stage not reached
    assert (rows["delivery"]["current"], rows["delivery"]["total"]) == (2000.0, 2000.0)


def test_what_the_erp_says_is_open_is_what_is_left_to_pay(database_url, mappings_dir):
    """The ERP says 1,000 of the 5,000 invoice is open (a write-off, a payment the hub has not
    read): 4,000 is paid, from the earliest due first."""
    from hub.receivables.scan import scan

    _ordered_and_invoiced(
        database_url, Decimal(1000), [{"date": TODAY - dt.timedelta(days=40), "amount": Decimal(5000)}]
    )
    scan(database_url, mappings_dir, TODAY, send=False)
    with session_scope(database_url) as session:
        plan = _plan(session, _order(session, "SO-1"))
        assert {s: (i.paid, i.status) for s, i in plan.items()} == {
            "signing": (Decimal(3000), "paid"),
            "delivery": (Decimal(1000), "overdue"),
            "acceptance": (Decimal(0), "pending"),
        }
        assert plan["delivery"].outstanding == Decimal(5000)  # 1,000 invoiced and open, 4,000 still to invoice
