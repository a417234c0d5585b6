"""What finance meets on the receivables page (issue 16, item 7): the levels and "days late"
explained from the pipeline in use, the total overdue, filters by stage, sales owner and
customer, links to the orders, acknowledge/snooze per alert (CSRF-checked POST, then a redirect
back to the filtered list) and an ageing chart that fits a phone and the desktop; sales is kept out."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from sqlalchemy import select

from hub.auth.models import Role
from hub.auth.tokens import create_token
from hub.db import session_scope
from hub.documents.models import Order
from hub.master.ingest import CustomerMaster
from hub.receivables.models import Alert, Instalment
from hub.receivables.scan import scan
from tests.integration.test_receivables import D, put
from tests.support.browser import PHONE, live_hub, sign_in
from tests.support.pages import sign_in_client

AS_OF = D("2026-02-20")  # the signings were due 16 Jan, + 3 grace days: 32 days late, level 3
DESKTOP = {"viewport": {"width": 1366, "height": 900}}


def _token(database_url: str, role: Role) -> str:
    with session_scope(database_url) as session:
        return create_token(session, role, f"{role.value} person")[1]


def _two_customers_overdue(database_url: str, mappings_dir: Path) -> dict[str, int]:
    """SO-1 of Müller GmbH (owner ann), SO-2 of Suzuki KK (owner bob): both signings 300 EUR
    overdue on 20 Feb. Returns the order ids and customer ids by name."""
    ids: dict[str, int] = {}
    for n, owner, name in ((1, "ann@sales.example", "Müller GmbH"), (2, "bob@sales.example", "Suzuki KK")):
        put(
            database_url,
            "opportunity",
            f"OPP-{n}",
            number=f"OPP-{n}",
            stage="won",
            owner=owner,
            expected_close=D("2026-01-02"),
        )
        put(
            database_url,
            "order",
            str(n),
            number=f"SO-{n}",
            reference=f"OPP-{n}",
            status="confirmed",
            ordered_on=D("2026-01-05"),
            currency="EUR",
            total=Decimal(1000),
            lines=[],
        )
        with session_scope(database_url) as session:
            golden = CustomerMaster(session, mappings_dir).ingest("crm", f"C{n}", {"name": name, "country": "DE"})
            order = session.scalars(select(Order).where(Order.number == f"SO-{n}")).one()
            order.customer_id = golden.golden_id
            ids[f"SO-{n}"], ids[name] = order.id, golden.golden_id
    scan(database_url, mappings_dir, AS_OF, send=False)
    return ids


def _html(answer: Any) -> Any:
    assert answer.status_code == 200, (answer.status_code, answer.text[:300])
    return lxml.html.fromstring(answer.text)


def _text(doc: Any, css_id: str) -> str:
    [node] = doc.xpath(f'//*[@id="{css_id}"]')
    return re.sub(r"\s+", " ", node.text_content()).strip()


def _rows(doc: Any) -> list[str]:
    return [row.get("data-instalment") for row in doc.xpath('//table[@id="overdue"]/tbody/tr')]


def _alert(database_url: str, reference: str) -> Alert:
    with session_scope(database_url) as session:
        alert = session.scalars(select(Alert).join(Instalment).where(Instalment.reference == reference)).one()
        session.expunge(alert)
        return alert


def test_finance_reads_what_levels_and_days_late_mean_and_the_total(client, database_url, mappings_dir):
    ids = _two_customers_overdue(database_url, mappings_dir)
    sign_in_client(client, _token(database_url, Role.finance))
    doc = _html(client.get("/finance/receivables?as_of=2026-02-20"))
    explained = _text(doc, "how-to-read")
    # the grace and levels come from mappings/pipelines/default.yaml, in words
    assert "days late counts the days since the grace ran out" in explained
    assert "Contract signed due 14 days after the stage, 3 grace days" in explained
    assert "Level 1: from 1 day late; alerts finance." in explained
    assert "Level 3: from 30 days late; alerts finance and the sales owner; credit hold recommended" in explained
    assert "Snooze: no further alert for that payment until the date you pick" in explained
    assert "Total overdue: 600.00 EUR in 2 payments" in _text(doc, "total-overdue")
    [first] = doc.xpath('//tr[@data-instalment="SO-1/signing"]')
    cells = {td.get("data-label"): td.text_content().strip() for td in first.xpath("td")}
    assert (cells["Due"], cells["Past due date"], cells["Days late"]) == ("2026-01-16", "35", "32")
    assert cells["Customer"] == "Müller GmbH" and cells["Order"] == "SO-1"
    assert re.sub(r"\s+", " ", cells["Level"]) == "3 credit hold" and cells["Sales owner"] == "ann@sales.example"
    assert first.xpath('.//a[text()="SO-1"]/@href') == [f"/orders/{ids['SO-1']}"]


def test_finance_filters_by_stage_owner_and_customer(client, database_url, mappings_dir):
    ids = _two_customers_overdue(database_url, mappings_dir)
    sign_in_client(client, _token(database_url, Role.finance))
    page = "/finance/receivables?as_of=2026-02-20"
    assert _rows(_html(client.get(page))) == ["SO-1/signing", "SO-2/signing"]
    bob = _html(client.get(f"{page}&owner=bob@sales.example"))
    assert _rows(bob) == ["SO-2/signing"]
    assert "Total overdue (filtered): 300.00 EUR in 1 payment" in _text(bob, "total-overdue")
    assert bob.xpath('//select[@name="owner"]/option[@selected]/@value') == ["bob@sales.example"]
    muller = _html(client.get(f"{page}&customer={ids['Müller GmbH']}"))
    assert _rows(muller) == ["SO-1/signing"]
    assert [o.text for o in muller.xpath('//select[@name="customer"]/option')][1:] == ["Müller GmbH", "Suzuki KK"]
    signing = _html(client.get(f"{page}&stage=signing&owner=ann@sales.example"))
    assert _rows(signing) == ["SO-1/signing"]
    none = _html(client.get(f"{page}&stage=delivery"))
    assert _text(none, "none-overdue") == "Nothing is overdue for stage delivery."
    assert "Total overdue (filtered): 0.00" in _text(none, "total-overdue")
    assert client.get(f"{page}&owner={'x' * 201}").status_code == 422  # bounded


def test_finance_acknowledges_and_snoozes_an_alert_post_redirect_get(client, database_url, mappings_dir):
    _two_customers_overdue(database_url, mappings_dir)
    csrf = sign_in_client(client, _token(database_url, Role.finance))
    alert = _alert(database_url, "SO-2/signing")
    ack = f"/finance/receivables/alerts/{alert.id}/acknowledge"
    back = "as_of=2026-02-20&owner=bob@sales.example&evil=1"

    forged = client.post(ack, data={"back": back}, follow_redirects=False)
    assert forged.status_code == 403 and _alert(database_url, "SO-2/signing").status == "open"

    done = client.post(ack, data={"csrf": csrf, "back": back}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == (
        f"/finance/receivables?as_of=2026-02-20&owner=bob%40sales.example&done={alert.id}"
    )
    doc = _html(client.get(done.headers["location"]))
    assert _text(doc, "done") == "acknowledged SO-2/signing (level 3) acknowledged by finance person."
    assert _rows(doc) == ["SO-2/signing"]  # still filtered as before
    cell = doc.xpath('//tr[@data-instalment="SO-2/signing"]/td[@data-label="Alert"]')[0].text_content()
    assert "acknowledged" in cell and "by finance person" in cell
    assert _alert(database_url, "SO-2/signing").acknowledged_by == "finance person"

    snooze = f"/finance/receivables/alerts/{alert.id}/snooze"
    past = client.post(snooze, data={"csrf": csrf, "until": "2020-01-01"})  # followed: the list says why
    assert "Not done: snooze until a day after today" in _text(_html(past), "action-error")
    assert _alert(database_url, "SO-2/signing").status == "acknowledged"
    until = date.today() + timedelta(days=10)
    snoozed = client.post(snooze, data={"csrf": csrf, "until": until.isoformat()})
    assert f"until {until.isoformat()}: no further alert for it before then" in _text(_html(snoozed), "done")
    assert (_alert(database_url, "SO-2/signing").status, _alert(database_url, "SO-2/signing").snoozed_until) == (
        "snoozed",
        until,
    )
    missing = client.post("/finance/receivables/alerts/999999/acknowledge", data={"csrf": csrf})
    assert "Not done: alert 999999 does not exist" in _text(_html(missing), "action-error")


@pytest.mark.browser
def test_finance_page_fits_a_phone_and_the_desktop_and_acknowledges(browser: Any, settings, database_url, mappings_dir):
    _two_customers_overdue(database_url, mappings_dir)
    token = _token(database_url, Role.finance)
    with live_hub(settings) as url:
        for name, size in (("phone", PHONE), ("desktop", DESKTOP)):
            page = browser.new_page(**size)
            sign_in(page, url, token)
            page.click("text=Receivables")
            page.goto(f"{url}/finance/receivables?as_of=2026-02-20")
            assert page.locator("#overdue tbody tr").count() == 2
            bars = {
                b.get_attribute("data-bucket"): float(b.get_attribute("data-value"))
                for b in page.locator("#ageing-chart .bucket").all()
            }
            assert bars == {"current": 0.0, "1-30": 0.0, "31-60": 600.0, "61-90": 0.0, "90+": 0.0}
            width = size["viewport"]["width"]
            chart = page.locator("#ageing-chart").bounding_box()
            bar = page.locator('#ageing-chart [data-bucket="31-60"] .fill').bounding_box()
            assert chart["x"] >= 0 and chart["x"] + chart["width"] <= width
            assert bar["width"] > chart["width"] * 0.3  # the biggest bucket is drawn wide, inside the chart
            empty = page.locator('#ageing-chart [data-bucket="1-30"] .fill').bounding_box()
            assert empty is None or empty["width"] < 1  # an empty bucket has no bar
            assert page.evaluate("document.documentElement.scrollWidth") <= width, name
            page.screenshot(path=str(mappings_dir.parent / f"receivables-{name}.png"), full_page=True)
            page.close()

        page = browser.new_page(**PHONE)
        sign_in(page, url, token)
        page.goto(f"{url}/finance/receivables?as_of=2026-02-20&owner=ann@sales.example")
        page.click('tr[data-instalment="SO-1/signing"] button.acknowledge')
        page.wait_for_selector("#done")
        assert "SO-1/signing (level 3) acknowledged by finance person" in page.inner_text("#done")
        assert page.locator("#overdue tbody tr").count() == 1  # back to the filtered list
        assert "/alerts/" not in page.url  # a GET: reloading it sends nothing again
        page.reload()
        assert _alert(database_url, "SO-1/signing").status == "acknowledged"
        page.close()

        sales = browser.new_page()
        sign_in(sales, url, _token(database_url, Role.sales))
        sales.goto(f"{url}/finance/receivables")
        assert "This page is for" in sales.inner_text("main")
