"""What sales meets on the order page (issue 16): an order that never reached the ERP says so,
a draft order has a title, an unknown order is a page, not raw JSON."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.auth.models import Role
from hub.auth.tokens import create_token
from hub.db import session_scope
from hub.master.ingest import CustomerMaster
from hub.outbox.dispatch import Dispatcher
from hub.receivables.scan import scan
from hub.sync.connections import add_connection
from hub.sync.engine import SyncEngine
from tests.integration.test_customer_page import _apply, _seed
from tests.support.browser import PHONE, live_hub, sign_in
from tests.support.pages import sign_in_client

KEY = "order-page-key"


def _setup(database_url: str, mappings_dir: Path) -> tuple[int, str]:
    (mappings_dir / "routes.yaml").write_text(
        "routes:\n  order:\n    entered_in: [crm, hub]\n    send_to: [{connection: erp, stream: orders}]\n"
    )
    with session_scope(database_url) as session:
        # the ERP is down: nothing listens on port 9
        add_connection(
            session,
            name="erp",
            kind="webhook",
            settings={"url": "http://127.0.0.1:9/hook"},
            secrets={"signing_secret": "s"},
            secret_key=KEY,
        )
        golden = (
            CustomerMaster(session, mappings_dir)
            .ingest("crm", "A1", {"name": "Suzuki Trading 株式会社", "country": "JP"})
            .golden_id
        )
        token = create_token(session, Role.sales, "a.sales")[1]
    return golden, token


def test_an_order_that_did_not_reach_the_erp_says_so(client: Any, database_url: str, mappings_dir: Path) -> None:
    golden, token = _setup(database_url, mappings_dir)
    posted = client.post(
        "/api/v1/orders",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "number": "WEB-9",
            "customer_id": golden,
            "lines": [{"product": "P", "quantity": "1", "unit_price": "5"}],
        },
    )
    assert posted.status_code == 201, posted.text
    dispatcher = Dispatcher(SyncEngine(database_url, mappings_dir, KEY))
    dispatcher.route()
    dispatcher.deliver("erp")
    status = client.get(posted.json()["status_url"], headers={"Authorization": f"Bearer {token}"}).json()
    [sent] = status["sent_to"]
    assert sent["target"] == "erp" and sent["status"] != "sent" and sent["error"]
    sign_in_client(client, token)
    page = client.get(f"/orders/{posted.json()['id']}")
    assert page.status_code == 200 and 'id="not-delivered"' in page.text and "erp" in page.text


def test_a_draft_order_has_a_title_and_an_unknown_order_is_a_page(
    client: Any, database_url: str, mappings_dir: Path
) -> None:
    golden, token = _setup(database_url, mappings_dir)
    posted = client.post(
        "/api/v1/orders",
        headers={"Authorization": f"Bearer {token}"},
        json={"customer_id": golden, "lines": [{"product": "P", "quantity": "1", "unit_price": "5"}]},
    )
    sign_in_client(client, token)
    page = client.get(f"/orders/{posted.json()['id']}")
    assert "Order None" not in page.text
    missing = client.get("/orders/999999")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html") and "no order 999999" in missing.text


def test_an_order_goes_to_the_customers_first_record_in_a_system_that_has_it_twice(
    client: Any, database_url: str, mappings_dir: Path
) -> None:
    """Issue 12: a sale went to whichever duplicate party was linked last."""
    from sqlalchemy import select

    from hub.sync.models import Link
    from tests.support.sink import webhook_sink

    (mappings_dir / "routes.yaml").write_text(
        "routes:\n  order:\n    entered_in: [crm, hub]\n    send_to: [{connection: erp, stream: orders}]\n"
    )
    with webhook_sink(prefix="SO") as sink:
        with session_scope(database_url) as session:
            add_connection(
                session,
                name="erp",
                kind="webhook",
                settings={"url": sink.url},
                secrets={"signing_secret": sink.secret},
                secret_key=KEY,
            )
            golden = (
                CustomerMaster(session, mappings_dir)
                .ingest("crm", "A1", {"name": "Suzuki Trading 株式会社", "country": "JP"})
                .golden_id
            )
            for party in ("P-1", "P-9"):  # the same customer twice in the ERP, P-1 first
                session.add(
                    Link(entity_type="customer", hub_id=golden, system="erp", external_id=party, content_hash="-")
                )
                session.flush()
            token = create_token(session, Role.sales, "a.sales")[1]
        posted = client.post(
            "/api/v1/orders",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "number": "WEB-7",
                "customer_id": golden,
                "lines": [{"product": "P", "quantity": "1", "unit_price": "5"}],
            },
        )
        assert posted.status_code == 201, posted.text
        dispatcher = Dispatcher(SyncEngine(database_url, mappings_dir, KEY))
        dispatcher.route()
        assert dispatcher.deliver("erp").sent == 1
        [sent] = sink.of("orders")
        assert sent["data"]["customer"] == "P-1"
        with session_scope(database_url) as session:
            assert (
                session.scalar(select(Link.external_id).where(Link.system == "erp", Link.entity_type == "order"))
                is not None
            )


# --- issue 16, item 6: stage, the whole plan, refusals with who fixes them, lists -------------


def _sink_connection(database_url: str, mappings_dir: Path, sink: Any) -> tuple[int, str]:
    """The ERP as a webhook sink; orders from the hub go there, and each gets one try."""
    (mappings_dir / "routes.yaml").write_text(
        "routes:\n  order:\n    entered_in: [crm, hub]\n"
        "    send_to: [{connection: erp, stream: orders, max_attempts: 1}]\n"
    )
    with session_scope(database_url) as session:
        add_connection(
            session,
            name="erp",
            kind="webhook",
            settings={"url": sink.url},
            secrets={"signing_secret": sink.secret},
            secret_key=KEY,
        )
        golden = (
            CustomerMaster(session, mappings_dir)
            .ingest("crm", "A1", {"name": "Suzuki Trading 株式会社", "country": "JP"})
            .golden_id
        )
        token = create_token(session, Role.sales, "a.sales")[1]
    return golden, token


def _post_and_send(client: Any, database_url: str, mappings_dir: Path, token: str, golden: int, number: str) -> int:
    posted = client.post(
        "/api/v1/orders",
        headers={"Authorization": f"Bearer {token}"},
        json={"number": number, "customer_id": golden, "lines": [{"product": "P", "quantity": "1", "unit_price": "5"}]},
    )
    assert posted.status_code == 201, posted.text
    dispatcher = Dispatcher(SyncEngine(database_url, mappings_dir, KEY))
    dispatcher.route()
    dispatcher.deliver("erp")
    return int(posted.json()["id"])


def test_a_refused_order_says_why_and_who_can_fix_it(client: Any, database_url: str, mappings_dir: Path) -> None:
    """A record the ERP refused is sales' to correct; an ERP that could not be reached is IT's."""
    from tests.support.sink import webhook_sink

    with webhook_sink(prefix="SO") as sink:
        golden, token = _sink_connection(database_url, mappings_dir, sink)
        sink.refuse = "customer has no tax id"
        refused = _post_and_send(client, database_url, mappings_dir, token, golden, "WEB-1")
        sink.refuse, sink.down = None, True
        unreachable = _post_and_send(client, database_url, mappings_dir, token, golden, "WEB-2")
    sign_in_client(client, token)

    page = client.get(f"/orders/{refused}").text
    warning = page[page.index('id="not-delivered"') : page.index('id="summary"')]
    assert "never reached erp" in warning and "customer has no tax id" in warning
    assert "sales: correct the order (erp refused it)" in warning
    assert f'href="/customers/{golden}"' in page  # the customer page is one tap away

    page = client.get(f"/orders/{unreachable}").text
    warning = page[page.index('id="not-delivered"') : page.index('id="summary"')]
    assert "never reached erp" in warning and "IT (connection erp)" in warning and "sales:" not in warning


#: A common desktop: 1366 × 900 CSS pixels.
DESKTOP = {"viewport": {"width": 1366, "height": 900}}


@pytest.mark.browser
def test_a_salesperson_finds_their_overdue_order_and_its_whole_plan(
    browser: Any, settings: Any, database_url: str, mappings_dir: Path
) -> None:
    """Signed in, a salesperson sees their own recent and overdue orders; the list flags the
    overdue one; its page shows the stage reached, the 30/60/10 plan with each stage's amount,
    due date and state, and leads to the customer — on a phone and on a desktop."""
    _seed(database_url)  # SO00012 of Müller, a.sales's, confirmed 60 days ago, 1000 EUR
    _apply(database_url, "erp", "order", [("13", {"number": "SO00013", "customer": "8", "owner": "b.sales"})])
    scan(database_url, mappings_dir, date.today(), send=False)
    with session_scope(database_url) as session:
        token = create_token(session, Role.sales, "a.sales")[1]
    with live_hub(settings) as url:
        for name, size in (("phone", PHONE), ("desktop", DESKTOP)):
            width = size["viewport"]["width"]
            page = browser.new_page(**size)
            sign_in(page, url, token)  # lands on the home page
            late = str(date.today() - timedelta(days=10))  # RE-44's due date
            assert f"SO00012 overdue since {late}" in " ".join(page.locator("#my-overdue").inner_text().split())
            recent = page.locator("#my-recent").inner_text()
            assert "SO00012" in recent and "SO00013" not in recent  # b.sales's order is not listed

            page.goto(f"{url}/orders?q=SO000")
            rows = {r.inner_text().split()[0]: r.inner_text() for r in page.locator("#results tbody tr").all()}
            assert "overdue" in rows["SO00012"] and "overdue" not in rows["SO00013"]
            assert "signing" in rows["SO00012"]  # the stage reached, not "—"

            page.click("#results >> text=SO00012")
            assert page.locator("#stage").inner_text() == "signing"
            plan = [r.inner_text().split() for r in page.locator("#schedule tbody tr").all()]
            # the whole 30/60/10 plan: stage, amount, due date, open, state (here by RE-44's maturity)
            assert [(p[0], p[1], p[2], p[-1]) for p in plan] == [
                ("signing", "300.00", late, "paid"),
                ("delivery", "600.00", late, "overdue"),
                ("acceptance", "100.00", late, "overdue"),
            ]
            assert page.evaluate("document.documentElement.scrollWidth") <= width, f"wider than a {name}"
            page.screenshot(path=str(mappings_dir.parent / f"order-{name}.png"), full_page=True)

            page.click("#customer")
            page.wait_for_url(lambda u: "/customers/" in u)
            assert page.locator("#name").inner_text().startswith("Müller Maschinenbau GmbH")
            page.close()


def test_lists_show_payments_only_to_whom_they_belong(client: Any, database_url: str, mappings_dir: Path) -> None:
    """Another salesperson's search does not flag SO00012 overdue (the order page hides its
    payments too); finance's landing page lists no orders (its overdue work is the finance page)."""
    _seed(database_url)
    scan(database_url, mappings_dir, date.today(), send=False)
    with session_scope(database_url) as session:
        other = create_token(session, Role.sales, "b.sales")[1]
        finance = create_token(session, Role.finance, "f.clerk")[1]
    sign_in_client(client, other)
    found = client.get("/orders", params={"q": "SO00012"}).text
    assert "SO00012" in found and "overdue" not in found
    home = client.get("/").text
    assert 'id="no-recent"' in home and 'id="no-overdue"' in home and "SO00012" not in home
    sign_in_client(client, finance)
    assert "overdue since" in client.get("/orders", params={"q": "SO00012"}).text
    home = client.get("/").text
    assert "Your recent orders" not in home and "SO00012" not in home


@pytest.mark.parametrize(
    ("status", "error", "fixer"),
    [
        ("dead", "erp orders: HTTP 400: customer has no tax id", "sales: correct the order (erp refused it)"),
        ("dead", "gave up after 8 attempts: TransientError: erp: connection refused", "IT (connection erp)"),
        ("pending", "httpx.ConnectTimeout: timed out", "IT (connection erp)"),
        ("dead", "AuthError: erp: login refused", "IT (credentials of connection erp)"),
        ("dead", "gave up after 8 attempts: customer 4 is not in erp yet", "IT (sync with erp: a record"),
        ("dead", "erp answered the write of order 3 with its record 9, which the hub links to order 2", "IT (links"),
        ("dead", "the write to orders 9 did not take effect: total 5 → 0", "IT (connection erp: the write"),
        ("pending", None, "no one yet: the hub is still sending it to erp"),
    ],
)
def test_who_can_fix_a_delivery_follows_the_stored_error(status: str, error: str | None, fixer: str) -> None:
    from hub.web.orders import who_fixes

    assert who_fixes("erp", status, error).startswith(fixer)
