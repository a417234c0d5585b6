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
from hub.sync.models import Link, QuarantinedRecord, SyncRun

__all__ = [
    "ApiToken",
    "Base",
    "CustomerSource",
    "GoldenCustomer",
    "Link",
    "MatchDecision",
    "MatchKey",
    "MergeEvent",
    "QuarantinedRecord",
    "ReviewPair",
    "Role",
    "SyncRun",
]
