"""The call-centre view (issue 16): a customer looked up by whatever the caller gives, then
everything the hub knows of them on one page — on a phone too."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from connectors.base import SourceRecord
from hub.auth.models import Role
from hub.auth.tokens import create_token
from hub.db import session_scope
from hub.master.lookup import lookup
from hub.settings import BUNDLED_MAPPINGS
from hub.sync.engine import Applier
from tests.support.browser import PHONE, live_hub, sign_in


def _apply(url: str, system: str, entity: str, records: list[tuple[str, dict[str, Any]]]) -> None:
    with session_scope(url) as session:
        results = Applier(session, BUNDLED_MAPPINGS, system).many(
            entity, [(SourceRecord(ext, fields), fields) for ext, fields in records]
        )
    assert not [r for r in results if isinstance(r, Exception)], results


def _seed(url: str) -> None:
    _apply(
        url,
        "erp",
        "customer",
        [
            (
                "7",
                {
                    "name": "Müller Maschinenbau GmbH",
                    "tax_id": "DE136695976",
                    "phone": "+49 30 1234567",
                    "city": "Berlin",
                    "country": "DE",
                },
            ),
            ("8", {"name": "Schmidt Logistik GmbH", "phone": "+49 40 7654321", "city": "Hamburg", "country": "DE"}),
        ],
    )
    _apply(url, "crm", "customer", [("A1", {"name": "MUELLER MASCHINENBAU", "phone": "030 1234567", "country": "DE"})])
    _apply(
        url,
        "erp",
        "order",
        [
            (
                "12",
                {
                    "number": "SO00012",
                    "customer": "7",
                    "status": "confirmed",
                    "owner": "a.sales",
                    "ordered_on": date.today() - timedelta(days=60),
                    "currency": "EUR",
                    "total": Decimal("1000"),
                    "lines": [{"id": "L1", "product": "P1", "quantity": Decimal("1"), "unit_price": Decimal("1000")}],
                },
            )
        ],
    )
    _apply(
        url,
        "erp",
        "invoice",
        [
            (
                "44",
                {
                    "number": "RE-44",
                    "order": "12",
                    "customer": "7",
                    "status": "open",
                    "total": Decimal("1000"),
                    "amount_due": Decimal("400"),
                    "issued_on": date.today() - timedelta(days=40),
                    "due_dates": [{"date": date.today() - timedelta(days=10), "amount": Decimal("400")}],
                },
            )
        ],
    )
    _apply(
        url,
        "crm",
        "case",
        [
            (
                "C-9",
                {"number": "C-9", "customer": "A1", "subject": "Spindle noise", "status": "open", "priority": "high"},
            )
        ],
    )


@pytest.mark.parametrize(
    "said",
    [
        "030 1234567",
        "030/123 45 67",
        "+49 30 1234567",
        "0049 30 1234567",
        "DE 136 695 976",
        "so00012",
        "RE-44",
        "mueller maschinenbau",
        "A1",
    ],
)
def test_a_caller_is_found_by_whatever_they_give(database_url, said):
    _seed(database_url)
    with session_scope(database_url) as session:
        found = lookup(session, said)
        assert [f.golden.name for f in found] == ["Müller Maschinenbau GmbH"], (said, found)


def test_a_lookup_that_finds_nothing_says_so(database_url):
    _seed(database_url)
    with session_scope(database_url) as session:
        assert lookup(session, "+1 212 555 0100") == []
        assert lookup(session, "   ") == []


#: A common laptop screen, the call centre's desk.
DESKTOP = {"viewport": {"width": 1366, "height": 900}}


@pytest.mark.browser
def test_the_customer_page_on_a_phone_and_a_desktop(browser, settings, database_url, tmp_path):
    """The same customer page reads whole at 390x844 and at 1366x900: the golden record, the open
    orders and what is due, with nothing wider than the screen; a screenshot of each is kept."""
    _seed(database_url)
    with session_scope(database_url) as session:
        finance = create_token(session, Role.finance, "f.clerk")[1]
        sales = create_token(session, Role.sales, "b.sales")[1]
    with live_hub(settings) as url:
        for name, size in (("phone", PHONE), ("desktop", DESKTOP)):
            page = browser.new_page(**size)
            sign_in(page, url, finance)
            page.goto(f"{url}/customers?q=030%201234567")
            assert page.locator("#name").inner_text().startswith("Müller Maschinenbau GmbH"), name
            assert page.locator("#name").is_visible(), name
            assert page.locator("#overdue").is_visible(), name
            assert page.locator("#orders").is_visible(), name
            assert "SO00012" in page.locator("#orders").inner_text()
            assert "overdue" in page.locator("#orders").inner_text()
            assert page.locator("#invoices").is_visible(), name
            assert "RE-44" in page.locator("#invoices").inner_text()
            assert "400" in page.locator("#invoices").inner_text()  # what is still due
            assert "Spindle noise" in page.locator("#cases").inner_text()
            assert {"erp", "crm"} <= set(page.locator("#sources").inner_text().split())
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= size["viewport"]["width"], f"the page is {width} px wide on a {name}"
            page.screenshot(path=str(tmp_path / f"customer-{name}.png"), full_page=True)
            page.close()

        other = browser.new_page(**PHONE)  # a salesperson who does not own the order
        sign_in(other, url, sales)
        other.goto(f"{url}/customers?q=SO00012")
        orders = other.locator("#orders").inner_text()
        assert "not your order" in orders and "400" not in orders
        assert other.locator("#invoices").count() == 0
        other.goto(f"{url}/customers?q=nobody%20at%20all")
        assert other.locator("#nothing").is_visible()
        other.close()
