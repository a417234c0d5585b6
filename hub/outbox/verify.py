"""Did a write take effect? Read the record back and compare it with what was sent.

A system can answer a write with "ok" and store something else: a SOAP server that drops the
values of an array it cannot decode stores an account with every field empty; a dropdown
refuses a code and keeps its old value. So after a write the record is read back where the
connector can (``Connector.read_one``), mapped with the target's own field map
(``mappings/connectors/<mapping>.yaml``) to the hub's fields, and compared field by field:

* only the fields the target holds: those its field map reads for that stream, less the fields
  it decides itself (``ownership`` in ``routes.yaml``: an ERP computes totals and states), less
  each system's own numbering (``number``: every system numbers its records itself) and the
  hub's bookkeeping (``hub_ref``, ``refs``, ``ids``); the connection setting ``verify_fields``
  (``{stream: [field, …]}``) names them instead where that rule does not fit;
* only plain values that were sent (lists such as order lines, and empty values, are not);
* in a lenient form (case, spaces and punctuation aside; numbers and dates by value), so a
  system's own formatting of a phone number is no difference.

A difference makes the delivery dead with ``field: sent 'x', read back 'y'``. A connector that
cannot read back says so in the delivery (``verified``: ``not verified: …``), never a silent ok;
the connection setting ``verify: false`` switches the read-back off (and says so too).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.base import Connector
from connectors.errors import ConnectorError, RecordError
from hub.sync.mapping import ConnectorMap, MappingError

#: Never compared: each system's own numbering and the hub's bookkeeping.
NOT_COMPARED = frozenset({"number", "hub_ref", "refs", "ids", "lines"})
VERIFIED = "read back equal"


@dataclass(frozen=True)
class Verdict:
    """``taken`` False: the write did not take effect (``note`` names the differences)."""

    taken: bool
    note: str


def verify_write(
    connector: Connector,
    field_map: ConnectorMap | str | None,
    stream: str,
    sent: Mapping[str, Any],
    external_id: str,
    owned: Collection[str] = (),
) -> Verdict:
    """Read ``stream`` record ``external_id`` back and compare it with ``sent`` (the hub's fields).

    ``field_map`` is the target's field map, or why there is none; ``owned`` the fields the
    target decides itself (not compared)."""
    settings = connector.settings
    if str(settings.get("verify", True)).lower() in ("false", "0", "no", "off"):
        return Verdict(True, "not verified: switched off (connection setting verify)")
    if not connector.can_read_one:
        return Verdict(True, f"not verified: the {connector.kind} connector cannot read a record back")
    if not isinstance(field_map, ConnectorMap):
        return Verdict(True, f"not verified: {field_map or 'no field map'}")
    if stream not in field_map.streams:
        return Verdict(True, f"not verified: the field map has no stream {stream!r} to read it back with")
    try:
        record = connector.read_one(stream, external_id)
    except (ConnectorError, RecordError, OSError) as exc:
        return Verdict(True, f"not verified: reading {stream} {external_id} back failed: {exc}")
    if record is None:
        return Verdict(False, f"the write did not take effect: {stream} {external_id} is not there when read back")
    try:
        held = field_map.apply(stream, record.data)
    except MappingError as exc:
        return Verdict(False, f"the write did not take effect as sent: reading {stream} {external_id} back: {exc}")
    wanted = (
        settings.get("verify_fields", {}).get(stream) if isinstance(settings.get("verify_fields"), Mapping) else None
    )
    if "*" in owned and not wanted:
        return Verdict(True, f"not verified: {connector.kind} target decides every field of it (ownership)")
    names = list(wanted) if wanted else [n for n in held if n not in NOT_COMPARED and n not in owned]
    diffs = [
        f"{n}: sent {sent[n]!r}, read back {held.get(n)!r}"
        for n in names
        if n in sent and n in held and _plain(sent[n]) and not _same(sent[n], held.get(n))
    ]
    if diffs:
        return Verdict(False, f"the write to {stream} {external_id} did not take effect: " + "; ".join(diffs))
    return Verdict(True, VERIFIED)


def _plain(value: Any) -> bool:
    """A value worth comparing: sent, and not a list or mapping."""
    return value is not None and value != "" and not isinstance(value, (list, tuple, dict))


def _same(sent: Any, held: Any) -> bool:
    if held is None or held == "":
        return False
    number = _number(sent), _number(held)
    if None not in number:
        return number[0] == number[1]
    if isinstance(sent, (date, datetime)) or isinstance(held, (date, datetime)):
        return _day(sent) == _day(held)
    return _loose(sent) == _loose(held)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        return Decimal(str(value))
    return None


def _day(value: Any) -> str:
    return value.isoformat()[:10] if isinstance(value, (date, datetime)) else str(value)[:10]


def _loose(value: Any) -> str:
    text = str(value).casefold()
    try:  # "100.00" read back for a sent 100
        return str(Decimal(text).normalize())
    except InvalidOperation:
        return re.sub(r"[\W_]+", "", text)
