"""Receivables per stage on SQLite and PostgreSQL: enrolment, stages from the hub's documents,
allocation of invoices and payments, the set-based scan with alerts raised once, versions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.db import session_scope
from hub.documents.ingest import DocumentStore
from hub.receivables import service
from hub.receivables.models import (
    Alert,
    AlertDelivery,
    Instalment,
    PipelineVersion,
    ReceivableOrder,
)
from hub.receivables.scan import scan

D = date.fromisoformat


def put(url: str, entity: str, external_id: str, **fields: Any) -> None:
    with session_scope(url) as session:
        DocumentStore(session).apply("erp", entity, external_id, fields)


def instalments(url: str) -> dict[str, Instalment]:
    with session_scope(url) as session:
        return {i.stage: i for i in session.scalars(select(Instalment).order_by(Instalment.seq))}


def alert_rows(url: str) -> list[tuple[str, int, str]]:
    with session_scope(url) as session:
        return [
            (ref, a.level, a.status)
            for a, ref in session.execute(select(Alert, Instalment.reference).join(Instalment).order_by(Alert.id))
        ]


def deliveries(url: str) -> list[tuple[str, str, str]]:
    with session_scope(url) as session:
        return sorted((d.channel, d.recipient, d.status) for d in session.scalars(select(AlertDelivery)))


@pytest.fixture
def sold(database_url: str) -> str:
    """A confirmed order of 10,000 EUR whose CRM deal (its reference) was won on 2 January."""
    put(
        database_url,
        "opportunity",
        "OPP-7",
        number="OPP-7",
        name="Press line",
        stage="won",
        amount=Decimal(10000),
        currency="EUR",
        expected_close=D("2026-01-02"),
        owner="ann@sales.example",
    )
    put(
        database_url,
        "order",
        "1",
        number="SO-1",
        reference="OPP-7",
        status="confirmed",
        ordered_on=D("2026-01-05"),
        currency="EUR",
        total=Decimal("10000.00"),
        lines=[],
    )
    return database_url


def test_a_confirmed_order_gets_its_30_60_10_plan_and_the_won_deal_reaches_signing(sold, mappings_dir):
    result = scan(sold, mappings_dir, D("2026-01-10"), send=False)
    assert (result.enrolled, result.stages_reached) == (1, 1)
    plan = instalments(sold)
    assert {s: i.amount for s, i in plan.items()} == {
        "signing": Decimal("3000.00"),
        "delivery": Decimal("6000.00"),
        "acceptance": Decimal("1000.00"),
    }
    signing = plan["signing"]
    # the deal's close date, not the order date: the first trigger listed for the stage
    assert (signing.trigger_date, signing.due_date, signing.overdue_from) == (
        D("2026-01-02"),
        D("2026-01-16"),
        D("2026-01-19"),
    )
    assert (signing.status, plan["delivery"].status) == ("due", "pending")
    with session_scope(sold) as session:
        head = session.get(ReceivableOrder, signing.order_id)
        assert head.owner == "ann@sales.example" and head.opportunity_id is not None


def test_delivery_by_shipment_allocation_by_reference_and_alerts_once_per_level(sold, mappings_dir):
    scan(sold, mappings_dir, D("2026-01-10"), send=False)
    put(sold, "shipment", "S1", number="SH-1", order="1", status="shipped", shipped_on=D("2026-02-01"), lines=[])
    put(
        sold,
        "invoice",
        "I1",
        number="INV-1",
        order="1",
        status="open",
        issued_on=D("2026-01-03"),
        currency="EUR",
        total=Decimal(3000),
        amount_due=Decimal(0),
    )
    put(sold, "payment", "P1", reference="BANK-1", invoice="I1", amount=Decimal(3000), paid_on=D("2026-01-12"))
    # no order on this one: its reference names the instalment
    put(
        sold,
        "invoice",
        "I2",
        number="INV-2",
        status="open",
        issued_on=D("2026-02-02"),
        currency="EUR",
        total=Decimal(6000),
        amount_due=Decimal(6000),
        reference="SO-1/delivery",
    )
    scan(sold, mappings_dir, D("2026-03-08"), send=False)
    plan = instalments(sold)
    assert (plan["signing"].status, plan["signing"].paid) == ("paid", Decimal(3000))
    delivery = plan["delivery"]
    # shipped 1 Feb + 30 days = 3 March, + 5 days grace: overdue from 9 March on
    assert (delivery.due_date, delivery.invoiced, delivery.status) == (D("2026-03-03"), Decimal(6000), "invoiced")
    assert alert_rows(sold) == []

    first = scan(sold, mappings_dir, D("2026-03-09"), send=False)
    assert first.alerts_raised == 1 and instalments(sold)["delivery"].status == "overdue"
    assert alert_rows(sold) == [("SO-1/delivery", 1, "open")]
    assert deliveries(sold) == [("email", "finance@concord.example", "pending")]
    again = scan(sold, mappings_dir, D("2026-03-10"), send=False)
    assert again.alerts_raised == 0 and again.deliveries_queued == 0

    # level 2 at 15 days: finance and the deal's sales owner
    scan(sold, mappings_dir, D("2026-03-23"), send=False)
    assert alert_rows(sold)[-1] == ("SO-1/delivery", 2, "open")
    assert ("email", "ann@sales.example", "pending") in deliveries(sold)

    # a partial payment is not enough; the rest, and 500 more, pays it and resolves the alerts
    put(sold, "payment", "P2", reference="BANK-2", invoice="I2", amount=Decimal(4000), paid_on=D("2026-03-24"))
    scan(sold, mappings_dir, D("2026-03-25"), send=False)
    assert (instalments(sold)["delivery"].paid, instalments(sold)["delivery"].status) == (Decimal(4000), "overdue")
    put(sold, "payment", "P3", reference="BANK-3", invoice="I2", amount=Decimal(2500), paid_on=D("2026-03-26"))
    resolved = scan(sold, mappings_dir, D("2026-03-27"), send=False)
    assert resolved.alerts_resolved == 2
    assert [s for _r, _l, s in alert_rows(sold)] == ["resolved", "resolved"]
    assert instalments(sold)["delivery"].status == "paid"
    with session_scope(sold) as session:
        from hub.receivables.models import InvoiceTarget

        assert session.scalar(select(func.max(InvoiceTarget.credit))) == Decimal(500)  # kept as a credit


def test_oldest_due_first_and_a_credit_note_takes_back_what_was_invoiced(sold, mappings_dir):
    scan(sold, mappings_dir, D("2026-01-10"), send=False)
    put(sold, "shipment", "S1", number="SH-1", order="1", status="shipped", shipped_on=D("2026-02-01"), lines=[])
    put(
        sold,
        "invoice",
        "I1",
        number="INV-1",
        order="1",
        status="open",
        issued_on=D("2026-02-02"),
        currency="EUR",
        total=Decimal(5000),
        amount_due=Decimal(5000),
    )
    scan(sold, mappings_dir, D("2026-02-03"), send=False)
    plan = instalments(sold)
    assert [plan[s].invoiced for s in ("signing", "delivery", "acceptance")] == [Decimal(3000), Decimal(2000), 0]
    assert (plan["signing"].status, plan["delivery"].status) == ("overdue", "due")  # signing was due 16 Jan
    put(
        sold,
        "invoice",
        "C1",
        number="CN-1",
        order="1",
        status="open",
        issued_on=D("2026-02-04"),
        currency="EUR",
        total=Decimal(-500),
        amount_due=Decimal(-500),
    )
    scan(sold, mappings_dir, D("2026-02-05"), send=False)
    plan = instalments(sold)
    assert [plan[s].invoiced for s in ("signing", "delivery")] == [Decimal(3000), Decimal(1500)]


def test_acceptance_recorded_snooze_and_block(sold, mappings_dir):
    scan(sold, mappings_dir, D("2026-01-10"), send=False)
    with session_scope(sold) as session:
        order_id = session.scalar(select(ReceivableOrder.order_id))
        with pytest.raises(ValueError, match="stage 'accepted' is not in pipeline 'default'"):
            service.record(session, order_id, "accepted", D("2026-01-20"), "fin")
        service.record(session, order_id, "acceptance", D("2026-01-20"), "fin")
    acceptance = instalments(sold)["acceptance"]
    assert (acceptance.trigger_date, acceptance.due_date) == (D("2026-01-20"), D("2026-02-15"))  # end of month + 15

    scan(sold, mappings_dir, D("2026-01-20"), send=False)  # signing overdue since 20 January
    assert alert_rows(sold) == [("SO-1/signing", 1, "open")]
    with session_scope(sold) as session:
        alert_id = session.scalar(select(Alert.id))
        service.snooze(session, alert_id, D("2026-02-15"), "fin")
    scan(sold, mappings_dir, D("2026-02-05"), send=False)  # level 2 reached, but snoozed
    assert [lvl for _r, lvl, _s in alert_rows(sold)] == [1]
    scan(sold, mappings_dir, D("2026-02-16"), send=False)
    assert [(lvl, s) for _r, lvl, s in alert_rows(sold)] == [(1, "open"), (2, "open")]

    with session_scope(sold) as session:
        service.set_blocked(session, instalments(sold)["signing"].id, True)
    scan(sold, mappings_dir, D("2026-03-01"), send=False)  # level 3 would be due: blocked, nothing
    assert [lvl for ref, lvl, _s in alert_rows(sold) if ref == "SO-1/signing"] == [1, 2]
    assert instalments(sold)["signing"].alert_level == 0


def test_an_edited_pipeline_is_a_new_version_and_open_orders_move_only_when_asked(sold, mappings_dir: Path):
    scan(sold, mappings_dir, D("2026-01-10"), send=False)
    path = mappings_dir / "pipelines" / "default.yaml"
    path.write_text(
        path.read_text()
        .replace("{stage: signing, percent: 30", "{stage: signing, percent: 40")
        .replace("{stage: delivery, percent: 60", "{stage: delivery, percent: 50")
    )
    put(
        sold,
        "order",
        "2",
        number="SO-2",
        status="confirmed",
        ordered_on=D("2026-01-11"),
        currency="EUR",
        total=Decimal(1000),
        lines=[],
    )
    scan(sold, mappings_dir, D("2026-01-12"), send=False)
    with session_scope(sold) as session:
        versions = {
            o: v
            for o, v in session.execute(select(ReceivableOrder.order_id, PipelineVersion.version).join(PipelineVersion))
        }
        assert sorted(versions.values()) == [1, 2]
        first = min(versions)
        assert service.order_detail(session, first)["instalments"][0]["amount"] == Decimal(3000)
        moved = service.move_to_latest(session, "default", None)
        assert moved == {"pipeline": "default", "version": 2, "moved": 2}
        detail = service.order_detail(session, first)
        assert [i["amount"] for i in detail["instalments"]] == [Decimal(4000), Decimal(5000), Decimal(1000)]
        assert detail["instalments"][0]["trigger_date"] == D("2026-01-02")  # stages reached are kept
    scan(sold, mappings_dir, D("2026-01-12"), send=False)  # an unchanged file adds no version
    with session_scope(sold) as session:
        assert session.scalar(select(func.count()).select_from(PipelineVersion)) == 2


def test_the_order_status_shows_the_stage_reached_and_the_whole_schedule(sold, mappings_dir, client, token_for):
    """Issue 16: every order showed "Stage —" although receivables knew the stages reached, and
    the order page showed only the next instalment, not the 30/60/10 schedule."""
    from hub.auth.models import Role
    from hub.documents.models import Order
    from tests.support.pages import sign_in_client

    scan(sold, mappings_dir, D("2026-01-10"), send=False)
    with session_scope(sold) as session:
        order_id = session.scalar(select(Order.id))
    finance = token_for(Role.finance)
    status = client.get(f"/api/v1/orders/{order_id}/status", headers=finance).json()
    assert status["stage"] == "signing"
    assert [s["stage"] for s in status["stages_reached"]] == ["signing"]
    assert [(i["stage"], i["amount"]) for i in status["instalments"]] == [
        ("signing", "3000.00"),
        ("delivery", "6000.00"),
        ("acceptance", "1000.00"),
    ]
    assert status["next_instalment"]["stage"] == "signing"
    sign_in_client(client, finance["Authorization"].split()[1])
    page = client.get(f"/orders/{order_id}").text
    assert 'id="schedule"' in page and "6000.00" in page and "acceptance" in page
