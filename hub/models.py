"""Every table of the hub, imported in one place for Alembic and for ``create_all`` in tests."""

from hub.audit.models import AuditEntry
from hub.auth.models import ApiToken, PageSession, Role
from hub.db import Base
from hub.documents.models import (
    Invoice,
    Opportunity,
    Order,
    OrderLine,
    Payment,
    ServiceCase,
    Shipment,
    ShipmentLine,
)
from hub.master.models import (
    CustomerSource,
    GoldenCustomer,
    MatchDecision,
    MatchKey,
    MergeEvent,
    ReviewPair,
)
from hub.outbox.models import OutboxDelivery, OutboxEvent
from hub.receivables.models import (  # noqa: F401 - registers the tables
    Alert,
    AlertDelivery,
    Instalment,
    InvoiceAllocation,
    InvoiceTarget,
    OrderStage,
    PipelineVersion,
    ReceivableOrder,
    ScanRun,
)
from hub.sync.models import Connection, DeadLetter, Link, QuarantinedRecord, SyncCursor, SyncRun

__all__ = [
    "ApiToken",
    "PageSession",
    "AuditEntry",
    "Connection",
    "DeadLetter",
    "SyncCursor",
    "Base",
    "CustomerSource",
    "GoldenCustomer",
    "Invoice",
    "Opportunity",
    "Order",
    "OutboxDelivery",
    "OutboxEvent",
    "ServiceCase",
    "OrderLine",
    "Payment",
    "Shipment",
    "ShipmentLine",
    "Link",
    "MatchDecision",
    "MatchKey",
    "MergeEvent",
    "QuarantinedRecord",
    "ReviewPair",
    "Role",
    "SyncRun",
]
