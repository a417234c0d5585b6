"""Values from connectors made storable as JSON: ``connectors.jsonable`` (the webhook sender
uses it too, and connectors import nothing from the hub)."""

from connectors.jsonable import jsonable

__all__ = ["jsonable"]
