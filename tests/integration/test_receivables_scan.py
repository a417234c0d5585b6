"""The scan reads only the instalments that can change (dirty ones, and those whose overdue
date crossed a level since the last scan); these tests check it never misses one: the stored
statuses and levels always equal a full evaluation, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from hub.db import session_scope
from hub.documents.ingest import DocumentStore
from hub.documents.models import Order
from hub.receivables import service
from hub.receivables.models import Alert, AlertDelivery, Instalment, ReceivableOrder
from hub.receivables.scan import level_expression, refresh, scan, status_expression, used_versions
from tests.integration.test_receivables import D, alert_rows, instalments, put


def order(url: str, n: int, ordered_on: date, total: int = 10000) -> None:
    """A confirmed order: its signing instalment (30 %) is overdue 17 days after ``ordered_on``."""
    put(
        url,
        "order",
        str(n),
        number=f"SO-{n}",
        status="confirmed",
        ordered_on=ordered_on,
        currency="EUR",
        total=Decimal(total),
        lines=[],
    )


def stale(url: str, as_of: date) -> list[str]:
    """Instalments whose stored status or level differs from evaluating every row afresh,
    or still marked dirty after a scan: must always be empty."""
    with session_scope(url) as session:
        wrong: list[str] = []
        for version_id, pipeline in used_versions(session).items():
            wrong += session.scalars(
                select(Instalment.reference).where(
                    Instalment.pipeline_version_id == version_id,
                    (Instalment.status != status_expression(as_of))
                    | (Instalment.alert_level != level_expression(pipeline, as_of))
                    | Instalment.dirty,
                )
            ).all()
        return wrong


def signing(url: str) -> dict[str, tuple[str, int]]:
    with session_scope(url) as session:
        return {
            i.reference: (i.status, i.alert_level)
            for i in session.scalars(
                select(Instalment).where(Instalment.stage == "signing").order_by(Instalment.reference)
            )
        }


def test_a_scan_skipped_for_several_days_still_raises_the_right_levels(database_url, mappings_dir):
    order(database_url, 1, D("2026-01-02"))  # overdue from 19 Jan: level 3 (30 days) on 18 Feb
    order(database_url, 2, D("2026-01-15"))  # overdue from 1 Feb: level 2 (15 days) on 16 Feb
    order(database_url, 3, D("2026-02-10"))  # overdue from 27 Feb
    scan(database_url, mappings_dir, D("2026-01-10"), send=False)
    assert alert_rows(database_url) == [] and stale(database_url, D("2026-01-10")) == []

    skipped = scan(database_url, mappings_dir, D("2026-02-20"), send=False)  # nothing ran for 41 days
    assert signing(database_url) == {
        "SO-1/signing": ("overdue", 3),
        "SO-2/signing": ("overdue", 2),
        "SO-3/signing": ("due", 0),
    }
    assert skipped.alerts_raised == 2
    assert sorted(alert_rows(database_url)) == [("SO-1/signing", 3, "open"), ("SO-2/signing", 2, "open")]
    with session_scope(database_url) as session:  # level 3 recommends a credit hold
        assert dict(session.execute(select(Order.number, ReceivableOrder.credit_hold).join(ReceivableOrder)).all()) == {
            "SO-1": True,
            "SO-2": False,
            "SO-3": False,
        }
    assert stale(database_url, D("2026-02-20")) == []

    assert scan(database_url, mappings_dir, D("2026-02-20"), send=False).instalments_changed == 0
    later = scan(database_url, mappings_dir, D("2026-03-03"), send=False)
    assert signing(database_url) == {
        "SO-1/signing": ("overdue", 3),
        "SO-2/signing": ("overdue", 3),
        "SO-3/signing": ("overdue", 1),
    }
    assert later.alerts_raised == 2 and stale(database_url, D("2026-03-03")) == []
    assert sorted((r, lvl) for r, lvl, _s in alert_rows(database_url)) == [
        ("SO-1/signing", 3),
        ("SO-2/signing", 2),
        ("SO-2/signing", 3),
        ("SO-3/signing", 1),
    ]


def test_a_payment_between_scans_resolves_alerts_far_outside_the_date_window(database_url, mappings_dir):
    order(database_url, 1, D("2026-01-02"))  # signing 3,000 overdue from 19 Jan
    scan(database_url, mappings_dir, D("2026-01-20"), send=False)
    scan(database_url, mappings_dir, D("2026-03-01"), send=False)
    scan(database_url, mappings_dir, D("2026-03-10"), send=False)
    assert [(lvl, s) for _r, lvl, s in alert_rows(database_url)] == [(1, "open"), (3, "open")]
    with session_scope(database_url) as session:
        assert session.scalar(select(ReceivableOrder.credit_hold)) is True

    put(
        database_url,
        "invoice",
        "I1",
        number="INV-1",
        order="1",
        status="open",
        issued_on=D("2026-01-02"),
        currency="EUR",
        total=Decimal(3000),
        amount_due=Decimal(3000),
    )
    put(database_url, "payment", "P1", reference="BANK-1", invoice="I1", amount=Decimal(3000), paid_on=D("2026-03-10"))
    # 19 Jan is nowhere near any level's window of 10–11 March: the allocation marked it dirty
    paid = scan(database_url, mappings_dir, D("2026-03-11"), send=False)
    assert paid.alerts_resolved == 2 and instalments(database_url)["signing"].status == "paid"
    assert [s for _r, _l, s in alert_rows(database_url)] == ["resolved", "resolved"]
    with session_scope(database_url) as session:
        assert session.scalar(select(ReceivableOrder.credit_hold)) is False
        assert set(session.scalars(select(AlertDelivery.status))) == {"cancelled"}  # never sent, not sent now
    assert stale(database_url, D("2026-03-11")) == []


def test_blocking_unblocking_and_a_scan_back_in_time_are_evaluated_in_full(database_url, mappings_dir):
    order(database_url, 1, D("2026-01-02"))
    scan(database_url, mappings_dir, D("2026-02-10"), send=False)  # 22 days overdue: level 2
    signing_id = instalments(database_url)["signing"].id
    with session_scope(database_url) as session:
        service.set_blocked(session, signing_id, True)
    scan(database_url, mappings_dir, D("2026-02-11"), send=False)
    assert signing(database_url)["SO-1/signing"] == ("overdue", 0)
    with session_scope(database_url) as session:
        service.set_blocked(session, signing_id, False)
    scan(database_url, mappings_dir, D("2026-02-12"), send=False)  # back at level 2, not alerted again
    assert signing(database_url)["SO-1/signing"] == ("overdue", 2)
    assert alert_rows(database_url) == [("SO-1/signing", 2, "open")]  # raised on 10 Feb, once
    raised = 1

    # re-running an earlier day re-evaluates everything: the level as it was then
    scan(database_url, mappings_dir, D("2026-01-25"), send=False)
    assert signing(database_url)["SO-1/signing"] == ("overdue", 1) and stale(database_url, D("2026-01-25")) == []
    assert len(alert_rows(database_url)) == raised  # a level once alerted is never alerted again
    scan(database_url, mappings_dir, D("2026-02-12"), send=False)
    assert signing(database_url)["SO-1/signing"] == ("overdue", 2) and len(alert_rows(database_url)) == raised


def test_daily_scans_with_gaps_always_agree_with_a_full_evaluation(database_url, mappings_dir):
    for n in range(1, 9):  # overdue dates every 6 days from 18 Jan
        order(database_url, n, date.fromordinal(D("2026-01-01").toordinal() + 6 * (n - 1)), total=1000 * n)
    put(
        database_url, "shipment", "S1", number="SH-1", order="3", status="shipped", shipped_on=D("2026-02-01"), lines=[]
    )
    days = [
        "2026-01-10",
        "2026-01-18",
        "2026-01-19",
        "2026-01-20",
        "2026-02-02",
        "2026-02-02",
        "2026-02-03",
        "2026-02-25",
        "2026-03-06",
        "2026-03-07",
        "2026-04-30",
    ]
    for day in days:
        scan(database_url, mappings_dir, D(day), send=False)
        assert stale(database_url, D(day)) == [], day
    with session_scope(database_url) as session:
        levels = {(a.instalment_id, a.level) for a in session.scalars(select(Alert))}
        assert len(levels) == session.scalar(select(func.count()).select_from(Alert))  # each level once
        top = dict(session.execute(select(Instalment.id, Instalment.alerted_level)).all())
    assert all(level <= top[i] for i, level in levels)
    assert signing(database_url)["SO-8/signing"] == ("overdue", 3)


def test_orders_with_every_stage_reached_leave_detection_until_they_move_version(database_url, mappings_dir):
    order(database_url, 1, D("2026-01-02"))
    put(
        database_url, "shipment", "S1", number="SH-1", order="1", status="shipped", shipped_on=D("2026-01-20"), lines=[]
    )
    scan(database_url, mappings_dir, D("2026-01-21"), send=False)

    def complete() -> bool:
        with session_scope(database_url) as session:
            return session.scalar(select(ReceivableOrder.stages_complete))

    assert complete() is False  # acceptance is still to be recorded
    with session_scope(database_url) as session:
        service.record(session, session.scalar(select(ReceivableOrder.order_id)), "acceptance", D("2026-01-25"), "fin")
    scan(database_url, mappings_dir, D("2026-01-26"), send=False)
    assert complete() is True
    assert instalments(database_url)["acceptance"].due_date == D("2026-02-15")

    path = mappings_dir / "pipelines" / "default.yaml"  # a new version: its stages may differ
    path.write_text(
        path.read_text()
        .replace("{stage: signing, percent: 30", "{stage: signing, percent: 40")
        .replace("{stage: delivery, percent: 60", "{stage: delivery, percent: 50")
    )
    scan(database_url, mappings_dir, D("2026-01-27"), send=False)
    with session_scope(database_url) as session:
        service.move_to_latest(session, "default", None)
    assert complete() is False
    scan(database_url, mappings_dir, D("2026-01-28"), send=False)
    assert complete() is True and stale(database_url, D("2026-01-28")) == []
    assert [instalments(database_url)[s].amount for s in ("signing", "delivery")] == [Decimal(4000), Decimal(5000)]


@pytest.mark.postgres
def test_two_syncs_refreshing_receivables_at_once_enrol_each_order_once(postgres_url, mappings_dir):
    """Two workers finishing order syncs together both refresh: neither may fail on the other's
    enrolments (the runs were marked failed although their orders were in)."""
    with session_scope(postgres_url) as session:
        DocumentStore(session).apply_many(
            "erp",
            "order",
            [
                (
                    str(n),
                    {
                        "number": f"SO-{n}",
                        "status": "confirmed",
                        "ordered_on": D("2026-03-02"),
                        "currency": "EUR",
                        "total": Decimal(1000),
                        "lines": [],
                    },
                )
                for n in range(300)
            ],
        )
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def refresh_now() -> None:
        try:
            with session_scope(postgres_url) as session:
                start.wait()
                refresh(session, mappings_dir, D("2026-03-03"))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=refresh_now) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with session_scope(postgres_url) as session:
        assert session.scalar(select(func.count()).select_from(ReceivableOrder)) == 300
