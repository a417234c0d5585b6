"""The finance simulator's books in memory: contacts, sales invoices and payments.

Records are kept in Xero's shape (PascalCase keys) with Python values (Decimal, date,
datetime); :meth:`Books.wire` turns one into the JSON Xero sends. Writes follow the rules Xero
enforces that a connector has to cope with: unique active contact names and sales invoice
numbers, the DRAFT → SUBMITTED → AUTHORISED flow, payments only against AUTHORISED invoices
and never above the amount due (the payment that settles an invoice marks it PAID), no edits
to a paid or voided invoice. A batch is all-or-nothing, as with Xero's default
``summarizeErrors=true``: one invalid item rejects the batch with messages per item.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterable, Mapping
from copy import deepcopy
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
#: A small chart of accounts: line items post to revenue, payments to a bank account.
ACCOUNTS = {
    "090": {"AccountID": str(uuid.uuid5(uuid.NAMESPACE_URL, "acct-090")), "Code": "090", "Type": "BANK"},
    "200": {"AccountID": str(uuid.uuid5(uuid.NAMESPACE_URL, "acct-200")), "Code": "200", "Type": "REVENUE"},
}
TAX_RATES = {"NONE": Decimal(0), "OUTPUT": Decimal("0.15")}
ID_FIELDS = {"Contacts": "ContactID", "Invoices": "InvoiceID", "Payments": "PaymentID"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


class Invalid(Exception):
    """One item broke a rule; Xero's words in ``messages``."""

    def __init__(self, *messages: str):
        super().__init__("; ".join(messages))
        self.messages = list(messages)


class ValidationFailed(Exception):
    """A batch was refused: ``elements`` pairs each refused item with its messages."""

    def __init__(self, elements: list[tuple[Mapping[str, Any], list[str]]]):
        super().__init__("; ".join(m for _item, messages in elements for m in messages))
        self.elements = elements


class BadQuery(ValueError):
    """A list request the simulator cannot answer (an unsupported ``where`` or ``order``)."""


# --- Xero's value formats ---------------------------------------------------------------------
def ms_date(value: date | datetime) -> str:
    """``/Date(1700000000000+0000)/``: milliseconds since the epoch, UTC."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    return f"/Date({int(value.timestamp() * 1000)}+0000)/"


def parse_day(value: Any, field: str) -> date:
    """A date as Xero accepts it: ``2026-11-22``, ``2026-11-22T00:00:00`` or ``/Date(ms)/``."""
    if isinstance(value, date):
        return value.date() if isinstance(value, datetime) else value
    text = str(value).strip()
    match = _MS_DATE.match(text)
    try:
        if match:
            return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC).date()
        return date.fromisoformat(text[:10])
    except ValueError:
        raise Invalid(f"{field} '{text}' is not a valid date") from None


def parse_stamp(text: str) -> datetime:
    """An ``If-Modified-Since`` value: ISO-8601 (UTC unless an offset is given) or an HTTP date."""
    from email.utils import parsedate_to_datetime

    text = text.strip()
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        try:
            stamp = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            raise BadQuery(f"If-Modified-Since '{text}' is not a date and time") from None
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def _money(value: Any, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise Invalid(f"{field} '{value}' is not a number") from None
    if not amount.is_finite():
        raise Invalid(f"{field} '{value}' is not a number")
    return amount


def _round(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _ref_id(value: Any, key: str) -> str | None:
    return str(value[key]) if isinstance(value, Mapping) and value.get(key) else None


# --- where clauses --------------------------------------------------------------------------
_CONDITION = re.compile(
    r'^\s*([A-Za-z][\w.]*)\s*==\s*(?:"([^"]*)"|Guid\("([0-9a-fA-F-]{36})"\)|(true|false)|(-?\d+(?:\.\d+)?))\s*$'
)


def compile_where(text: str) -> list[tuple[str, Any]]:
    """The part of Xero's ``where`` filter we speak: ``Path=="text"``, ``Path==Guid("…")``,
    ``Path==true`` or a number, joined by ``AND`` / ``&&``."""
    conditions = []
    for part in re.split(r"\s+AND\s+|\s*&&\s*", text.strip()):
        match = _CONDITION.match(part)
        if not match:
            raise BadQuery(f"cannot parse the where clause near '{part.strip()}'")
        path, text_value, guid, boolean, number = match.groups()
        if guid is not None:
            value: Any = guid.lower()
        elif boolean is not None:
            value = boolean == "true"
        elif number is not None:
            value = Decimal(number)
        else:
            value = text_value
        conditions.append((path, value))
    return conditions


def _get(record: Mapping[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value.lower() if isinstance(value, str) and len(value) == 36 and value.count("-") == 4 else value


class Books:
    """One organisation's books. All methods are thread-safe (one lock; the data is small)."""

    def __init__(self) -> None:
        self.contacts: dict[str, dict[str, Any]] = {}
        self.invoices: dict[str, dict[str, Any]] = {}
        self.payments: dict[str, dict[str, Any]] = {}
        self.lock = threading.RLock()
        self._last_stamp = datetime.fromtimestamp(0, UTC)
        self._next_number = 1

    def _table(self, collection: str) -> dict[str, dict[str, Any]]:
        return {"Contacts": self.contacts, "Invoices": self.invoices, "Payments": self.payments}[collection]

    def _stamp(self) -> datetime:
        """Now, in whole milliseconds as Xero stores it, and always later than the last stamp."""
        now = datetime.now(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        self._last_stamp = max(now, self._last_stamp + timedelta(milliseconds=1))
        return self._last_stamp

    # --- writing -------------------------------------------------------------------------------
    def save(
        self,
        collection: str,
        items: Iterable[Mapping[str, Any]],
        *,
        target_id: str | None = None,
        allow_update: bool = True,
        updated: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Create or update items (an item naming an existing id updates it); all or nothing.

        ``target_id`` is the id in the URL (``POST /Invoices/{id}``); ``allow_update`` False is
        ``PUT`` (create only). ``updated`` backdates ``UpdatedDateUTC`` (seeding history).
        """
        items = list(items)
        with self.lock:
            # records are replaced, never changed in place, so copies of the tables restore them
            snapshot = (
                dict(self.contacts),
                dict(self.invoices),
                dict(self.payments),
                self._next_number,
                self._last_stamp,
            )
            saved, refused = [], []
            for item in items:
                try:
                    saved.append(self._save_one(collection, item, target_id, allow_update, updated))
                except Invalid as exc:
                    refused.append((item, exc.messages))
            if refused:
                self.contacts, self.invoices, self.payments, self._next_number, self._last_stamp = snapshot
                raise ValidationFailed(refused)
            return [self.wire(collection, record) for record in saved]

    def _save_one(
        self,
        collection: str,
        item: Mapping[str, Any],
        target_id: str | None,
        allow_update: bool,
        updated: datetime | None,
    ) -> dict[str, Any]:
        if not isinstance(item, Mapping):
            raise Invalid(f"each item of {collection} must be an object")
        table = self._table(collection)
        record_id = target_id or item.get(ID_FIELDS[collection])
        existing = None
        if record_id:
            existing = table.get(str(record_id).lower())
            if existing is None:
                raise Invalid(f"{ID_FIELDS[collection]} '{record_id}' does not exist")
            if not allow_update:
                raise Invalid(f"{ID_FIELDS[collection]} '{record_id}' exists already; use POST to update it")
        saver = {"Contacts": self._contact, "Invoices": self._invoice, "Payments": self._payment}[collection]
        record = saver(item, deepcopy(existing) if existing else None)
        record["UpdatedDateUTC"] = updated or self._stamp()
        table[record[ID_FIELDS[collection]]] = record
        return record

    def _contact(self, item: Mapping[str, Any], record: dict[str, Any] | None) -> dict[str, Any]:
        record = record or {
            "ContactID": str(uuid.uuid4()),
            "ContactStatus": "ACTIVE",
            "Addresses": [],
            "Phones": [],
            "IsCustomer": False,
            "IsSupplier": False,
        }
        for key in (
            "Name",
            "FirstName",
            "LastName",
            "EmailAddress",
            "TaxNumber",
            "ContactNumber",
            "AccountNumber",
            "ContactStatus",
            "DefaultCurrency",
        ):
            if key in item:
                record[key] = item[key]
        for key, kind in (("Addresses", "AddressType"), ("Phones", "PhoneType")):
            for entry in item.get(key) or []:  # replaced per type, as Xero does
                record[key] = [e for e in record[key] if e.get(kind) != entry.get(kind)] + [dict(entry)]
        errors = []
        name = str(record.get("Name") or "").strip()
        if not name:
            errors.append("A contact name must be specified")
        elif any(
            c["Name"].strip().lower() == name.lower()
            and c["ContactStatus"] == "ACTIVE"
            and c["ContactID"] != record["ContactID"]
            for c in self.contacts.values()
        ):
            errors.append(
                f"The contact name {name} is already assigned to another contact. "
                "The contact name must be unique across all active contacts."
            )
        if record.get("EmailAddress") and not _EMAIL.match(str(record["EmailAddress"])):
            errors.append("Email address must be valid.")
        if record["ContactStatus"] not in ("ACTIVE", "ARCHIVED"):
            errors.append(f"ContactStatus '{record['ContactStatus']}' is not one of ACTIVE, ARCHIVED")
        if errors:
            raise Invalid(*errors)
        return record

    def _invoice_contact(self, value: Any) -> dict[str, Any]:
        """``Contact`` by ContactID, else by Name — an unknown name creates the contact, as in Xero."""
        contact_id, name = _ref_id(value, "ContactID"), _ref_id(value, "Name")
        if contact_id:
            contact = self.contacts.get(contact_id.lower())
            if contact is None:
                raise Invalid(f"The contact with ContactID '{contact_id}' could not be found")
            return contact
        if name:
            found = next((c for c in self.contacts.values() if c["Name"].lower() == name.lower()), None)
            if found:
                return found
            contact = self._contact({"Name": name}, None)
            contact["UpdatedDateUTC"] = self._stamp()
            self.contacts[contact["ContactID"]] = contact
            return contact
        raise Invalid("A Contact must be specified for this type of transaction")

    def _invoice(self, item: Mapping[str, Any], record: dict[str, Any] | None) -> dict[str, Any]:
        if record is not None:
            if record["Status"] in ("PAID", "VOIDED", "DELETED") or record["AmountPaid"]:
                raise Invalid(
                    "This document cannot be edited as it has a payment or credit note allocated to it."
                    if record["AmountPaid"]
                    else f"This document cannot be edited as it is {record['Status']}"
                )
        else:
            kind = item.get("Type")
            if kind not in ("ACCREC", "ACCPAY"):
                raise Invalid("Invoice Type must be specified" if not kind else f"Invoice Type '{kind}' is not valid")
            record = {
                "InvoiceID": str(uuid.uuid4()),
                "Type": kind,
                "Status": "DRAFT",
                "LineAmountTypes": "Exclusive",
                "LineItems": [],
                "CurrencyCode": "EUR",
                "Date": date.today(),
                "DueDate": None,
                "Reference": "",
                "AmountPaid": Decimal(0),
                "AmountCredited": Decimal(0),
                "FullyPaidOnDate": None,
                "HasAttachments": False,
            }
        errors: list[str] = []
        before = record["Status"]
        for key in ("Reference", "CurrencyCode", "LineAmountTypes"):
            if key in item:
                record[key] = item[key] or ""
        for key in ("Date", "DueDate"):
            if item.get(key):
                try:
                    record[key] = parse_day(item[key], key)
                except Invalid as exc:
                    errors += exc.messages
        if "Contact" in item or "ContactID" not in record:
            try:
                record["ContactID"] = self._invoice_contact(item.get("Contact"))["ContactID"]
            except Invalid as exc:
                errors += exc.messages
        if "LineItems" in item:
            try:
                record["LineItems"] = [self._line(line) for line in item["LineItems"] or []]
            except Invalid as exc:
                errors += exc.messages
        status = item.get("Status", record["Status"])
        allowed = {
            "DRAFT": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
            "SUBMITTED": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
            "AUTHORISED": {"AUTHORISED", "VOIDED"},
        }[before]
        if status not in allowed:
            errors.append(f"Invoice not of valid status for modification ({before} cannot become {status})")
        if status == "AUTHORISED":
            if not record["LineItems"]:
                errors.append("An approved invoice must have at least one line item")
            if record["DueDate"] is None:
                errors.append("Due Date must be specified for an approved invoice")
        number = item.get("InvoiceNumber", record.get("InvoiceNumber"))
        if record["Type"] == "ACCREC":
            if not number:
                number = f"INV-{self._next_number:04d}"
                self._next_number += 1
            elif any(
                i["InvoiceNumber"] == number and i["Type"] == "ACCREC" and i["InvoiceID"] != record["InvoiceID"]
                for i in self.invoices.values()
            ):
                errors.append("Invoice # must be unique.")
        if errors:
            raise Invalid(*errors)
        record["InvoiceNumber"], record["Status"] = number or "", status
        sub_total = sum((line["LineAmount"] for line in record["LineItems"]), Decimal(0))
        total_tax = sum((line["TaxAmount"] for line in record["LineItems"]), Decimal(0))
        record["SubTotal"], record["TotalTax"] = _round(sub_total), _round(total_tax)
        record["Total"] = _round(sub_total + total_tax)
        record["AmountDue"] = record["Total"] - record["AmountPaid"]
        if record["Type"] == "ACCREC":
            self.contacts[record["ContactID"]] = {**self.contacts[record["ContactID"]], "IsCustomer": True}
        return record

    def _line(self, line: Mapping[str, Any]) -> dict[str, Any]:
        quantity = _money(line.get("Quantity", 1), "Quantity")
        unit = _money(line.get("UnitAmount", 0), "UnitAmount")
        code, tax_type = str(line.get("AccountCode") or "200"), str(line.get("TaxType") or "NONE")
        if code not in ACCOUNTS or ACCOUNTS[code]["Type"] != "REVENUE":
            raise Invalid(f"Account code '{code}' is not a valid code for this document.")
        if tax_type not in TAX_RATES:
            raise Invalid(f"TaxType '{tax_type}' is not a valid tax type")
        amount = _round(quantity * unit)
        return {
            "LineItemID": str(line.get("LineItemID") or uuid.uuid4()),
            "Description": line.get("Description") or "",
            "Quantity": quantity,
            "UnitAmount": unit,
            "AccountCode": code,
            "TaxType": tax_type,
            "LineAmount": amount,
            "TaxAmount": _round(amount * TAX_RATES[tax_type]),
        }

    def _payment(self, item: Mapping[str, Any], record: dict[str, Any] | None) -> dict[str, Any]:
        if record is not None:  # Xero never edits a payment; it can only be deleted
            if item.get("Status") != "DELETED" or set(item) - {"Status", "PaymentID"}:
                raise Invalid("A payment cannot be edited, only deleted (Status DELETED)")
            if record["Status"] != "DELETED":
                record["Status"] = "DELETED"
                self._settle(record["InvoiceID"], -record["Amount"], record["Date"])
            return record
        invoice_id = _ref_id(item.get("Invoice"), "InvoiceID")
        number = _ref_id(item.get("Invoice"), "InvoiceNumber")
        invoice = (
            self.invoices.get(invoice_id.lower())
            if invoice_id
            else next((i for i in self.invoices.values() if number and i["InvoiceNumber"] == number), None)
        )
        if invoice is None:
            raise Invalid(
                "You must specify an existing invoice (Invoice.InvoiceID or InvoiceNumber) for a payment"
                if not (invoice_id or number)
                else f"Invoice '{invoice_id or number}' could not be found"
            )
        errors = []
        code = _ref_id(item.get("Account"), "Code")
        account = next(
            (
                a
                for a in ACCOUNTS.values()
                if a["Code"] == code or a["AccountID"] == _ref_id(item.get("Account"), "AccountID")
            ),
            None,
        )
        if account is None or account["Type"] != "BANK":
            errors.append(f"Account code '{code or ''}' is not a valid code for this document.")
        amount = Decimal(0)
        try:
            amount = _round(_money(item.get("Amount"), "Amount"))
        except Invalid as exc:
            errors += exc.messages
        if invoice["Status"] != "AUTHORISED":
            errors.append("Payments can only be made against Authorised documents")
        elif amount <= 0:
            errors.append("Payment amount must be greater than zero")
        elif amount > invoice["AmountDue"]:
            errors.append("Payment amount exceeds the amount outstanding on this document")
        try:
            paid_on = parse_day(item.get("Date") or date.today(), "Date")
        except Invalid as exc:
            errors += exc.messages
        if errors or account is None:
            raise Invalid(*errors)
        record = {
            "PaymentID": str(uuid.uuid4()),
            "Date": paid_on,
            "Amount": amount,
            "Reference": item.get("Reference") or "",
            "CurrencyRate": Decimal(1),
            "PaymentType": "ACCRECPAYMENT" if invoice["Type"] == "ACCREC" else "ACCPAYPAYMENT",
            "Status": "AUTHORISED",
            "IsReconciled": False,
            "AccountCode": account["Code"],
            "InvoiceID": invoice["InvoiceID"],
        }
        self._settle(invoice["InvoiceID"], amount, paid_on)
        return record

    def _settle(self, invoice_id: str, amount: Decimal, on: date) -> None:
        invoice = self.invoices[invoice_id] = dict(self.invoices[invoice_id])  # copy on write
        invoice["AmountPaid"] += amount
        invoice["AmountDue"] = invoice["Total"] - invoice["AmountPaid"]
        invoice["Status"] = "PAID" if invoice["AmountDue"] == 0 else "AUTHORISED"
        invoice["FullyPaidOnDate"] = on if invoice["Status"] == "PAID" else None
        invoice["UpdatedDateUTC"] = self._stamp()

    # --- reading -------------------------------------------------------------------------------
    def get(self, collection: str, key: str) -> dict[str, Any] | None:
        """By id; invoices also by number (``GET /Invoices/INV-0001`` works in Xero too)."""
        with self.lock:
            table = self._table(collection)
            record = table.get(key.lower())
            if record is None and collection == "Invoices":
                record = next((i for i in table.values() if i["InvoiceNumber"] == key), None)
            return self.wire(collection, record) if record else None

    def query(
        self,
        collection: str,
        *,
        where: str | None = None,
        since: datetime | None = None,
        order: str | None = None,
        ids: list[str] | None = None,
        numbers: list[str] | None = None,
        include_archived: bool = False,
        page: int | None = None,
        page_size: int = 100,
    ) -> tuple[list[dict[str, Any]], int]:
        """One page (or, without ``page``, all) of the filtered, ordered list in wire form, and
        how many records matched. Filters run on the stored record where it has the field, so
        only the page itself is turned into JSON."""
        conditions = compile_where(where) if where else []
        id_field = ID_FIELDS[collection]
        sort_key, descending = None, False
        if order:
            match = re.fullmatch(r"\s*(\w+)(?:\s+(ASC|DESC))?\s*", order, re.IGNORECASE)
            if not match:
                raise BadQuery(f"cannot order by '{order}'")
            sort_key, descending = match.group(1), (match.group(2) or "ASC").upper() == "DESC"
        wanted_ids = {i.lower() for i in ids or []}
        with self.lock:
            paid = self._payments_by_invoice()
            rows = [
                r
                for r in self._table(collection).values()
                if (since is None or r["UpdatedDateUTC"] >= since)
                and (collection != "Contacts" or include_archived or r["ContactStatus"] != "ARCHIVED")
                and (not wanted_ids or r[id_field] in wanted_ids)
                and (not numbers or r.get("InvoiceNumber") in numbers)
            ]
            if conditions:
                rows = [r for r in rows if self._matches(collection, r, conditions, paid)]
            if sort_key:
                rows.sort(
                    key=lambda r: (r.get(sort_key) is None, r.get(sort_key) or 0, r[id_field]), reverse=descending
                )
            chosen = rows if page is None else rows[(page - 1) * page_size : page * page_size]
            return [self.wire(collection, r, paid) for r in chosen], len(rows)

    def _matches(
        self,
        collection: str,
        record: Mapping[str, Any],
        conditions: list[tuple[str, Any]],
        paid: dict[str, list[dict[str, Any]]],
    ) -> bool:
        view: Mapping[str, Any] = record
        if any("." in path or path not in record for path, _value in conditions):
            view = self.wire(collection, record, paid)  # a path into an embedded reference
        return all(_get(view, path) == value for path, value in conditions)

    def _payments_by_invoice(self) -> dict[str, list[dict[str, Any]]]:
        index: dict[str, list[dict[str, Any]]] = {}
        for p in self.payments.values():
            if p["Status"] != "DELETED":
                index.setdefault(p["InvoiceID"], []).append(p)
        return index

    def wire(
        self, collection: str, record: Mapping[str, Any], paid: dict[str, list[dict[str, Any]]] | None = None
    ) -> dict[str, Any]:
        """A record as Xero's JSON has it (dates as ``/Date(ms+0000)/``, references embedded)."""
        out: dict[str, Any] = {
            k: [dict(e) for e in v] if isinstance(v, list) else v
            for k, v in record.items()
            if k not in ("ContactID", "InvoiceID", "AccountCode") or k == ID_FIELDS[collection]
        }
        for key in ("Date", "DueDate"):
            if isinstance(out.get(key), date):
                out[f"{key}String"] = out[key].isoformat() + "T00:00:00"
        for key, value in list(out.items()):
            if isinstance(value, date):
                out[key] = ms_date(value)
        if collection == "Invoices":
            contact = self.contacts[record["ContactID"]]
            out["Contact"] = {"ContactID": contact["ContactID"], "Name": contact["Name"]}
            out["Payments"] = [
                {
                    "PaymentID": p["PaymentID"],
                    "Date": ms_date(p["Date"]),
                    "Amount": p["Amount"],
                    "Reference": p["Reference"],
                }
                for p in (paid if paid is not None else self._payments_by_invoice()).get(record["InvoiceID"], [])
            ]
        if collection == "Payments":
            invoice = self.invoices[record["InvoiceID"]]
            contact = self.contacts[invoice["ContactID"]]
            out["Account"] = {"AccountID": ACCOUNTS[record["AccountCode"]]["AccountID"], "Code": record["AccountCode"]}
            out["Invoice"] = {
                "InvoiceID": invoice["InvoiceID"],
                "InvoiceNumber": invoice["InvoiceNumber"],
                "Type": invoice["Type"],
                "CurrencyCode": invoice["CurrencyCode"],
                "Contact": {"ContactID": contact["ContactID"], "Name": contact["Name"]},
            }
        return out  # fresh dicts and lists down to the leaves, which are immutable values
