"""The hub's code lists: every coded value a canonical record may hold.

A system's own values (Tryton's ``done``, NAV's ``Closed_Won``) become one of these through a
code list in its field map (``mappings/connectors/<name>.yaml``); ``hub mappings check``
refuses a code list whose target is not a member, so a typo such as ``delivered`` is caught
when the file is edited, not by a stage that is silently never reached. Pipelines
(``mappings/pipelines/``), the status page and the API take their values from here.

Each enum is a ``StrEnum``: its members are the strings stored in the database and compared
in SQL, so nothing that reads a column changes.
"""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    """Where an order stands in fulfilment (the ERP owns it)."""

    draft = "draft"
    quotation = "quotation"
    confirmed = "confirmed"
    processing = "processing"
    done = "done"
    cancelled = "cancelled"


class ShipmentStatus(StrEnum):
    """Where a shipment (delivery) stands; ``shipped``: the goods left the warehouse."""

    planned = "planned"
    picking = "picking"
    packed = "packed"
    shipped = "shipped"
    cancelled = "cancelled"


class InvoiceStatus(StrEnum):
    """An invoice's state; ``open``: approved and not paid in full."""

    draft = "draft"
    submitted = "submitted"
    open = "open"
    paid = "paid"
    cancelled = "cancelled"


class SalesStage(StrEnum):
    """An opportunity's stage in a CRM's sales pipeline."""

    prospecting = "prospecting"
    qualification = "qualification"
    proposal = "proposal"
    negotiation = "negotiation"
    won = "won"
    lost = "lost"


class LossReason(StrEnum):
    """Why an opportunity was lost; ``other`` for a reason a CRM has that the hub has not."""

    price = "price"
    competitor = "competitor"
    timing = "timing"
    no_budget = "no_budget"
    no_decision = "no_decision"
    other = "other"


class CaseStatus(StrEnum):
    """A service case's state."""

    open = "open"
    pending = "pending"
    closed = "closed"


class CasePriority(StrEnum):
    """A service case's priority."""

    urgent = "urgent"
    high = "high"
    normal = "normal"
    low = "low"


#: Statuses an order may be entered with through the hub's API (the rest are the ERP's to set).
ENTERABLE_ORDER_STATUSES: tuple[OrderStatus, ...] = (
    OrderStatus.draft,
    OrderStatus.quotation,
    OrderStatus.confirmed,
)
#: Shipment statuses that mean the goods left: what "shipped" counts on the status page.
GOODS_LEFT: frozenset[ShipmentStatus] = frozenset({ShipmentStatus.shipped})
#: Sales stages that close an opportunity (it is no longer in the pipeline).
CLOSED_STAGES: tuple[SalesStage, ...] = (SalesStage.won, SalesStage.lost)

#: Every code list by name, for messages and the documentation.
CODE_LISTS: dict[str, type[StrEnum]] = {
    "order status": OrderStatus,
    "shipment status": ShipmentStatus,
    "invoice status": InvoiceStatus,
    "sales stage": SalesStage,
    "loss reason": LossReason,
    "case status": CaseStatus,
    "case priority": CasePriority,
}


def describe(codes: type[StrEnum]) -> str:
    """``order status (draft, quotation, …)``: a code list as a message names it."""
    name = next((k for k, v in CODE_LISTS.items() if v is codes), codes.__name__)
    return f"{name} ({', '.join(member.value for member in codes)})"
