"""Make values from connectors (Decimal, date, datetime, tuples) storable as JSON."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

_PLAIN = (str, int, float, bool, type(None))


def jsonable(value: Any) -> Any:
    if type(value) in _PLAIN:  # most values of a record: returned as they are, checked first
        return value
    if isinstance(value, (Decimal, date, datetime)):
        return value.isoformat() if isinstance(value, (date, datetime)) else str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value
