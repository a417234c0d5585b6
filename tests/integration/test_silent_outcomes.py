"""No silent outcomes: what the hub used to report as "done" or "sent" while data was lost.

An unstable page (records read twice, others never), a full read that finds far fewer records
than the last, a bad record re-read every run, a write the target answered "ok" and did not
store. Driven through the `hub` command as a user runs it, against a system held in memory
(``tests.support.memory``): these are the engine's and the outbox's rules, for every connector.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connectors.base import SourceRecord
from hub.db import session_scope
from hub.outbox.models import OutboxDelivery
from hub.sync.connections import add_connection
from hub.sync.engine import Applier
from hub.sync.models import Connection, Link, SyncCursor, SyncRun
from tests.support.memory import STORES, customer, hub_cli, memory_hub  # noqa: F401 - fixture

KEY = "silent-outcomes-key"
LATER = "2026-11-02T00:00:00+00:00"


def _connection(url: str, name: str, kind: str = "memory", **settings: Any) -> None:
    with session_scope(url) as session:
        add_connection(
            session,
            name=name,
            kind=kind,
            secret_key=KEY,
            secrets={},
            settings={"store": name, "page_size": 2, "mapping": "memory", **settings},
        )


def _store(name: str, *records: dict[str, Any]) -> None:
    STORES.setdefault(name, {})["customers"] = {r["id"]: r for r in records}


def _runs(url: str) -> list[tuple[str, str | None]]:
    with session_scope(url) as session:
        return [(r.status, r.error) for r in session.scalars(select(SyncRun).order_by(SyncRun.id))]


def _cursor(url: str) -> str | None:
    with session_scope(url) as session:
        return session.scalar(select(SyncCursor.value).where(SyncCursor.stream == "customers"))


def _missing(url: str) -> int:
    with session_scope(url) as session:
        return len(session.scalars(select(Link).where(Link.missing_since.is_not(None))).all())


@pytest.mark.usefixtures("memory_hub")
def test_a_page_read_twice_fails_the_run_naming_ids_and_pages_and_keeps_the_cursor(
    database_url: str,
    mappings_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _store("crm", *(customer(i) for i in range(1, 5)))
    _connection(database_url, "crm")
    first = hub_cli(monkeypatch, database_url, mappings_dir, KEY, "sync", "crm", "--stream", "customers")
    assert first.exit_code == 0, first.stderr
    before = _cursor(database_url)

    _store("crm", *(customer(i) for i in range(1, 5)), *(customer(i, LATER) for i in range(5, 9)))
    with session_scope(database_url) as session:  # the system now ignores the sort order
        crm = session.scalars(select(Connection)).one()
        crm.settings = {**crm.settings, "unstable": True}
    run = hub_cli(monkeypatch, database_url, mappings_dir, KEY, "sync", "crm", "--stream", "customers")
    assert run.exit_code == 1
    assert "customers: failed" in run.stdout
    said = " ".join(run.stderr.split())
    assert "crm customers: 2 record(s) read twice in one run: 'C1' (pages 1 and 2), 'C2' (pages 1 and 2)" in said
    assert "paging is unstable" in said and "The cursor stays where this run started" in said
    assert _runs(database_url)[-1][0] == "failed"
    assert _cursor(database_url) == before  # the records never read (C3, C4) come next time


@pytest.mark.usefixtures("memory_hub")
def test_a_full_read_much_shorter_than_the_last_flags_nothing_missing_without_force(
    database_url: str,
    mappings_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _store("crm", *(customer(i) for i in range(1, 7)))
    _connection(database_url, "crm")
    full = hub_cli(monkeypatch, database_url, mappings_dir, KEY, "sync", "crm", "--stream", "customers", "--full")
    assert full.exit_code == 0 and "created 6" in full.stdout, full.stderr

    _store("crm", customer(1), customer(2))  # a records path or filter that finds a third
    short = hub_cli(monkeypatch, database_url, mappings_dir, KEY, "sync", "crm", "--stream", "customers", "--full")
    assert short.exit_code == 1 and "customers: failed" in short.stdout and "flagged missing 0" in short.stdout
    said = " ".join(short.stderr.split())
    assert "crm customers: the full read found 2 record(s), under 50% of the last full read (6 on" in said
    assert "up to 4 record(s) were not flagged missing" in said and "hub sync crm --full --force" in said
    assert _missing(database_url) == 0

    _store("crm")  # a path that finds nothing
    empty = hub_cli(monkeypatch, database_url, mappings_dir, KEY, "sync", "crm", "--stream", "customers", "--full")
    assert empty.exit_code == 1
    assert "the full read found no records, while the hub holds 6 of its customer record(s)" in " ".join(
        empty.stderr.split()
    )
    assert _missing(database_url) == 0 and [s for s, _e in _runs(database_url)] == ["done", "failed", "failed"]

    _store("crm", customer(1), customer(2))  # the system really lost them: the operator says so
    forced = hub_cli(
        monkeypatch, database_url, mappings_dir, KEY, "sync", "crm", "--stream", "customers", "--full", "--force"
    )
    assert forced.exit_code == 0 and "customers: done" in forced.stdout and "flagged missing 4" in forced.stdout
    assert _missing(database_url) == 4


@pytest.mark.usefixtures("memory_hub")
def test_a_bad_record_read_again_keeps_one_open_dead_letter(
    database_url: str,
    mappings_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _store("crm", customer(1), customer(2, name="", email="", phone=""))  # identifies nothing
    _connection(database_url, "crm")
    for _ in range(3):
        run = hub_cli(monkeypatch, database_url, mappings_dir, KEY, "sync", "crm", "--stream", "customers", "--full")
        assert run.exit_code == 0 and "failed 1" in run.stdout, run.stdout + run.stderr
    letters = json.loads(hub_cli(monkeypatch, database_url, mappings_dir, KEY, "dead-letters", "list", "--json").stdout)
    assert [d["external_id"] for d in letters] == ["C2"]  # not one per run
    assert letters[0]["seen"] == 3 and letters[0]["last_seen"]


# --- writes -----------------------------------------------------------------------------------


def _order_entered_in_crm(url: str, mappings_dir: Path) -> None:
    """What a CRM sync does: the customer, then its order (as tests/integration/test_outbox.py)."""
    with session_scope(url) as session:
        apply = Applier(session, mappings_dir, "crm")
        fields: dict[str, Any] = {"name": "Müller Maschinenbau GmbH", "country": "DE", "email": "info@mueller.example"}
        apply.many("customer", [(SourceRecord("A1", fields), fields)])
        order = {
            "number": "CRM-1",
            "reference": "PO-4711",
            "customer": "A1",
            "status": "confirmed",
            "ordered_on": date(2026, 11, 2),
            "currency": "EUR",
            "total": Decimal("100"),
            "lines": [{"id": "CRM-1-1", "product": "P-100", "quantity": Decimal(2), "unit_price": Decimal(50)}],
        }
        [outcome] = apply.many("order", [(SourceRecord("CRM-1", order), order)])
        assert not isinstance(outcome, Exception), outcome


def _delivery(url: str) -> OutboxDelivery:
    with session_scope(url) as session:
        row = session.scalars(select(OutboxDelivery).where(OutboxDelivery.target == "erp")).one()
        session.expunge(row)
        return row


@pytest.mark.usefixtures("memory_hub")
def test_a_write_the_target_did_not_store_is_a_dead_delivery_naming_the_field(
    database_url: str,
    mappings_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _connection(database_url, "crm", kind="memory-blind")
    _connection(database_url, "erp", drops=["reference"])  # answers ok, keeps the reference empty
    _order_entered_in_crm(database_url, mappings_dir)
    sent = hub_cli(monkeypatch, database_url, mappings_dir, KEY, "outbox", "dispatch", "--target", "erp")
    assert sent.exit_code == 1 and "erp: sent 0, retrying 0, dead 1" in sent.stdout, sent.stdout
    said = " ".join(sent.stdout.split())
    assert "did not take effect: reference: sent 'PO-4711', read back None" in said
    delivery = _delivery(database_url)
    assert delivery.status == "dead" and "reference: sent 'PO-4711'" in (delivery.last_error or "")
    with session_scope(database_url) as session:  # the CRM is not told a number of a write that failed
        assert session.scalars(select(OutboxDelivery).where(OutboxDelivery.target == "crm")).all() == []


@pytest.mark.usefixtures("memory_hub")
def test_a_write_read_back_equal_is_sent_and_one_that_cannot_be_read_back_says_so(
    database_url: str,
    mappings_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _connection(database_url, "crm", kind="memory-blind")
    _connection(database_url, "erp")
    _order_entered_in_crm(database_url, mappings_dir)
    sent = hub_cli(monkeypatch, database_url, mappings_dir, KEY, "outbox", "dispatch", "--target", "erp")
    assert sent.exit_code == 0 and "erp: sent 1, retrying 0, dead 0" in sent.stdout, sent.stdout
    # the CRM learns the ERP's number back; it cannot be read back, and the outcome says so
    told = hub_cli(monkeypatch, database_url, mappings_dir, KEY, "outbox", "dispatch", "--target", "crm")
    assert told.exit_code == 0, told.stdout
    assert (
        "crm: sent 1, retrying 0, dead 0, not verified 1 (not verified: the memory-blind connector "
        "cannot read a record back)"
    ) in " ".join(told.stdout.split())
    with session_scope(database_url) as session:
        crm = session.scalars(select(OutboxDelivery).where(OutboxDelivery.target == "crm")).one()
        assert crm.status == "sent" and (crm.verified or "").startswith("not verified")
    assert _delivery(database_url).verified == "read back equal"


@pytest.mark.usefixtures("memory_hub")
def test_a_published_value_the_system_did_not_store_is_a_failed_write_naming_the_field(
    database_url: str,
    mappings_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hub.master.models import GoldenCustomer

    _store("crm", customer(1))
    _connection(database_url, "crm", drops=["phone"])  # answers ok, keeps no phone
    assert hub_cli(monkeypatch, database_url, mappings_dir, KEY, "sync", "crm", "--stream", "customers").exit_code == 0
    with session_scope(database_url) as session:  # a phone the hub learnt elsewhere
        session.scalars(select(GoldenCustomer)).one().phone = "+49 30 1234567"
    published = hub_cli(monkeypatch, database_url, mappings_dir, KEY, "publish", "crm")
    assert published.exit_code == 1 and "written 0, unchanged 0, failed 1" in published.stdout, published.stdout
    assert "crm C1: the write to customers C1 did not take effect: phone: sent '+49 30 1234567', read back None" in (
        " ".join(published.stderr.split())
    )
