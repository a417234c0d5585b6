"""The legacy CRM's data: accounts, contacts, opportunities, orders with lines, deliveries
(shipments with lines), service cases.

Field names are the CRM's own (SugarCRM style, which the generic service shows as they are;
the typed NAV-style service renames them, see ``nav.py``). Every change stamps
``date_modified`` (UTC, whole seconds, as the CRM stores it), which is what incremental reads
filter on. Bad data raises :class:`StoreError`; the services turn it into a SOAP fault.

The store can also be told to misbehave (:class:`Misbehaviour`), for tests of what a client
does with a broken or hostile answer.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

SALES_STAGES = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
)
ORDER_STATUSES = ("Draft", "Quote", "Confirmed", "In Progress", "Closed", "Cancelled")
CASE_STATUSES = ("Open_New", "Open_Assigned", "Pending_Input", "Closed_Closed", "Closed_Rejected")
CASE_PRIORITIES = ("P1", "P2", "P3", "P4")  # P1 urgent … P4 low
#: A custom module built (in Sugar's Studio) for the ERP's deliveries: its dropdown keys are
#: the hub's shipment codes, its records are written by the hub only.
SHIPMENT_STATUSES = ("planned", "picking", "packed", "shipped", "cancelled")

#: table → (id prefix, required fields, {field: allowed values}, {field: referenced table})
TABLES: dict[str, tuple[str, tuple[str, ...], dict[str, tuple[str, ...]], dict[str, str]]] = {
    "accounts": ("C", ("name",), {}, {}),
    "contacts": ("CT", ("last_name",), {}, {"account_id": "accounts"}),
    "opportunities": ("OP", ("name", "sales_stage"), {"sales_stage": SALES_STAGES}, {"account_id": "accounts"}),
    "orders": ("SO", ("order_number", "account_id", "status"), {"status": ORDER_STATUSES}, {"account_id": "accounts"}),
    "shipments": ("SH", ("name", "order_id", "status"), {"status": SHIPMENT_STATUSES}, {"order_id": "orders"}),
    "cases": (
        "CASE",
        ("name", "account_id", "status"),
        {"status": CASE_STATUSES, "priority": CASE_PRIORITIES},
        {"account_id": "accounts"},
    ),
}
DECIMALS = {"amount", "total_amount", "product_qty", "product_unit_price", "quantity"}
DATES = {"date_closed", "order_date", "date_entered", "date_closed_c", "planned_date", "shipped_date"}
#: Tables whose records carry child lines (``lines``).
WITH_LINES = frozenset({"orders", "shipments"})


class StoreError(ValueError):
    """Data the CRM refuses; the message is what the fault string says."""


@dataclass
class Misbehaviour:
    """Answer a call with something broken instead of the real response.

    ``malformed``: not XML; ``truncated``: XML cut off mid-element; ``xxe``: a DOCTYPE with
    external entities (a local file and an HTTP URL on this server, ``/xxe-probe``);
    ``bomb``: a billion-laughs entity expansion; ``fault``: a SOAP fault; ``unavailable``:
    HTTP 503 with an HTML body (no SOAP fault: a transport problem a client may retry).
    """

    kind: Literal["malformed", "truncated", "xxe", "bomb", "fault", "unavailable"]
    operation: str | None = None  # only calls of this operation; None: any call
    on_call: int = 1  # the n-th matching call (1: the next one) starts misbehaving …
    times: int | None = 1  # … for this many calls; None: until cleared
    xxe_file: str = "/etc/hostname"
    seen: int = 0


@dataclass
class CrmStore:
    users: dict[str, str] = field(default_factory=lambda: {"admin": "admin"})
    misbehaviour: Misbehaviour | None = None
    sessions: set[str] = field(default_factory=set)  # the generic shape's open login sessions
    probe_hits: int = 0  # requests to /xxe-probe: proof that nobody resolved an external entity
    calls: list[str] = field(default_factory=list)  # operations served, in order

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        self.tables: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in TABLES}
        self._numbers = itertools.count(1)

    # --- reading ---------------------------------------------------------------------------
    def get(self, table: str, record_id: str) -> dict[str, Any]:
        with self.lock:
            row = self.tables[_table(table)].get(record_id)
            if row is None:
                raise StoreError(f"{table} record {record_id!r} does not exist")
            return _copy(row)

    def select(
        self,
        table: str,
        where: Iterable[tuple[str, str, Any]] = (),
        order_by: Iterable[str] = ("id",),
    ) -> list[dict[str, Any]]:
        """Rows matching every ``(field, op, value)``; ops ``= > >= < <=``."""
        tests = list(where)
        with self.lock:
            rows = [_copy(r) for r in self.tables[_table(table)].values() if all(_test(r, *t) for t in tests)]
        keys = list(order_by)
        rows.sort(key=lambda r: tuple(_sort_key(r.get(k)) for k in keys))
        return rows

    # --- writing ---------------------------------------------------------------------------
    def save(self, table: str, values: Mapping[str, Any], when: datetime | None = None) -> dict[str, Any]:
        """Create (no ``id`` or an unknown one given by a seed) or update (known ``id``)."""
        prefix, required, choices, refs = TABLES[_table(table)]
        with self.lock:
            rows = self.tables[table]
            record_id = values.get("id") or None
            current = rows.get(record_id) if record_id else None
            row = {**(current or {}), **{k: _clean(k, v) for k, v in values.items() if k != "lines"}}
            if "lines" in values or current is None and table in WITH_LINES:
                row["lines"] = [{k: _clean(k, v) for k, v in line.items()} for line in values.get("lines") or []]
            for name in required:
                if row.get(name) in (None, ""):
                    raise StoreError(f"{table}: field {name!r} is required")
            for name, allowed in choices.items():
                if row.get(name) not in (None, "") and row[name] not in allowed:
                    raise StoreError(f"{table}: {name} {row[name]!r} is not one of: {', '.join(allowed)}")
            for name, target in refs.items():
                if row.get(name) and row[name] not in self.tables[target]:
                    raise StoreError(f"{table}: {name} {row[name]!r} is no known {target} record")
            if current is None:
                while not record_id or record_id in rows:
                    record_id = f"{prefix}{next(self._numbers):05d}"
                row["id"] = record_id
                row.setdefault("date_entered", (when or _now()).date())
            row["date_modified"] = (when or _now()).replace(microsecond=0, tzinfo=None)
            row["version"] = int((current or {}).get("version", 0)) + 1
            rows[row["id"]] = row
            return _copy(row)

    def seed(self, spread: timedelta = timedelta(minutes=10), **tables: Iterable[Mapping[str, Any]]) -> None:
        """Load rows (``accounts=[…], orders=[…]``, …), parents first. Rows without a
        ``date_modified`` get one in the past, ``spread`` apart, in the order given."""
        given = {name: list(rows) for name, rows in tables.items()}
        unknown = set(given) - set(TABLES)
        if unknown:
            raise StoreError(f"no such table(s): {', '.join(sorted(unknown))}")
        total = sum(len(rows) for rows in given.values())
        stamp = _now() - spread * (total + 1)
        for name in TABLES:  # parents first
            for values in given.get(name, []):
                stamp += spread
                when = values.get("date_modified")
                when = datetime.fromisoformat(str(when)) if when else stamp
                self.save(name, {k: v for k, v in values.items() if k != "date_modified"}, when)

    # --- misbehaving -----------------------------------------------------------------------
    def misbehave(self, kind: str, **options: Any) -> Misbehaviour:
        with self.lock:
            self.misbehaviour = Misbehaviour(kind, **options)  # type: ignore[arg-type]
            return self.misbehaviour

    def trick_for(self, operation: str) -> Misbehaviour | None:
        """The misbehaviour this call must show, if any (counts the call)."""
        with self.lock:
            self.calls.append(operation)
            trick = self.misbehaviour
            if trick is None or trick.operation not in (None, operation):
                return None
            trick.seen += 1
            if trick.seen < trick.on_call:
                return None
            if trick.times is not None and trick.seen >= trick.on_call + trick.times - 1:
                self.misbehaviour = None
            return trick


def _table(name: str) -> str:
    if name not in TABLES:
        raise StoreError(f"no such table {name!r}")
    return name


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _clean(name: str, value: Any) -> Any:
    """Values as the CRM keeps them: decimals and dates typed, empty text as None."""
    if value in (None, ""):
        return None
    try:
        if name in DECIMALS:
            return Decimal(str(value))
        if name in DATES and not isinstance(value, date):
            return date.fromisoformat(str(value)[:10])
    except (InvalidOperation, ValueError):
        raise StoreError(
            f"field {name!r}: {value!r} is not a valid {'number' if name in DECIMALS else 'date'}"
        ) from None
    return value


def _copy(row: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    if "lines" in out:
        out["lines"] = [dict(line) for line in out["lines"]]
    return out


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, "") if value is None else (1, value)


def _test(row: Mapping[str, Any], name: str, op: str, value: Any) -> bool:
    have = row.get(name)
    if have is None:
        return False
    if isinstance(have, datetime) and not isinstance(value, datetime):
        value = datetime.fromisoformat(str(value).replace("Z", "")).replace(tzinfo=None)
    return {
        "=": have == value,
        ">": have > value,
        ">=": have >= value,
        "<": have < value,
        "<=": have <= value,
    }[op]
