"""What sales meets on the order page (issue 16): an order that never reached the ERP says so,
a draft order has a title, an unknown order is a page, not raw JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.auth.models import Role
from hub.auth.tokens import create_token
from hub.db import session_scope
from hub.master.ingest import CustomerMaster
from hub.outbox.dispatch import Dispatcher
from hub.sync.connections import add_connection
from hub.sync.engine import SyncEngine
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
