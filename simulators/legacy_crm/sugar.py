"""The generic shape (SugarCRM v4_1 style): ``login``, ``get_entry_list``, ``set_entry``.

Every value travels as text in ``name_value_list`` pairs; modules are the store's tables
under Sugar's names. A record's lines are a link (``line_items``): read through
``link_name_to_fields_array``; a module whose lines the outside may set (Shipments) takes
them in ``set_entry`` as one pair named after the link, its value a JSON array of objects
with the link's fields — how a Studio-built module with a lines TextArea stores them. ``query`` accepts only what this parser understands — conditions
``[table.]field OP 'value'`` joined by AND — anything else is a fault, never ignored.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree

from simulators.legacy_crm.envelope import Fault, local, to_python
from simulators.legacy_crm.store import CrmStore, StoreError

NS = "http://www.sugarcrm.com/sugarcrm"
WSDL = (Path(__file__).parent / "sugar.wsdl").read_text(encoding="utf-8")

#: module → (store table, its fields as Sugar names them)
MODULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "Accounts": ("accounts", (
        "id", "name", "vat_id_c", "email1", "phone_office", "billing_address_street",
        "billing_address_city", "billing_address_postalcode", "billing_address_country",
        "date_entered", "date_modified")),
    "Contacts": ("contacts", (
        "id", "first_name", "last_name", "email1", "phone_work", "account_id", "date_modified")),
    "Opportunities": ("opportunities", (
        "id", "name", "account_id", "sales_stage", "amount", "currency_id", "date_closed",
        "assigned_user_name", "lost_reason_c", "date_entered", "date_modified")),
    "Orders": ("orders", (
        "id", "order_number", "name", "account_id", "status", "order_date", "currency_id",
        "total_amount", "erp_number", "date_entered", "date_modified")),
    "Shipments": ("shipments", (
        "id", "name", "order_id", "status", "planned_date", "shipped_date", "date_entered", "date_modified")),
    "Cases": ("cases", (
        "id", "case_number", "name", "account_id", "status", "priority", "date_entered",
        "date_closed_c", "date_modified")),
}
LINKS = {
    ("Orders", "line_items"): ("id", "product_code", "name", "product_qty", "product_unit_price"),
    # named like the hub's shipment lines: the module was built for the hub's deliveries
    ("Shipments", "line_items"): ("order_line", "product", "quantity"),
}
#: Links set_entry takes as a JSON pair (module → link name).
WRITABLE_LINKS = {"Shipments": "line_items"}
LISTS = frozenset({"item"})
_CONDITION = re.compile(r"^\s*(?:(\w+)\.)?(\w+)\s*(>=|<=|=|>|<)\s*'([^']*)'\s*$")
_ORDER = re.compile(r"^\s*(?:(\w+)\.)?(\w+)(?:\s+(ASC))?\s*$", re.IGNORECASE)


def wsdl(location: str) -> bytes:
    return WSDL.replace("{location}", location).encode()


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (date, Decimal)):
        return str(value)
    return str(value)


def handle(store: CrmStore, request: etree._Element) -> etree._Element:
    operation = local(request)
    args = to_python(request, LISTS)
    args = args if isinstance(args, dict) else {}
    if operation == "login":
        return _respond("login", _entry(_login(store, args), "Users", {}))
    if operation not in ("get_entry_list", "set_entry"):
        raise Fault(f"unknown operation {operation!r}")
    if args.get("session") not in store.sessions:
        raise Fault("Invalid Session ID", "soap:Client.InvalidSession")
    module = args.get("module_name") or ""
    if module not in MODULES:
        raise Fault(f"module {module!r} does not exist (modules: {', '.join(MODULES)})")
    try:
        if operation == "get_entry_list":
            return _get_entry_list(store, module, args)
        return _set_entry(store, module, args)
    except StoreError as exc:
        raise Fault(str(exc)) from None


def _login(store: CrmStore, args: dict[str, Any]) -> str:
    auth = args.get("user_auth") or {}
    password = store.users.get(auth.get("user_name", "")) if isinstance(auth, dict) else None
    # Sugar's clients send the MD5 of the password, never the password itself.
    if password is None or hashlib.md5(password.encode()).hexdigest() != auth.get("password"):
        raise Fault("Invalid Login", "soap:Client.InvalidLogin")
    session = uuid.uuid4().hex
    with store.lock:
        store.sessions.add(session)
    return session


def _where(module: str, query: str) -> list[tuple[str, str, str]]:
    table, fields = MODULES[module]
    out = []
    for part in re.split(r"\s+AND\s+", query.strip(), flags=re.IGNORECASE) if query.strip() else []:
        match = _CONDITION.match(part)
        if not match or (match[1] and match[1] != table) or match[2] not in fields:
            raise Fault(f"unsupported query {query!r}: cannot read {part.strip()!r} "
                        f"(conditions are [{table}.]field OP 'value' joined by AND)")
        out.append((match[2], match[3], match[4]))
    return out


def _order(module: str, order_by: str) -> list[str] | None:
    """The sort keys, as SuiteCRM takes ``order_by``: bare field names only. A qualified one
    (``accounts.id``) is dropped without a word, as the real API does; with no order left the
    rows come back in no particular order (None), so offset paging repeats and skips rows."""
    _table, fields = MODULES[module]
    keys = []
    for part in order_by.split(",") if order_by.strip() else []:
        match = _ORDER.match(part)
        if match and match[1]:
            continue  # qualified: silently dropped
        if not match or match[2] not in fields:
            raise Fault(f"unsupported order_by {order_by!r} (fields of {module}, ascending)")
        keys.append(match[2])
    return [*keys, "id"] if keys else None


def _get_entry_list(store: CrmStore, module: str, args: dict[str, Any]) -> etree._Element:
    table, fields = MODULES[module]
    order = _order(module, args.get("order_by") or "")
    rows = store.select(table, _where(module, args.get("query") or ""), order or ("id",))
    if order is None:  # the database's own order, which differs from one query to the next
        random.Random(len(store.calls)).shuffle(rows)
    offset, limit = int(args.get("offset") or 0), min(int(args.get("max_results") or 20), 1000)
    page = rows[offset: offset + limit]
    selected = [f for f in _items(args.get("select_fields")) if f] or list(fields)
    unknown = sorted(set(selected) - set(fields))
    if unknown:
        raise Fault(f"{module} has no field(s) {', '.join(unknown)}")
    links = {link["name"]: _items(link.get("value")) for link in _items(args.get("link_name_to_fields_array"))}
    result = etree.Element(f"{{{NS}}}return")
    for name, value in (("result_count", len(page)), ("total_count", len(rows)), ("next_offset", offset + len(page))):
        etree.SubElement(result, f"{{{NS}}}{name}").text = str(value)
    entries = etree.SubElement(result, f"{{{NS}}}entry_list")
    relationships = etree.SubElement(result, f"{{{NS}}}relationship_list")
    for row in page:
        entries.append(_entry(row["id"], module, {f: row.get(f) for f in selected}, "item"))
        link_list = etree.SubElement(relationships, f"{{{NS}}}item")
        for name, wanted in links.items():
            known = LINKS.get((module, name))
            if known is None:
                raise Fault(f"{module} has no link {name!r}")
            link = etree.SubElement(link_list, f"{{{NS}}}item")
            etree.SubElement(link, f"{{{NS}}}name").text = name
            records = etree.SubElement(link, f"{{{NS}}}records")
            for line in row.get("lines") or []:
                records.append(_pairs("item", {f: line.get(f) for f in (wanted or known)}))
    return _respond("get_entry_list", result)


def _set_entry(store: CrmStore, module: str, args: dict[str, Any]) -> etree._Element:
    table, fields = MODULES[module]
    values = {pair.get("name"): pair.get("value") for pair in _items(args.get("name_value_list"))}
    link = WRITABLE_LINKS.get(module)
    if link in values:
        values["lines"] = _json_lines(module, link, values.pop(link))
    unknown = sorted(set(values) - set(fields) - {"lines"})
    if unknown:
        raise Fault(f"{module} has no field(s) {', '.join(map(str, unknown))}")
    values.pop("date_modified", None)
    if values.get("id") and values["id"] not in store.tables[table]:
        raise Fault(f"{module} record {values['id']!r} does not exist")
    row = store.save(table, values)
    result = etree.Element(f"{{{NS}}}return")
    etree.SubElement(result, f"{{{NS}}}id").text = row["id"]
    return _respond("set_entry", result)


def _json_lines(module: str, link: str, value: Any) -> list[dict[str, Any]]:
    """The lines of a ``set_entry`` pair: a JSON array of objects with the link's fields only."""
    known = LINKS[(module, link)]
    try:
        lines = json.loads(value or "[]")
    except json.JSONDecodeError as exc:
        raise Fault(f"{module} {link}: not JSON ({exc})") from None
    if not isinstance(lines, list) or not all(isinstance(line, dict) for line in lines):
        raise Fault(f"{module} {link}: expected a JSON array of objects")
    for number, line in enumerate(lines, 1):
        unknown = sorted(set(line) - set(known))
        if unknown:
            raise Fault(f"{module} {link} line {number}: no field(s) {', '.join(unknown)} (fields: {', '.join(known)})")
    return lines


def _items(value: Any) -> list[Any]:
    """A Sugar array (``<x><item/>…</x>``) as a list."""
    if isinstance(value, dict):
        items = value.get("item", [])
        return items if isinstance(items, list) else [items]
    return []


def _pairs(tag: str, values: dict[str, Any]) -> etree._Element:
    out = etree.Element(f"{{{NS}}}{tag}")
    for name, value in values.items():
        item = etree.SubElement(out, f"{{{NS}}}item")
        etree.SubElement(item, f"{{{NS}}}name").text = name
        etree.SubElement(item, f"{{{NS}}}value").text = text(value)
    return out


def _entry(entry_id: str, module: str, values: dict[str, Any], tag: str = "return") -> etree._Element:
    entry = etree.Element(f"{{{NS}}}{tag}")
    etree.SubElement(entry, f"{{{NS}}}id").text = entry_id
    etree.SubElement(entry, f"{{{NS}}}module_name").text = module
    entry.append(_pairs("name_value_list", values))
    return entry


def _respond(operation: str, result: etree._Element) -> etree._Element:
    response = etree.Element(f"{{{NS}}}{operation}Response", nsmap={None: NS})
    response.append(result)
    return response
