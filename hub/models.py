"""Every table of the hub, imported in one place for Alembic and for ``create_all`` in tests."""

from hub.auth.models import ApiToken, Role
from hub.db import Base
from hub.master.models import (
    CustomerSource,
    GoldenCustomer,
    MatchDecision,
    MatchKey,
    MergeEvent,
    ReviewPair,
)
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
from hub.outbox.models import OutboxEvent
from hub.sync.models import Connection, DeadLetter, Link, QuarantinedRecord, SyncCursor, SyncRun

__all__ = [
    "ApiToken",
    "Connection",
    "DeadLetter",
    "SyncCursor",
    "Base",
    "CustomerSource",
    "GoldenCustomer",
    "Invoice",
    "Opportunity",
    "Order",
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
