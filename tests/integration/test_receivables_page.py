"""The finance page in a real Chromium: the overdue list and the ageing chart; sales is kept out."""

from __future__ import annotations

from typing import Any

import pytest

from hub.auth.models import Role
from hub.auth.tokens import create_token
from hub.db import session_scope
from hub.receivables.scan import scan
from tests.integration.test_receivables_notify import two_overdue_orders
from tests.support.browser import PHONE, live_hub, sign_in

pytestmark = pytest.mark.browser


def _token(database_url: str, role: Role) -> str:
    with session_scope(database_url) as session:
        return create_token(session, role, f"{role.value} person")[1]


def test_finance_sees_overdue_payments_and_the_ageing_chart(browser: Any, settings, database_url, mappings_dir):
    two_overdue_orders(database_url)
    scan(database_url, mappings_dir, __import__("datetime").date(2026, 2, 20), send=False)
    with live_hub(settings) as url:
        page = browser.new_page(**PHONE)
        sign_in(page, url, _token(database_url, Role.finance))
        page.click("text=Receivables")
        page.goto(f"{url}/finance/receivables?as_of=2026-02-20")
        rows = page.locator("#overdue tbody tr")
        assert rows.count() == 2
        first = rows.nth(0).inner_text()
        # 32 days past due + grace (19 Jan): level 3, credit hold recommended
        assert ["SO-1/signing", "2026-01-16", "32", "300.00 EUR", "3", "credit hold", "ann@sales.example"] == [
            cell for cell in first.split("\n") if cell != "—" and cell != "signing"
        ]
        bars = {
            b.get_attribute("data-bucket"): float(b.get_attribute("data-value"))
            for b in page.locator("#ageing-chart g.bucket").all()
        }
        assert bars == {"current": 0.0, "1-30": 0.0, "31-60": 600.0, "61-90": 0.0, "90+": 0.0}
        assert page.locator("#ageing-chart rect").nth(2).bounding_box()["width"] > 50  # the bar is drawn
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(mappings_dir.parent / "receivables.png"), full_page=True)

        sales = browser.new_page()
        sign_in(sales, url, _token(database_url, Role.sales))
        sales.goto(f"{url}/finance/receivables")
        assert "This page is for" in sales.inner_text("main")
