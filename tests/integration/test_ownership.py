"""Sales ownership of orders: a salesperson changes only their own orders and sees the payment
side (paid, open amounts, instalments, overdue) only of their own; finance, IT and admin see all."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hub.api.app import create_app
from hub.auth.models import Role
from hub.auth.tokens import create_token
from hub.db import session_scope
from hub.documents.models import Invoice, Order, Payment
from hub.master.ingest import CustomerMaster
from hub.outbox.models import OutboxEvent
from hub.settings import Settings
from tests.support.pages import csrf_of

PAYMENT_FIELDS = ("paid", "next_instalment", "overdue")


@pytest.fixture
def golden_id(database_url: str, mappings_dir: Path) -> int:
    with session_scope(database_url) as session:
        return (
            CustomerMaster(session, mappings_dir).ingest("crm", "A1", {"name": "Okafor Ltd", "country": "GB"}).golden_id
        )


def _named(database_url: str, role: Role, name: str) -> tuple[str, dict[str, str]]:
    with session_scope(database_url) as session:
        clear = create_token(session, role, name)[1]
    return clear, {"Authorization": f"Bearer {clear}"}


def _order(golden: int, price: str = "100.00", owner: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "number": "WEB-1",
        "customer_id": golden,
        "lines": [{"product": "P-1", "quantity": "2", "unit_price": price}],
    }
    return body | ({"owner": owner} if owner else {})


def _invoiced(database_url: str, order_id: int) -> None:
    """The ERP invoiced 200, 50 paid, the rest due yesterday."""
    with session_scope(database_url) as session:
        invoice = Invoice(
            number="INV-1",
            order_id=order_id,
            status="open",
            issued_on=date.today(),
            total=Decimal(200),
            amount_due=Decimal(150),
            due_dates=[{"date": (date.today() - timedelta(days=1)).isoformat(), "amount": "150"}],
        )
        session.add(invoice)
        session.flush()
        session.add(Payment(invoice_id=invoice.id, amount=Decimal(50), paid_on=date.today()))


def _state(database_url: str) -> tuple[str | None, Decimal | None, int]:
    with session_scope(database_url) as session:
        order = session.scalars(select(Order)).one()
        return order.owner, order.total, session.scalar(select(func.count()).select_from(OutboxEvent)) or 0


def test_another_salesperson_cannot_rewrite_or_take_over_an_order(
    client: Any, database_url: str, golden_id: int
) -> None:
    _a, anna = _named(database_url, Role.sales, "anna")
    _b, bert = _named(database_url, Role.sales, "bert")
    created = client.post("/api/v1/orders", json=_order(golden_id), headers=anna)
    assert created.status_code == 201, created.text
    before = _state(database_url)
    assert before[0] == "anna"  # a salesperson's order is their own without saying so

    for body in (_order(golden_id, price="0.01"), _order(golden_id, price="0.01", owner="bert")):
        refused = client.post("/api/v1/orders", json=body, headers=bert)
        assert refused.status_code == 403 and "only its own orders" in refused.json()["detail"]
    assert _state(database_url) == before  # unchanged, and nothing more queued for the ERP

    handed_over = client.post("/api/v1/orders", json=_order(golden_id, owner="bert"), headers=anna)
    assert handed_over.status_code == 403 and "only for itself" in handed_over.json()["detail"]
    assert _state(database_url) == before

    assert client.post("/api/v1/orders", json=_order(golden_id, price="90"), headers=anna).json()["change"] == "updated"
    _i, it = _named(database_url, Role.it, "it desk")
    assert (
        client.post("/api/v1/orders", json=_order(golden_id, price="90", owner="bert"), headers=it).status_code == 200
    )
    assert _state(database_url)[0] == "bert"  # IT may reassign
    assert client.post("/api/v1/orders", json=_order(golden_id, price="80"), headers=it).json()["change"] == "updated"
    assert _state(database_url)[0] == "bert"  # an update naming no owner keeps the owner


def test_only_the_owner_and_finance_see_the_payment_side_of_an_order(
    client: Any, database_url: str, golden_id: int
) -> None:
    _a, anna = _named(database_url, Role.sales, "anna")
    _b, bert = _named(database_url, Role.sales, "bert")
    _f, finance = _named(database_url, Role.finance, "fiona")
    url = client.post("/api/v1/orders", json=_order(golden_id), headers=anna).json()["status_url"]
    order_id = int(url.split("/")[-2])
    _invoiced(database_url, order_id)

    for own in (anna, finance):
        status = client.get(url, headers=own).json()
        assert status["paid"] == "50.00" and status["overdue"] is True
        assert status["invoices"][0]["amount_due"] == "150.00" and "payment_details" not in status

    other = client.get(url, headers=bert).json()
    assert other["payment_details"] == "not your order"
    assert not any(field in other for field in PAYMENT_FIELDS)
    assert other["invoices"] == [
        {"id": other["invoices"][0]["id"], "number": "INV-1", "issued_on": date.today().isoformat()}
    ]
    assert other["number"] == "WEB-1" and other["lines"][0]["ordered"] == "2"  # where it is: still shown
    assert "150" not in str(other["timeline"]) and "50.00" not in str(other)


def _page(settings: Settings, token: str, path: str) -> str:
    """The page as a signed-in user gets it: through the login form, in a browser of its own."""
    with TestClient(create_app(settings)) as browser:
        form = browser.get("/login")  # its CSRF cookie and field
        login = browser.post("/login", data={"token": token, "next": path, "csrf": csrf_of(form.text)})
        assert login.status_code == 200 and login.url.path == path, login.text
        return login.text


def test_the_order_page_hides_the_payment_side_from_another_salesperson(
    settings: Settings, client: Any, database_url: str, golden_id: int
) -> None:
    anna_token, anna = _named(database_url, Role.sales, "anna")
    bert_token, _bert = _named(database_url, Role.sales, "bert")
    url = client.post("/api/v1/orders", json=_order(golden_id), headers=anna).json()["status_url"]
    order_id = int(url.split("/")[-2])
    _invoiced(database_url, order_id)
    own, other = (_page(settings, token, f"/orders/{order_id}") for token in (anna_token, bert_token))
    assert "paid 50.00" in own and "150.00" in own and 'id="overdue"' in own
    assert "payment details: not your order" in other and "INV-1" in other
    assert "50.00" not in other and "150.00" not in other and 'id="overdue"' not in other
