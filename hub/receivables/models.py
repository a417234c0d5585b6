"""Tables of receivables per sales stage.

An order enrolled in a pipeline (``receivable_orders``) records the pipeline *version* it
follows, so editing the YAML never changes the money plan of an order under way. Stages an
order reached are rows of ``order_stages``; its plan is a row per instalment. Invoices are
allocated to instalments (``invoice_allocations``, recomputed per order when its documents
change); the overdue scan raises ``receivable_alerts`` once per instalment and level and queues
one ``alert_deliveries`` row per recipient, sent as digests. An order whose rows a job cannot
process (a figure that overflows, a date out of range, corrupt data written around the hub) is
set aside in ``receivable_set_aside`` with its reason, and the job finishes the others.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint, false, text, true
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, utcnow

Money = Numeric(18, 4)


def _partial(name: str, column: str, where: str, sqlite_where: str | None = None) -> Index:
    """An index of just the rows ``where`` admits: the few a scan looks for among many
    (SQLite spells a boolean test as ``= 1``)."""
    return Index(name, column, postgresql_where=text(where), sqlite_where=text(sqlite_where or where))


class PipelineVersion(Base):
    """One saved version of a pipeline's YAML; versions are never changed or deleted."""

    __tablename__ = "pipeline_versions"
    __table_args__ = (UniqueConstraint("pipeline", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pipeline: Mapped[str] = mapped_column(String(80))
    version: Mapped[int]
    origin: Mapped[str] = mapped_column(String(200))  # the file, or "api:<token name>"
    source: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReceivableOrder(Base):
    __tablename__ = "receivable_orders"
    __table_args__ = (
        _partial(
            "ix_receivable_orders_stages_open", "pipeline_version_id", "NOT stages_complete", "stages_complete = 0"
        ),
    )

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    pipeline_version_id: Mapped[int] = mapped_column(ForeignKey("pipeline_versions.id"), index=True)
    plan: Mapped[str] = mapped_column(String(80))
    #: Set by hand (API), else found through the pipeline's opportunity link rule.
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id"), index=True)
    owner: Mapped[str | None] = mapped_column(String(120))
    credit_hold: Mapped[bool] = mapped_column(default=False)
    #: Plan chosen per order (API) rather than by the pipeline's assignment rules.
    plan_pinned: Mapped[bool] = mapped_column(default=False)
    #: Every stage of its version reached: stage detection skips it (cleared when it moves version).
    stages_complete: Mapped[bool] = mapped_column(default=False, server_default=false())
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrderStage(Base):
    __tablename__ = "order_stages"
    __table_args__ = (UniqueConstraint("order_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(40))
    reached_on: Mapped[date]
    source: Mapped[str] = mapped_column(String(20))  # opportunity | order | shipment | recorded
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Instalment(Base):
    """One instalment of an order's plan.

    Scan invariant: ``status``, ``alert_level`` and ``outstanding`` are right as of the last
    scan's ``as_of`` for every row whose ``dirty`` is false. Whoever changes what they are
    computed from (amounts, invoiced/paid, dates, blocked, version) sets ``dirty``; a new row
    is dirty (also by the server default, for rows written in SQL). So a scan only evaluates
    dirty rows and those whose ``overdue_from`` crossed a level or the overdue day since the
    last scan (see ``scan.py``), and a scan clears ``dirty``.
    """

    __tablename__ = "instalments"
    __table_args__ = (
        Index("ix_instalments_status_level", "status", "alert_level"),
        Index("ix_instalments_overdue_from", "overdue_from"),
        _partial("ix_instalments_dirty", "pipeline_version_id", "dirty", "dirty = 1"),
        _partial("ix_instalments_unalerted", "pipeline_version_id", "alert_level > alerted_level"),
        _partial("ix_instalments_untriggered", "order_id", "trigger_date IS NULL"),
        _partial("ix_instalments_undated", "pipeline_version_id", "due_date IS NULL"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    pipeline_version_id: Mapped[int] = mapped_column(ForeignKey("pipeline_versions.id"), index=True)
    seq: Mapped[int]
    stage: Mapped[str] = mapped_column(String(40))
    #: "<order number>/<stage>": what an invoice's number or reference names to target it.
    reference: Mapped[str] = mapped_column(String(160), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    due_days: Mapped[int] = mapped_column(default=0)
    due_end_of_month: Mapped[bool] = mapped_column(default=False)
    grace_days: Mapped[int] = mapped_column(default=0)
    tolerance: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    trigger_date: Mapped[date | None]
    due_date: Mapped[date | None]
    #: due date + grace days: overdue from the day after.
    overdue_from: Mapped[date | None]
    invoiced: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    paid: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    #: What credit notes took off: what is due is ``max(amount, invoiced) - credited``.
    credited: Mapped[Decimal] = mapped_column(Money, default=Decimal(0), server_default=text("0"))
    outstanding: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    #: "paid" means nothing is left to pay (paid, or taken off by credit notes).
    status: Mapped[str] = mapped_column(String(12), default="pending")
    alert_level: Mapped[int] = mapped_column(default=0)
    #: Highest level an alert was raised for: the scan raises one only where alert_level is higher.
    alerted_level: Mapped[int] = mapped_column(default=0)
    #: On hold (a dispute, say): never escalates while set.
    blocked: Mapped[bool] = mapped_column(default=False)
    #: Changed since the last scan evaluated it (see the class docstring).
    dirty: Mapped[bool] = mapped_column(default=True, server_default=true())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class InstalmentDue(Base):
    """What is due on an instalment at one date: a maturity of an invoice allocated to it (the
    ERP's payment terms; ``invoice_id`` set) or the part not invoiced yet, at the plan's date
    (``invoice_id`` None; ``due_date`` None while its stage is not reached). Written by the
    allocation for instalments an invoice or credit note touches; ageing reads what is open
    (``amount - paid``) at each date, and the instalment's ``due_date`` is the earliest open one."""

    __tablename__ = "instalment_dues"

    id: Mapped[int] = mapped_column(primary_key=True)
    instalment_id: Mapped[int] = mapped_column(ForeignKey("instalments.id", ondelete="CASCADE"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    due_date: Mapped[date | None]
    amount: Mapped[Decimal] = mapped_column(Money)
    paid: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))


class InvoiceTarget(Base):
    """Which order (and instalment, when the invoice names one) an invoice pays for, and the
    credit an over-payment left; resolved when the invoice changes."""

    __tablename__ = "invoice_targets"

    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), primary_key=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    instalment_id: Mapped[int | None] = mapped_column(ForeignKey("instalments.id", ondelete="SET NULL"))
    paid: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    credit: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))


class InvoiceAllocation(Base):
    __tablename__ = "invoice_allocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    instalment_id: Mapped[int] = mapped_column(ForeignKey("instalments.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    paid: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))


class ScanRun(Base):
    __tablename__ = "receivable_scans"

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    counts: Mapped[dict] = mapped_column(default=dict)


class Alert(Base):
    __tablename__ = "receivable_alerts"
    __table_args__ = (
        UniqueConstraint("instalment_id", "level"),
        _partial("ix_receivable_alerts_snoozed", "instalment_id", "status = 'snoozed'"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instalment_id: Mapped[int] = mapped_column(ForeignKey("instalments.id", ondelete="CASCADE"))
    level: Mapped[int]
    raised_on: Mapped[date]
    scan_id: Mapped[int | None] = mapped_column(ForeignKey("receivable_scans.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open|acknowledged|snoozed|resolved
    credit_hold: Mapped[bool] = mapped_column(default=False)
    snoozed_until: Mapped[date | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    resolved_on: Mapped[date | None]


class AlertDelivery(Base):
    __tablename__ = "alert_deliveries"
    __table_args__ = (
        UniqueConstraint("alert_id", "channel", "recipient"),
        Index("ix_alert_deliveries_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("receivable_alerts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(10))  # email | webhook
    recipient: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | sent | cancelled
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None]


class SetAside(Base):
    """A record a receivables job could not process, kept visible until a scan gets through it.

    ``record`` is ``order`` or ``invoice``; ``step`` the job that met it (``enrol``, ``stages``,
    ``allocate``, ``evaluate``, ``report``). Every scan retries what earlier runs set aside: a
    record set aside again keeps its ``first_set_aside_at`` and counts one more attempt; one the
    scan got through is deleted, so correcting the data clears the entry by itself. No foreign
    key: a deleted order's entry goes with the next scan.
    """

    __tablename__ = "receivable_set_aside"
    __table_args__ = (UniqueConstraint("record", "record_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record: Mapped[str] = mapped_column(String(10))
    record_id: Mapped[int]
    #: The order's or invoice's number when it could be read, for people.
    label: Mapped[str | None] = mapped_column(String(80))
    step: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=1)
    #: The scan that last set it aside (None: found between scans, by a report or a request).
    scan_id: Mapped[int | None] = mapped_column(index=True)
    first_set_aside_at: Mapped[datetime] = mapped_column(default=utcnow)
    set_aside_at: Mapped[datetime] = mapped_column(default=utcnow)
