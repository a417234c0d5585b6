"""Xero's records ↔ the hub: what a read yields, what a write sends.

Reading keeps Xero's record (PascalCase keys, so ``mappings/connectors/accounting.yaml`` names
Xero's own fields) with two changes a field map cannot make itself:

* every ``/Date(1700000000000+0000)/`` becomes ISO-8601 text: keys ending in ``UTC`` are
  timestamps (``2023-11-14T22:13:20.000+00:00``), the others dates (``Date``, ``DueDate``);
* derived fields: ``PrimaryAddress`` (the STREET address, else the first non-empty one),
  ``PrimaryPhone`` (the DEFAULT phone, else MOBILE, else DDI, as one string) and on invoices
  ``DueDates`` (``[{Date, Amount}]`` from ``DueDate`` and ``AmountDue``).

Writing turns the hub's canonical fields into Xero payloads (``contact``, ``invoice``,
``payment``); a value Xero cannot hold is a ``RecordError``, never dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from connectors.base import SourceRecord
from connectors.errors import RecordError

ID_FIELDS = {"customers": "ContactID", "invoices": "InvoiceID", "payments": "PaymentID"}
STATUS_TO_XERO = {"draft": "DRAFT", "submitted": "SUBMITTED", "open": "AUTHORISED", "cancelled": "VOIDED"}
_MS_DATE = re.compile(r"^/Date\((-?\d+)(?:[+-]\d{4})?\)/$")


def parse_xero_date(text: str) -> datetime | None:
    """``/Date(ms±hhmm)/`` → an aware UTC datetime (the offset only tells the writer's zone;
    the milliseconds are UTC), None when the text is not in that form."""
    match = _MS_DATE.match(text)
    return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC) if match else None


def _iso_dates(value: Any, key: str = "") -> Any:
    if isinstance(value, Mapping):
        return {k: _iso_dates(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso_dates(v, key) for v in value]
    if isinstance(value, str) and value.startswith("/Date("):
        stamp = parse_xero_date(value)
        if stamp is None:
            raise ValueError(f"{key} {value!r} is not a /Date(ms)/ value")
        return stamp.isoformat(timespec="milliseconds") if key.endswith("UTC") else stamp.date().isoformat()
    return value


def _primary(entries: Any, kind: str, order: tuple[str, ...], fields: tuple[str, ...]) -> Mapping[str, Any] | None:
    filled = [e for e in entries or [] if isinstance(e, Mapping) and any(e.get(f) for f in fields)]
    for wanted in order:
        for entry in filled:
            if entry.get(kind) == wanted:
                return entry
    return filled[0] if filled else None


def _phone_text(phone: Mapping[str, Any] | None) -> str | None:
    if not phone:
        return None
    country = str(phone.get("PhoneCountryCode") or "").strip().lstrip("+")
    parts = [
        f"+{country}" if country else "",
        str(phone.get("PhoneAreaCode") or "").strip(),
        str(phone.get("PhoneNumber") or "").strip(),
    ]
    return " ".join(p for p in parts if p) or None


def source_record(stream: str, raw: Mapping[str, Any]) -> SourceRecord:
    """One record of a list answer; an unreadable one carries ``error`` (a dead letter)."""
    id_field = ID_FIELDS[stream]
    external_id = str(raw.get(id_field) or "") if isinstance(raw, Mapping) else ""
    try:
        if not external_id:
            raise ValueError(f"it has no {id_field}")
        data = _iso_dates(raw)
        cursor = data.get("UpdatedDateUTC")
        if not cursor:
            raise ValueError("it has no UpdatedDateUTC")
        if stream == "customers":
            address = _primary(
                data.get("Addresses"),
                "AddressType",
                ("STREET", "POBOX"),
                ("AddressLine1", "City", "PostalCode", "Country"),
            )
            data["PrimaryAddress"] = dict(address) if address else None
            data["PrimaryPhone"] = _phone_text(
                _primary(data.get("Phones"), "PhoneType", ("DEFAULT", "MOBILE", "DDI"), ("PhoneNumber",))
            )
        if stream == "invoices":
            due = data.get("DueDate")
            data["DueDates"] = [{"Date": due, "Amount": data.get("AmountDue")}] if due else []
    except (ValueError, TypeError, AttributeError) as exc:
        return SourceRecord(
            external_id or "(no id)", {"raw": raw}, error=f"accounting {stream}: unreadable record: {exc}"
        )
    return SourceRecord(external_id, data, cursor=cursor, version=cursor)


# --- writing ------------------------------------------------------------------------------------
def _day(value: Any, field: str) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        raise RecordError(f"accounting: {field} {value!r} is not a date") from None


def contact(data: Mapping[str, Any], current: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Canonical customer fields → a Contact; address fields merge into the current STREET address."""
    payload: dict[str, Any] = {}
    for ours, theirs in (("name", "Name"), ("email", "EmailAddress"), ("tax_id", "TaxNumber")):
        if ours in data:
            payload[theirs] = data[ours] or ""
    if "phone" in data:  # the whole number in PhoneNumber: Xero keeps what it is given
        payload["Phones"] = [
            {"PhoneType": "DEFAULT", "PhoneCountryCode": "", "PhoneAreaCode": "", "PhoneNumber": data["phone"] or ""}
        ]
    address_fields = {"street": "AddressLine1", "city": "City", "postcode": "PostalCode", "country": "Country"}
    if any(k in data for k in address_fields):
        street: Mapping[str, Any] = next(
            (a for a in (current or {}).get("Addresses") or [] if a.get("AddressType") == "STREET"), {}
        )
        payload["Addresses"] = [
            {
                **street,
                "AddressType": "STREET",
                **{theirs: data[ours] or "" for ours, theirs in address_fields.items() if ours in data},
            }
        ]
    return payload


def invoice(data: Mapping[str, Any], sales_account: str) -> dict[str, Any]:
    """Canonical invoice fields (+ optional ``reference``, ``lines``) → an ACCREC Invoice."""
    payload: dict[str, Any] = {"Type": "ACCREC"}
    for ours, theirs in (("number", "InvoiceNumber"), ("reference", "Reference"), ("currency", "CurrencyCode")):
        if data.get(ours):
            payload[theirs] = data[ours]
    if data.get("customer"):
        payload["Contact"] = {"ContactID": str(data["customer"])}
    if data.get("issued_on"):
        payload["Date"] = _day(data["issued_on"], "issued_on")
    due = sorted({_day(d.get("date"), "due_dates.date") for d in data.get("due_dates") or [] if d.get("date")})
    if len(due) > 1:
        raise RecordError(f"accounting: an invoice has one due date in Xero, not {len(due)} ({', '.join(due)})")
    if due:
        payload["DueDate"] = due[0]
    status = data.get("status")
    if status:
        if status not in STATUS_TO_XERO:
            raise RecordError(
                f"accounting: invoice status {status!r} cannot be written "
                f"(writable: {', '.join(STATUS_TO_XERO)}; 'paid' follows from payments)"
            )
        payload["Status"] = STATUS_TO_XERO[status]
    if data.get("lines"):
        payload["LineItems"] = [
            {
                "Description": line.get("description") or line.get("product") or "",
                "Quantity": Decimal(str(line.get("quantity") or 1)),
                "UnitAmount": Decimal(str(line.get("unit_price") or 0)),
                "AccountCode": sales_account,
            }
            for line in data["lines"]
        ]
    elif data.get("total") is not None:
        payload["LineItems"] = [
            {
                "Description": data.get("reference") or data.get("number") or "Invoice",
                "Quantity": Decimal(1),
                "UnitAmount": Decimal(str(data["total"])),
                "AccountCode": sales_account,
            }
        ]
    return payload


def payment(data: Mapping[str, Any], bank_account: str) -> dict[str, Any]:
    """Canonical payment fields → a Payment against the invoice (in the invoice's currency)."""
    if not data.get("invoice"):
        raise RecordError("accounting: a payment needs the invoice it pays")
    if data.get("amount") is None:
        raise RecordError("accounting: a payment needs an amount")
    payload: dict[str, Any] = {
        "Invoice": {"InvoiceID": str(data["invoice"])},
        "Account": {"Code": bank_account},
        "Amount": Decimal(str(data["amount"])),
        "Reference": data.get("reference") or "",
    }
    if data.get("paid_on"):
        payload["Date"] = _day(data["paid_on"], "paid_on")
    return payload
