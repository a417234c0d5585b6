"""The canonical core: the hub's records and code lists, written down once.

``records``: a pydantic model per entity (customer, order with lines, shipment with lines,
invoice, payment, opportunity, service case). ``codes``: a ``StrEnum`` per code list. Field
maps, ``routes.yaml``, pipelines, the document store's columns, the API's order input, the
outbox payload and the status page take their names and values from here; ``hub mappings
check`` refuses what is not here.
"""

from hub.canonical.codes import (
    CLOSED_STAGES,
    CODE_LISTS,
    ENTERABLE_ORDER_STATUSES,
    GOODS_LEFT,
    CasePriority,
    CaseStatus,
    InvoiceStatus,
    LossReason,
    OrderStatus,
    SalesStage,
    ShipmentStatus,
    describe,
)
from hub.canonical.records import (
    CUSTOMER_FIELDS,
    RECORDS,
    STREAMS,
    Customer,
    DueDate,
    Invoice,
    Item,
    Opportunity,
    Order,
    OrderLine,
    Payment,
    Record,
    Ref,
    ServiceCase,
    Shipment,
    ShipmentLine,
    code_list,
    defaults,
    item_model,
    refs,
    validate,
)

__all__ = [
    "CLOSED_STAGES", "CODE_LISTS", "CUSTOMER_FIELDS", "ENTERABLE_ORDER_STATUSES", "GOODS_LEFT", "RECORDS",
    "STREAMS", "CasePriority", "CaseStatus", "Customer", "DueDate", "Invoice", "InvoiceStatus", "Item",
    "LossReason", "Opportunity", "Order", "OrderLine", "OrderStatus", "Payment", "Record", "Ref", "SalesStage",
    "ServiceCase", "Shipment", "ShipmentLine", "ShipmentStatus", "code_list", "defaults", "describe",
    "item_model", "refs", "validate",
]
